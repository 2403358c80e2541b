using System.Security.Cryptography;
using R2ps.Crypto.Ec;

namespace R2ps.Hsm.Tests;

/// <summary>PROTOCOL.md 1.4: a key belongs to the client that created it; bad input gets typed errors.</summary>
public sealed class IsolationTests(SoftHsmFixture hsm)
{
    private static readonly byte[] Hash = SHA256.HashData("isolation"u8);

    [Fact]
    public void Another_owners_kid_is_not_found_for_any_operation_and_not_listed()
    {
        var alice = SoftHsmFixture.NewOwner();
        var mallory = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(alice, EcCurve.P256);
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.SignHash(mallory, key.Kid, Hash));
        Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.DeriveSharedSecret(mallory, key.Kid, peer.ExportSubjectPublicKeyInfo()));
        Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.DeleteKey(mallory, key.Kid));
        Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.GetKey(mallory, key.Kid));
        Assert.Empty(hsm.Keys.ListKeys(mallory));

        // Mallory's failed delete left Alice's key in place.
        Assert.Equal(key.Kid, Assert.Single(hsm.Keys.ListKeys(alice)).Kid);
    }

    [Fact]
    public void A_foreign_kid_and_an_unknown_kid_fail_identically()
    {
        var alice = SoftHsmFixture.NewOwner();
        var mallory = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(alice, EcCurve.P256);
        using var unrelated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var unknownKid = Crypto.Encoding.Hex.Encode(Crypto.Keys.EcPublicKey.FromDotNet(unrelated.ExportParameters(false)).ToCompressed());

        var foreign = Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.SignHash(mallory, key.Kid, Hash));
        var unknown = Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.SignHash(mallory, unknownKid, Hash));

        Assert.Equal(unknown.Message, foreign.Message);
        Assert.DoesNotContain(alice, foreign.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cached_key_is_not_served_to_another_owner()
    {
        var alice = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(alice, EcCurve.P384);
        hsm.Keys.SignHash(alice, key.Kid, SHA384.HashData("warm the cache"u8));

        Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.SignHash(SoftHsmFixture.NewOwner(), key.Kid, Hash));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(47)]
    [InlineData(65)]
    public void A_hash_of_a_length_other_than_32_48_or_64_is_rejected(int length)
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, EcCurve.P256);

        Assert.Throws<HsmInvalidRequestException>(() => hsm.Keys.SignHash(owner, key.Kid, new byte[length]));
        Assert.NotEmpty(hsm.Keys.SignHash(owner, key.Kid, Hash)); // the module keeps working
    }

    [Fact]
    public void A_peer_point_off_the_curve_is_rejected_and_the_module_keeps_working()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, EcCurve.P256);
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var spki = peer.ExportSubjectPublicKeyInfo();
        var offCurve = (byte[])spki.Clone();
        offCurve[^1] ^= 0x01; // y changed: (x, y') is not on P-256

        Assert.Throws<HsmInvalidRequestException>(() => hsm.Keys.DeriveSharedSecret(owner, key.Kid, offCurve));
        Assert.Throws<HsmInvalidRequestException>(() => hsm.Keys.DeriveSharedSecret(owner, key.Kid, spki.AsSpan(..^1).ToArray()));
        Assert.Throws<HsmInvalidRequestException>(() => hsm.Keys.DeriveSharedSecret(owner, key.Kid, []));
        Assert.Equal(32, hsm.Keys.DeriveSharedSecret(owner, key.Kid, spki).Length);
    }

    [Fact]
    public void A_peer_on_another_curve_is_rejected_and_the_module_keeps_working()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, EcCurve.P256);
        using var p384Peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);

        var e = Assert.Throws<HsmInvalidRequestException>(() => hsm.Keys.DeriveSharedSecret(owner, key.Kid, p384Peer.ExportSubjectPublicKeyInfo()));

        Assert.Contains("P-384", e.Message, StringComparison.Ordinal);
        Assert.NotEmpty(hsm.Keys.SignHash(owner, key.Kid, Hash));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not hex")]
    [InlineData("0294DDC3FD5554688BF619987B63BBB09B13E0D04B8A9DA493309EEF3F41767228")] // upper case
    [InlineData("0494ddc3fd5554688bf619987b63bbb09b13e0d04b8a9da493309eef3f41767228")] // not a compressed prefix
    [InlineData("0294ddc3fd5554688bf619987b63bbb09b13e0d04b8a9da493309eef3f417672")] // 32 bytes
    public void A_kid_that_is_not_a_compressed_point_in_lowercase_hex_is_rejected(string kid)
    {
        Assert.Throws<HsmInvalidRequestException>(() => hsm.Keys.SignHash(SoftHsmFixture.NewOwner(), kid, Hash));
    }

    [Fact]
    public void An_empty_owner_is_rejected()
    {
        Assert.Throws<HsmInvalidRequestException>(() => hsm.Keys.GenerateKey("", EcCurve.P256));
        Assert.Throws<HsmInvalidRequestException>(() => hsm.Keys.ListKeys(""));
    }

    [Fact]
    public void Owners_that_differ_only_after_a_separator_are_different_owners()
    {
        var owner = SoftHsmFixture.NewOwner() + ";owner=x";
        var key = hsm.Keys.GenerateKey(owner, EcCurve.P256);

        Assert.Empty(hsm.Keys.ListKeys(owner[..^8]));
        Assert.Throws<HsmKeyNotFoundException>(() => hsm.Keys.SignHash(owner[..^8], key.Kid, Hash));
        Assert.Equal(key.Kid, Assert.Single(hsm.Keys.ListKeys(owner)).Kid);
    }
}
