namespace R2ps.Crypto.Tests.Hpke;

/// <summary>
/// RFC 9180 known answers for DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256: DeriveKeyPair of ikmR/ikmS/ikmE, the KEM
/// shared secret, the key schedule, every encryption (both roles) and every export.
/// </summary>
public class HpkeVectorTests
{
    private const string AllVectorsFile = "vectors/hpke_rfc9180_p256_hkdfsha256_modes0_2.json";
    private const string Aes256GcmFile = "vectors/hpke_rfc9180_p256_hkdfsha256_aes256gcm_modes0_2.json";

    public static TheoryData<string, int> SharedVectors()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in new[] { AllVectorsFile, Aes256GcmFile })
        {
            var count = HpkeTestVector.LoadAll(file).Count;
            for (var i = 0; i < count; i++) data.Add(file, i);
        }
        return data;
    }

    [Fact]
    public void Rfc9180_A_3_1_base_mode_vector_is_reproduced() =>
        HpkeVectorVerifier.Verify(HpkeRfcVectors.A31Base); // RFC 9180 App. A.3.1

    [Fact]
    public void Rfc9180_A_3_3_auth_mode_vector_is_reproduced() =>
        HpkeVectorVerifier.Verify(HpkeRfcVectors.A33Auth); // RFC 9180 App. A.3.3

    [Fact]
    public void Aes256gcm_auth_mode_vector_of_the_protocol_suite_is_reproduced() =>
        HpkeVectorVerifier.Verify(HpkeRfcVectors.Aes256GcmAuth); // RFC 9180 test-vectors.json, AES-256-GCM mode 2

    [Fact]
    public void Export_only_auth_mode_vector_is_reproduced_and_refuses_seal_and_open() =>
        HpkeVectorVerifier.Verify(HpkeRfcVectors.ExportOnlyAuth); // RFC 9180 test-vectors.json, Export-only mode 2

    [Fact]
    public void Written_out_vectors_equal_those_of_the_shared_json()
    {
        var shared = HpkeTestVector.LoadAll(AllVectorsFile);
        foreach (var written in new[] { HpkeRfcVectors.A31Base, HpkeRfcVectors.A33Auth, HpkeRfcVectors.Aes256GcmAuth, HpkeRfcVectors.ExportOnlyAuth })
        {
            var match = Assert.Single(shared, v => v.Name == written.Name);
            Assert.Equal(match, written with { Encryptions = match.Encryptions, Exports = match.Exports });
            Assert.All(written.Encryptions, e => Assert.Contains(e, match.Encryptions));
            Assert.Equal(written.Exports, match.Exports);
        }
    }

    [Fact]
    public void Shared_json_holds_all_six_p256_vectors_with_257_encryptions_each()
    {
        var shared = HpkeTestVector.LoadAll(AllVectorsFile);
        Assert.Equal(6, shared.Count);
        Assert.All(shared, v => Assert.Equal(v.Aead == R2ps.Crypto.Hpke.HpkeAead.ExportOnly ? 0 : 257, v.Encryptions.Count));
    }

    [Theory]
    [MemberData(nameof(SharedVectors))]
    public void Every_value_of_every_shared_vector_is_reproduced(string file, int index) =>
        HpkeVectorVerifier.Verify(HpkeTestVector.LoadAll(file)[index]);
}
