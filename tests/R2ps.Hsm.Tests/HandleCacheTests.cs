using System.Security.Cryptography;
using R2ps.Crypto.Ec;

namespace R2ps.Hsm.Tests;

/// <summary>
/// A cached object handle is only a hint: after another worker destroys a key, a module may hand its handle to a new
/// object, possibly another owner's key. The key service re-checks the object's identity before every use.
/// </summary>
public sealed class HandleCacheTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[] Hash = SHA256.HashData("handle cache"u8);

    [Fact]
    public async Task A_key_deleted_by_another_worker_is_not_found_through_the_stale_cache()
    {
        var alice = SoftHsmFixture.NewOwner();
        var first = new HsmKeyService(hsm.Connection);
        var otherWorker = new HsmKeyService(hsm.Connection); // its own cache, like another worker's
        var key = await first.GenerateKeyAsync(alice, EcCurve.P256, Ct);
        await first.SignHashAsync(alice, key.Kid, Hash, Ct); // cached in the first service

        await otherWorker.DeleteKeyAsync(alice, key.Kid, Ct);

        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => first.SignHashAsync(alice, key.Kid, Hash, Ct));
        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => first.GetKeyAsync(alice, key.Kid, Ct));
        Assert.Null(first.CachedHandle(key.Kid));
    }

    [Fact]
    public async Task A_reused_handle_naming_another_owners_key_is_not_used_to_sign()
    {
        var (keys, alice, aliceKid, mallory, malloryKid) = await AliceHandleNowNamesMallorysKeyAsync();

        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => keys.SignHashAsync(alice, aliceKid, Hash, Ct));
        Assert.Null(keys.CachedHandle(aliceKid));
        Assert.Equal(malloryKid, Assert.Single(await keys.ListKeysAsync(mallory, cancellationToken: Ct)).Kid);
    }

    [Fact]
    public async Task A_reused_handle_naming_another_owners_key_is_not_used_to_delete()
    {
        var (keys, alice, aliceKid, mallory, malloryKid) = await AliceHandleNowNamesMallorysKeyAsync();

        await Assert.ThrowsAsync<HsmKeyNotFoundException>(() => keys.DeleteKeyAsync(alice, aliceKid, Ct));

        // Mallory's key was not destroyed on Alice's behalf.
        Assert.Equal(malloryKid, Assert.Single(await keys.ListKeysAsync(mallory, cancellationToken: Ct)).Kid);
        Assert.NotEmpty(await keys.SignHashAsync(mallory, malloryKid, Hash, Ct));
    }

    [Fact]
    public async Task A_cached_handle_redirected_to_another_key_is_replaced_by_the_owners_own_key()
    {
        var alice = SoftHsmFixture.NewOwner();
        var mallory = SoftHsmFixture.NewOwner();
        var keys = new HsmKeyService(hsm.Connection);
        var aliceKey = await keys.GenerateKeyAsync(alice, EcCurve.P256, Ct);
        var malloryKey = await keys.GenerateKeyAsync(mallory, EcCurve.P256, Ct);
        keys.RedirectCachedHandle(aliceKey.Kid, keys.CachedHandle(malloryKey.Kid)!.Value);

        var signature = await keys.SignHashAsync(alice, aliceKey.Kid, Hash, Ct);

        using var aliceVerifier = ECDsa.Create(aliceKey.PublicKey.ToDotNet());
        Assert.True(aliceVerifier.VerifyHash(Hash, signature, DSASignatureFormat.Rfc3279DerSequence));
        Assert.NotEqual(keys.CachedHandle(malloryKey.Kid), keys.CachedHandle(aliceKey.Kid));
    }

    /// <summary>
    /// Alice's key deleted by another worker, and her cached handle pointed at Mallory's key, as a module that reuses
    /// object handles would leave it (SoftHSM2 does not reuse them, so the reuse is simulated).
    /// </summary>
    private async Task<(HsmKeyService Keys, string Alice, string AliceKid, string Mallory, string MalloryKid)> AliceHandleNowNamesMallorysKeyAsync()
    {
        var alice = SoftHsmFixture.NewOwner();
        var mallory = SoftHsmFixture.NewOwner();
        var keys = new HsmKeyService(hsm.Connection);
        var aliceKey = await keys.GenerateKeyAsync(alice, EcCurve.P256, Ct);
        var malloryKey = await keys.GenerateKeyAsync(mallory, EcCurve.P256, Ct);
        await new HsmKeyService(hsm.Connection).DeleteKeyAsync(alice, aliceKey.Kid, Ct);
        keys.RedirectCachedHandle(aliceKey.Kid, keys.CachedHandle(malloryKey.Kid)!.Value);
        return (keys, alice, aliceKey.Kid, mallory, malloryKey.Kid);
    }
}
