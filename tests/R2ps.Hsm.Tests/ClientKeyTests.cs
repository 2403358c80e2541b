using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using Net.Pkcs11Interop.Common;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm.Tests;

/// <summary>The hsm_* operations (PROTOCOL.md 1.4) on every curve, checked against .NET's own ECDSA and ECDH.</summary>
public sealed class ClientKeyTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Curves => new() { "P-256", "P-384", "P-521" };

    [Theory]
    [MemberData(nameof(Curves))]
    public async Task Generated_key_has_the_compressed_public_key_as_lowercase_hex_kid(string curveName)
    {
        var curve = EcCurve.FromName(curveName);
        var owner = SoftHsmFixture.NewOwner();

        var key = await hsm.Keys.GenerateKeyAsync(owner, curve, Ct);

        Assert.Same(curve, key.Curve);
        Assert.Equal(curveName, key.CurveName);
        Assert.True(Hex.IsLowerHex(key.Kid, curve.CompressedPointSize));
        Assert.Equal(Hex.Encode(key.PublicKey.ToCompressed()), key.Kid);
        Assert.Contains(key.Kid[..2], new[] { "02", "03" });
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public async Task Generated_private_key_is_a_private_sensitive_non_extractable_token_object(string curveName)
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.FromName(curveName), Ct);

        var values = await hsm.Connection.RunAsync(session =>
        {
            var factory = session.Factories.ObjectAttributeFactory;
            var handle = Assert.Single(session.FindAllObjects(
                [factory.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY), factory.Create(CKA.CKA_ID, Hex.Decode(key.Kid))]));
            return Pkcs11Mechanisms.GetAttributes(session, handle,
                [CKA.CKA_TOKEN, CKA.CKA_PRIVATE, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_VALUE]);
        }, Ct);

        byte[] yes = [1], no = [0]; // CK_BBOOL
        Assert.Equal(yes, values[0]!);
        Assert.Equal(yes, values[1]!);
        Assert.Equal(yes, values[2]!);
        Assert.Equal(no, values[3]!);
        Assert.Null(values[4]); // CKA_VALUE is sensitive: the module refuses to read it
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public async Task Signatures_over_every_hash_length_verify_with_dotnet_ecdsa(string curveName)
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.FromName(curveName), Ct);
        using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());

        foreach (var hash in new[] { SHA256.HashData("tbs"u8), SHA384.HashData("tbs"u8), SHA512.HashData("tbs"u8) })
        {
            var der = await hsm.Keys.SignHashAsync(owner, key.Kid, hash, Ct);

            // .NET applies ECDSA's own rule too: a hash longer than the order counts by its leftmost bits.
            Assert.True(verifier.VerifyHash(hash, der, DSASignatureFormat.Rfc3279DerSequence), $"{curveName}, {hash.Length}-byte hash");
            Assert.False(verifier.VerifyHash(SHA256.HashData("other"u8), der, DSASignatureFormat.Rfc3279DerSequence));
        }
    }

    [Fact]
    public async Task A_p256_signature_over_a_64_byte_hash_is_a_signature_over_its_leftmost_32_bytes()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);
        var hash = SHA512.HashData("tbs"u8);
        using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());

        var der = await hsm.Keys.SignHashAsync(owner, key.Kid, hash, Ct);

        Assert.True(verifier.VerifyHash(hash.AsSpan(0, 32), der, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public async Task Ecdh_equals_dotnet_ecdh_on_the_same_points(string curveName)
    {
        var curve = EcCurve.FromName(curveName);
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, curve, Ct);
        using var peer = ECDiffieHellman.Create(curve.DotNetCurve);
        using var ours = ECDiffieHellman.Create(key.PublicKey.ToDotNet());

        var secret = await hsm.Keys.DeriveSharedSecretAsync(owner, key.Kid, peer.ExportSubjectPublicKeyInfo(), Ct);

        Assert.Equal(curve.FieldSize, secret.Length);
        Assert.Equal(peer.DeriveRawSecretAgreement(ours.PublicKey), secret);
    }

    [Fact]
    public async Task List_reports_kid_curve_creation_time_and_spki_of_the_owners_keys_only()
    {
        var owner = SoftHsmFixture.NewOwner();
        var clock = new FixedTime(DateTimeOffset.FromUnixTimeSeconds(1750751069)); // seed 002 §2.3's creation_time
        var keys = new HsmKeyService(hsm.Connection, clock);
        var p384 = await keys.GenerateKeyAsync(owner, EcCurve.P384, Ct);
        clock.Now = clock.Now.AddSeconds(1);
        var p256 = await keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);
        clock.Now = clock.Now.AddSeconds(1);
        var p521 = await keys.GenerateKeyAsync(owner, EcCurve.P521, Ct);
        await keys.GenerateKeyAsync(SoftHsmFixture.NewOwner(), EcCurve.P256, Ct);

        var listed = await keys.ListKeysAsync(owner, cancellationToken: Ct);

        Assert.Equal([p384.Kid, p256.Kid, p521.Kid], listed.Select(k => k.Kid));
        Assert.Equal(["P-384", "P-256", "P-521"], listed.Select(k => k.CurveName));
        Assert.Equal([1750751069L, 1750751070L, 1750751071L], listed.Select(k => k.CreationTime));
        Assert.Equal(p256.PublicKey.ToSpki(), listed[1].PublicKeySpki());
        Assert.Equal(p256.PublicKey, Crypto.Keys.EcPublicKey.FromSpki(listed[1].PublicKeySpki()));
    }

    [Fact]
    public async Task List_filters_by_curve_and_an_empty_filter_means_all()
    {
        var owner = SoftHsmFixture.NewOwner();
        var p256 = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);
        var p521 = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P521, Ct);

        Assert.Equal([p521.Kid], (await hsm.Keys.ListKeysAsync(owner, [EcCurve.P521], Ct)).Select(k => k.Kid));
        Assert.Empty(await hsm.Keys.ListKeysAsync(owner, [EcCurve.P384], Ct));
        Assert.Equal(2, (await hsm.Keys.ListKeysAsync(owner, [], Ct)).Count);
        Assert.Equal(2, (await hsm.Keys.ListKeysAsync(owner, null, Ct)).Count);
        Assert.Contains(p256.Kid, (await hsm.Keys.ListKeysAsync(owner, [EcCurve.P256, EcCurve.P384], Ct)).Select(k => k.Kid));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public async Task Deleted_key_is_gone_from_the_list_and_from_every_operation(string curveName)
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.FromName(curveName), Ct);

        await hsm.Keys.DeleteKeyAsync(owner, key.Kid, Ct);

        Assert.Empty(await hsm.Keys.ListKeysAsync(owner, cancellationToken: Ct));
        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.SignHashAsync(owner, key.Kid, new byte[32], Ct));
        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.DeleteKeyAsync(owner, key.Kid, Ct));
        // A second service instance (no cached handle) does not find it either.
        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => new HsmKeyService(hsm.Connection).GetKeyAsync(owner, key.Kid, Ct));
    }

    [Fact]
    public async Task A_stale_cached_handle_is_looked_up_again()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);
        var other = new HsmKeyService(hsm.Connection);
        await other.GetKeyAsync(owner, key.Kid, Ct); // caches the handle in the second instance

        await hsm.Keys.DeleteKeyAsync(owner, key.Kid, Ct); // as if another worker deleted it

        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => other.SignHashAsync(owner, key.Kid, new byte[32], Ct));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
