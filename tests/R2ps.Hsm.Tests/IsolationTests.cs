using System.Security.Cryptography;
using R2ps.Crypto.Ec;

namespace R2ps.Hsm.Tests;

/// <summary>PROTOCOL.md 1.4: a key belongs to the client that created it; bad input gets typed errors.</summary>
public sealed class IsolationTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[] Hash = SHA256.HashData("isolation"u8);

    [Fact]
    public async Task Another_owners_kid_is_not_found_for_any_operation_and_not_listed()
    {
        var alice = SoftHsmFixture.NewOwner();
        var mallory = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(alice, EcCurve.P256, Ct);
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.SignHashAsync(mallory, key.Kid, Hash, Ct));
        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.DeriveSharedSecretAsync(mallory, key.Kid, peer.ExportSubjectPublicKeyInfo(), Ct));
        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.DeleteKeyAsync(mallory, key.Kid, Ct));
        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.GetKeyAsync(mallory, key.Kid, Ct));
        Assert.Empty(await hsm.Keys.ListKeysAsync(mallory, cancellationToken: Ct));

        // Mallory's failed delete left Alice's key in place.
        Assert.Equal(key.Kid, Assert.Single(await hsm.Keys.ListKeysAsync(alice, cancellationToken: Ct)).Kid);
    }

    [Fact]
    public async Task A_foreign_kid_and_an_unknown_kid_fail_identically()
    {
        var alice = SoftHsmFixture.NewOwner();
        var mallory = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(alice, EcCurve.P256, Ct);
        using var unrelated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var unknownKid = Crypto.Encoding.Hex.Encode(Crypto.Keys.EcPublicKey.FromDotNet(unrelated.ExportParameters(false)).ToCompressed());

        var foreign = await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.SignHashAsync(mallory, key.Kid, Hash, Ct));
        var unknown = await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.SignHashAsync(mallory, unknownKid, Hash, Ct));

        Assert.Equal(unknown.Message, foreign.Message);
        Assert.DoesNotContain(alice, foreign.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cached_key_is_not_served_to_another_owner()
    {
        var alice = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(alice, EcCurve.P384, Ct);
        await hsm.Keys.SignHashAsync(alice, key.Kid, SHA384.HashData("warm the cache"u8), Ct);

        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.SignHashAsync(SoftHsmFixture.NewOwner(), key.Kid, Hash, Ct));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(47)]
    [InlineData(65)]
    public async Task A_hash_of_a_length_other_than_32_48_or_64_is_rejected(int length)
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);

        await Assert.ThrowsAsync<HsmInvalidRequestException>(() => hsm.Keys.SignHashAsync(owner, key.Kid, new byte[length], Ct));
        Assert.NotEmpty(await hsm.Keys.SignHashAsync(owner, key.Kid, Hash, Ct)); // the module keeps working
    }

    [Fact]
    public async Task A_peer_point_off_the_curve_is_rejected_and_the_module_keeps_working()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var spki = peer.ExportSubjectPublicKeyInfo();
        var offCurve = (byte[])spki.Clone();
        offCurve[^1] ^= 0x01; // y changed: (x, y') is not on P-256

        await Assert.ThrowsAsync<HsmInvalidRequestException>(() => hsm.Keys.DeriveSharedSecretAsync(owner, key.Kid, offCurve, Ct));
        await Assert.ThrowsAsync<HsmInvalidRequestException>(() => hsm.Keys.DeriveSharedSecretAsync(owner, key.Kid, spki.AsSpan(..^1).ToArray(), Ct));
        await Assert.ThrowsAsync<HsmInvalidRequestException>(() => hsm.Keys.DeriveSharedSecretAsync(owner, key.Kid, ReadOnlyMemory<byte>.Empty, Ct));
        Assert.Equal(32, (await hsm.Keys.DeriveSharedSecretAsync(owner, key.Kid, spki, Ct)).Length);
    }

    [Fact]
    public async Task A_peer_on_another_curve_is_rejected_and_the_module_keeps_working()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);
        using var p384Peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);

        var e = await Assert.ThrowsAsync<HsmInvalidRequestException>(() => hsm.Keys.DeriveSharedSecretAsync(owner, key.Kid, p384Peer.ExportSubjectPublicKeyInfo(), Ct));

        Assert.Contains("P-384", e.Message, StringComparison.Ordinal);
        Assert.NotEmpty(await hsm.Keys.SignHashAsync(owner, key.Kid, Hash, Ct));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not hex")]
    [InlineData("0294DDC3FD5554688BF619987B63BBB09B13E0D04B8A9DA493309EEF3F41767228")] // upper case
    [InlineData("0494ddc3fd5554688bf619987b63bbb09b13e0d04b8a9da493309eef3f41767228")] // not a compressed prefix
    [InlineData("0294ddc3fd5554688bf619987b63bbb09b13e0d04b8a9da493309eef3f417672")] // 32 bytes
    public async Task A_kid_that_is_not_a_compressed_point_in_lowercase_hex_is_rejected(string kid)
    {
        await Assert.ThrowsAsync<HsmInvalidRequestException>(() => hsm.Keys.SignHashAsync(SoftHsmFixture.NewOwner(), kid, Hash, Ct));
    }

    [Fact]
    public async Task An_empty_owner_is_rejected()
    {
        await Assert.ThrowsAsync<HsmInvalidRequestException>(() => hsm.Keys.GenerateKeyAsync("", EcCurve.P256, Ct));
        await Assert.ThrowsAsync<HsmInvalidRequestException>(() => hsm.Keys.ListKeysAsync("", cancellationToken: Ct));
    }

    [Fact]
    public async Task Owners_that_differ_only_after_a_separator_are_different_owners()
    {
        var owner = SoftHsmFixture.NewOwner() + ";owner=x";
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);

        Assert.Empty(await hsm.Keys.ListKeysAsync(owner[..^8], cancellationToken: Ct));
        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => hsm.Keys.SignHashAsync(owner[..^8], key.Kid, Hash, Ct));
        Assert.Equal(key.Kid, Assert.Single(await hsm.Keys.ListKeysAsync(owner, cancellationToken: Ct)).Kid);
    }
}
