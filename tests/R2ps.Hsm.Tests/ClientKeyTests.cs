using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm.Tests;

/// <summary>The hsm_* operations (PROTOCOL.md 1.4) on every curve, checked against .NET's own ECDSA and ECDH.</summary>
public sealed class ClientKeyTests(SoftHsmFixture hsm)
{
    public static TheoryData<string> Curves => new() { "P-256", "P-384", "P-521" };

    [Theory]
    [MemberData(nameof(Curves))]
    public void Generated_key_has_the_compressed_public_key_as_lowercase_hex_kid(string curveName)
    {
        var curve = EcCurve.FromName(curveName);
        var owner = SoftHsmFixture.NewOwner();

        var key = hsm.Keys.GenerateKey(owner, curve);

        Assert.Same(curve, key.Curve);
        Assert.Equal(curveName, key.CurveName);
        Assert.True(Hex.IsLowerHex(key.Kid, curve.CompressedPointSize));
        Assert.Equal(Hex.Encode(key.PublicKey.ToCompressed()), key.Kid);
        Assert.Contains(key.Kid[..2], new[] { "02", "03" });
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Generated_private_key_is_a_private_sensitive_non_extractable_token_object(string curveName)
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, EcCurve.FromName(curveName));

        var values = hsm.Connection.Run(session =>
        {
            using var template = new AttributeTemplate()
                .ULong(Ck.CKA_CLASS, Ck.CKO_PRIVATE_KEY)
                .Bytes(Ck.CKA_ID, Hex.Decode(key.Kid));
            var handle = Assert.Single(session.Module.FindObjects(session.Id, template, 8));
            return session.Module.GetAttributes(session.Id, handle,
                [Ck.CKA_TOKEN, Ck.CKA_PRIVATE, Ck.CKA_SENSITIVE, Ck.CKA_EXTRACTABLE, Ck.CKA_VALUE]);
        });

        Assert.Equal([Ck.True], values[0]!);
        Assert.Equal([Ck.True], values[1]!);
        Assert.Equal([Ck.True], values[2]!);
        Assert.Equal([Ck.False], values[3]!);
        Assert.Null(values[4]); // CKA_VALUE is sensitive: the module refuses to read it
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Signatures_over_every_hash_length_verify_with_dotnet_ecdsa(string curveName)
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, EcCurve.FromName(curveName));
        using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());

        foreach (var hash in new[] { SHA256.HashData("tbs"u8), SHA384.HashData("tbs"u8), SHA512.HashData("tbs"u8) })
        {
            var der = hsm.Keys.SignHash(owner, key.Kid, hash);

            // .NET applies ECDSA's own rule too: a hash longer than the order counts by its leftmost bits.
            Assert.True(verifier.VerifyHash(hash, der, DSASignatureFormat.Rfc3279DerSequence), $"{curveName}, {hash.Length}-byte hash");
            Assert.False(verifier.VerifyHash(SHA256.HashData("other"u8), der, DSASignatureFormat.Rfc3279DerSequence));
        }
    }

    [Fact]
    public void A_p256_signature_over_a_64_byte_hash_is_a_signature_over_its_leftmost_32_bytes()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, EcCurve.P256);
        var hash = SHA512.HashData("tbs"u8);
        using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());

        var der = hsm.Keys.SignHash(owner, key.Kid, hash);

        Assert.True(verifier.VerifyHash(hash.AsSpan(0, 32), der, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Ecdh_equals_dotnet_ecdh_on_the_same_points(string curveName)
    {
        var curve = EcCurve.FromName(curveName);
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, curve);
        using var peer = ECDiffieHellman.Create(curve.DotNetCurve);
        using var ours = ECDiffieHellman.Create(key.PublicKey.ToDotNet());

        var secret = hsm.Keys.DeriveSharedSecret(owner, key.Kid, peer.ExportSubjectPublicKeyInfo());

        Assert.Equal(curve.FieldSize, secret.Length);
        Assert.Equal(peer.DeriveRawSecretAgreement(ours.PublicKey), secret);
    }

    [Fact]
    public void List_reports_kid_curve_creation_time_and_spki_of_the_owners_keys_only()
    {
        var owner = SoftHsmFixture.NewOwner();
        var clock = new FixedTime(DateTimeOffset.FromUnixTimeSeconds(1750751069)); // seed 002 §2.3's creation_time
        var keys = new HsmKeyService(hsm.Connection, clock);
        var p384 = keys.GenerateKey(owner, EcCurve.P384);
        clock.Now = clock.Now.AddSeconds(1);
        var p256 = keys.GenerateKey(owner, EcCurve.P256);
        clock.Now = clock.Now.AddSeconds(1);
        var p521 = keys.GenerateKey(owner, EcCurve.P521);
        keys.GenerateKey(SoftHsmFixture.NewOwner(), EcCurve.P256);

        var listed = keys.ListKeys(owner);

        Assert.Equal([p384.Kid, p256.Kid, p521.Kid], listed.Select(k => k.Kid));
        Assert.Equal(["P-384", "P-256", "P-521"], listed.Select(k => k.CurveName));
        Assert.Equal([1750751069L, 1750751070L, 1750751071L], listed.Select(k => k.CreationTime));
        Assert.Equal(p256.PublicKey.ToSpki(), listed[1].PublicKeySpki());
        Assert.Equal(p256.PublicKey, Crypto.Keys.EcPublicKey.FromSpki(listed[1].PublicKeySpki()));
    }

    [Fact]
    public void List_filters_by_curve_and_an_empty_filter_means_all()
    {
        var owner = SoftHsmFixture.NewOwner();
        var p256 = hsm.Keys.GenerateKey(owner, EcCurve.P256);
        var p521 = hsm.Keys.GenerateKey(owner, EcCurve.P521);

        Assert.Equal([p521.Kid], hsm.Keys.ListKeys(owner, [EcCurve.P521]).Select(k => k.Kid));
        Assert.Empty(hsm.Keys.ListKeys(owner, [EcCurve.P384]));
        Assert.Equal(2, hsm.Keys.ListKeys(owner, []).Count);
        Assert.Equal(2, hsm.Keys.ListKeys(owner, null).Count);
        Assert.Contains(p256.Kid, hsm.Keys.ListKeys(owner, [EcCurve.P256, EcCurve.P384]).Select(k => k.Kid));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Deleted_key_is_gone_from_the_list_and_from_every_operation(string curveName)
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, EcCurve.FromName(curveName));

        hsm.Keys.DeleteKey(owner, key.Kid);

        Assert.Empty(hsm.Keys.ListKeys(owner));
        Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.SignHash(owner, key.Kid, new byte[32]));
        Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.DeleteKey(owner, key.Kid));
        // A second service instance (no cached handle) does not find it either.
        Assert.Throws<HsmKeyNotFoundException>(() => new HsmKeyService(hsm.Connection).GetKey(owner, key.Kid));
    }

    [Fact]
    public void A_stale_cached_handle_is_looked_up_again()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, EcCurve.P256);
        var other = new HsmKeyService(hsm.Connection);
        other.GetKey(owner, key.Kid); // caches the handle in the second instance

        hsm.Keys.DeleteKey(owner, key.Kid); // as if another worker deleted it

        Assert.Throws<HsmKeyNotFoundException>(() => other.SignHash(owner, key.Kid, new byte[32]));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
