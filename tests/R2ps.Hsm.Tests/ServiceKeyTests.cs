using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Testing;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace R2ps.Hsm.Tests;

/// <summary>The server key as an <see cref="IEcPrivateKey"/>, key import, and seed 002's known answers.</summary>
public sealed class ServiceKeyTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // interop/r2ps-base-testkeys/p256.pem: the private key of seed 002's hsm_ecdh example (PROTOCOL.md 3).
    private const string SeedPem = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnRp3S/nXLiVccHZF
        Tj/ASnIZGhYccgVu24jIVllXjcWhRANCAAROkSBoewDZRNtKSfuElvcp++uUAxv6
        nvXkbD+rnHTVmBBlYvvFRFVgH0XD4HtMr4ZgxKEMliMuUq9rl/4qRPHf
        -----END PRIVATE KEY-----
        """;

    [Fact]
    public async Task Seed_002_ecdh_example_is_reproduced_with_the_imported_test_key()
    {
        // Seed 002 §4.3: request {"kid": "0294ddc3…", "public_key": "MFkw…"}, response ad91d860…. The public_key is
        // the SPKI of p256.pem, so the example's HSM key is the kid's point: d(p256.pem) · kid point gives the same x.
        var key = await HsmServiceKeys.ImportPemAsync(hsm.Connection, "seed-002-ecdh", SeedPem, Ct);
        var requestPublicKey = Base64Std("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETpEgaHsA2UTbSkn7hJb3KfvrlAMb+p715Gw/q5x01ZgQZWL7xURVYB9Fw+B7TK+GYMShDJYjLlKva5f+KkTx3w==");
        var kidPoint = EcPublicKey.FromSec1(EcCurve.P256, Hex.Decode("0294ddc3fd5554688bf619987b63bbb09b13e0d04b8a9da493309eef3f41767228"));

        Assert.Equal(requestPublicKey, key.PublicKey.ToSpki());
        Assert.Equal("ad91d860a109cce0e7d334813f434be8d44a21f8b3677cfe00c25fb572950687", Hex.Encode(await key.DeriveSharedSecretAsync(kidPoint, Ct)));
    }

    [Fact]
    public async Task Seed_002_ecdh_example_also_holds_through_the_hsm_ecdh_operation()
    {
        // The same scalar imported as a client key, used by the hsm_ecdh path with the kid point as SPKI peer.
        using var seedKey = SoftwareEcKey.FromPem(SeedPem);
        var owner = SoftHsmFixture.NewOwner();
        var kid = await ImportAsClientKeyAsync(owner, seedKey);
        var kidPoint = EcPublicKey.FromSec1(EcCurve.P256, Hex.Decode("0294ddc3fd5554688bf619987b63bbb09b13e0d04b8a9da493309eef3f41767228"));

        Assert.Equal("ad91d860a109cce0e7d334813f434be8d44a21f8b3677cfe00c25fb572950687", Hex.Encode(await hsm.Keys.DeriveSharedSecretAsync(owner, kid, kidPoint.ToSpki(), Ct)));
    }

    [Fact]
    public async Task Derive_shared_point_equals_the_software_key_on_the_same_scalar()
    {
        using var software = SoftwareEcKey.Generate(EcCurve.P256);
        var hsmKey = await HsmServiceKeys.ImportEcKeyAsync(hsm.Connection, "shared-point-" + Guid.NewGuid().ToString("N"), software, Ct);
        var g = EcCurve.P256.MultiplyGenerator(BcBigInteger.One);
        var peers = new List<EcPublicKey>
        {
            new(EcCurve.P256, g),                        // P = G
            new(EcCurve.P256, g.Negate()),               // P = −G: P + G is the identity, the special case
            new(EcCurve.P256, g.Twice()),                // P = 2G
            software.PublicKey,                          // P = Q
            new(EcCurve.P256, software.PublicKey.Point.Negate()),
        };
        for (var i = 0; i < 16; i++)
        {
            using var random = SoftwareEcKey.Generate(EcCurve.P256);
            peers.Add(random.PublicKey);
        }

        foreach (var peer in peers)
        {
            var expected = software.DeriveSharedPoint(peer);
            var actual = hsmKey.DeriveSharedPoint(peer);
            Assert.Equal(EcCurve.P256.EncodeUncompressed(expected), EcCurve.P256.EncodeUncompressed(actual));
            Assert.Equal(EcCurve.P256.EncodeUncompressed(expected), EcCurve.P256.EncodeUncompressed(await hsmKey.DeriveSharedPointAsync(peer, Ct)));
            Assert.Equal(software.DeriveSharedSecret(peer), hsmKey.DeriveSharedSecret(peer));
        }
    }

    // Found by the BFF fuzz target (issue 10 item 12): a valid HPKE enc, 04 21 c1…, got CKR_MECHANISM_PARAM_INVALID from
    // C_DeriveKey and the establishment an unauthenticated 500. The point was never the cause (SoftHSM2 takes it, as this
    // test shows): an undisposed mechanism's finalizer had freed its CK_ECDH1_DERIVE_PARAMS during the call
    // (MechanismLifetimeTests). The point stays as a test of a raw encoding whose first bytes look like DER.
    [Theory]
    [InlineData("0421c16b8565376c037b3e2df801af586a52941f7389a47173cdb10e678f7f0b352eb0d5738f56d7b5bbb55bc13912b7bbf4074c9c2e11e87f7e54b6166931658d")]
    public async Task Ecdh_with_a_peer_whose_raw_encoding_looks_like_der_matches_software(string peerHex)
    {
        using var software = SoftwareEcKey.Generate(EcCurve.P256);
        var hsmKey = await HsmServiceKeys.ImportEcKeyAsync(hsm.Connection, "der-lookalike-" + Guid.NewGuid().ToString("N"), software, Ct);
        var peer = EcPublicKey.FromSec1(EcCurve.P256, Hex.Decode(peerHex));

        Assert.Equal(software.DeriveSharedSecret(peer), await hsmKey.DeriveSharedSecretAsync(peer, Ct));
        Assert.Equal(EcCurve.P256.EncodeUncompressed(software.DeriveSharedPoint(peer)), EcCurve.P256.EncodeUncompressed(await hsmKey.DeriveSharedPointAsync(peer, Ct)));
    }

    [Theory]
    [InlineData("P-384")]
    [InlineData("P-521")]
    public async Task Derive_shared_point_works_on_the_larger_curves_too(string curveName)
    {
        var curve = EcCurve.FromName(curveName);
        using var software = SoftwareEcKey.Generate(curve);
        using var peer = SoftwareEcKey.Generate(curve);
        var hsmKey = await HsmServiceKeys.ImportEcKeyAsync(hsm.Connection, "shared-point-" + Guid.NewGuid().ToString("N"), software, Ct);

        Assert.Equal(curve.EncodeUncompressed(software.DeriveSharedPoint(peer.PublicKey)), curve.EncodeUncompressed(hsmKey.DeriveSharedPoint(peer.PublicKey)));
    }

    [Fact]
    public async Task Server_key_signs_raw_r_s_that_dotnet_verifies()
    {
        var key = await HsmServiceKeys.GetOrCreateServerKeyAsync(hsm.Connection, "server-" + Guid.NewGuid().ToString("N"), Ct);
        var hash = SHA256.HashData("{\"typ\":\"JOSE\",\"alg\":\"ES256\"}"u8);
        using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());

        var signature = await key.SignHashAsync(hash, Ct);
        var synchronous = key.SignHash(hash); // the IEcPrivateKey member protocol code calls

        Assert.Equal(64, signature.Length);
        Assert.True(verifier.VerifyHash(hash, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.True(verifier.VerifyHash(hash, synchronous, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public async Task Get_or_create_returns_the_same_server_key_every_time()
    {
        var label = "server-" + Guid.NewGuid().ToString("N");

        var first = await HsmServiceKeys.GetOrCreateServerKeyAsync(hsm.Connection, label, Ct);
        var second = await HsmServiceKeys.GetOrCreateServerKeyAsync(hsm.Connection, label, Ct);

        Assert.Equal(first.PublicKey, second.PublicKey);
        Assert.Same(EcCurve.P256, first.Curve);
        Assert.Equal(first.PublicKey, (await HsmServiceKeys.FindEcKeyAsync(hsm.Connection, label, Ct))!.PublicKey);
        Assert.Null(await HsmServiceKeys.FindEcKeyAsync(hsm.Connection, label + "-absent", Ct));
    }

    [Fact]
    public async Task The_java_interop_server_key_imports_from_pkcs12_and_matches_its_certificate()
    {
        var p12 = SharedFiles.ReadBytes("interop/java-recorded/server-key.p12");
        using var software = LoadP12Key(p12);
        var label = "interop-server-" + Guid.NewGuid().ToString("N");

        var key = await HsmServiceKeys.ImportPkcs12Async(hsm.Connection, label, p12, "Test1234", Ct);

        Assert.Equal(software.PublicKey, key.PublicKey);
        using var peer = SoftwareEcKey.Generate(EcCurve.P256);
        Assert.Equal(software.DeriveSharedSecret(peer.PublicKey), await key.DeriveSharedSecretAsync(peer.PublicKey, Ct));
        await Assert.ThrowsAsync<HsmInvalidRequestException>(() => HsmServiceKeys.ImportPkcs12Async(hsm.Connection, label + "-x", p12, "wrong", Ct));
    }

    [Fact]
    public async Task Import_is_idempotent_and_refuses_a_different_key_under_the_same_label()
    {
        using var key = SoftwareEcKey.Generate(EcCurve.P256);
        using var other = SoftwareEcKey.Generate(EcCurve.P256);
        var label = "import-" + Guid.NewGuid().ToString("N");
        var pkcs8 = key.ExportPkcs8();

        var first = await HsmServiceKeys.ImportPkcs8Async(hsm.Connection, label, pkcs8, Ct);
        var again = await HsmServiceKeys.ImportPkcs8Async(hsm.Connection, label, pkcs8, Ct);

        Assert.Equal(first.PublicKey, again.PublicKey);
        await Assert.ThrowsAsync<InvalidOperationException>(() => HsmServiceKeys.ImportEcKeyAsync(hsm.Connection, label, other, Ct));
        await Assert.ThrowsAsync<HsmInvalidRequestException>(() => HsmServiceKeys.ImportPkcs8Async(hsm.Connection, label + "-bad", pkcs8.AsMemory(..^1), Ct));
    }

    [Fact]
    public async Task Service_labels_cannot_impersonate_client_keys()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => HsmServiceKeys.GetOrCreateServerKeyAsync(hsm.Connection, "r2ps-client-key/1;created=1;owner=x", Ct));
    }

    private async Task<string> ImportAsClientKeyAsync(string owner, SoftwareEcKey key)
    {
        var label = ClientKeyLabel.Format(owner, 1750752597);
        await hsm.Connection.RunSerialisedAsync(session => HsmServiceKeys.CreateEcPrivateKey(session, key, label, token: true), Ct);
        return Hex.Encode(key.PublicKey.ToCompressed());
    }

    private static SoftwareEcKey LoadP12Key(byte[] p12)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12(p12, "Test1234", X509KeyStorageFlags.Exportable | X509KeyStorageFlags.EphemeralKeySet);
        using var ecdsa = certificate.GetECDsaPrivateKey()!;
        using var copy = ECDsa.Create();
        copy.ImportPkcs8PrivateKey(ecdsa.ExportPkcs8PrivateKey(), out _);
        return SoftwareEcKey.FromDotNet(copy);
    }

    private static byte[] Base64Std(string text) => Convert.FromBase64String(text);
}
