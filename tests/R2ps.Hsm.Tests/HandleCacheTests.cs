using System.Security.Cryptography;
using R2ps.Crypto.Ec;

namespace R2ps.Hsm.Tests;

/// <summary>
/// A cached object handle is only a hint: after another worker destroys a key, a module may hand its handle to a new
/// object, possibly another owner's key. The key service re-checks the object's identity before every use.
/// </summary>
public sealed class HandleCacheTests(SoftHsmFixture hsm)
{
    private static readonly byte[] Hash = SHA256.HashData("handle cache"u8);

    [Fact]
    public void A_key_deleted_by_another_worker_is_not_found_through_the_stale_cache()
    {
        var alice = SoftHsmFixture.NewOwner();
        var first = new HsmKeyService(hsm.Connection);
        var otherWorker = new HsmKeyService(hsm.Connection); // its own cache, like another worker's
        var key = first.GenerateKey(alice, EcCurve.P256);
        first.SignHash(alice, key.Kid, Hash); // cached in the first service

        otherWorker.DeleteKey(alice, key.Kid);

        Assert.Throws<HsmKeyNotFoundException>(() => first.SignHash(alice, key.Kid, Hash));
        Assert.Throws<HsmKeyNotFoundException>(() => first.GetKey(alice, key.Kid));
        Assert.Null(first.CachedHandle(key.Kid));
    }

    [Fact]
    public void A_reused_handle_naming_another_owners_key_is_not_used_to_sign()
    {
        var (keys, alice, aliceKid, mallory, malloryKid) = AliceHandleNowNamesMallorysKey();

        Assert.Throws<HsmKeyNotFoundException>(() => keys.SignHash(alice, aliceKid, Hash));
        Assert.Null(keys.CachedHandle(aliceKid));
        Assert.Equal(malloryKid, Assert.Single(keys.ListKeys(mallory)).Kid);
    }

    [Fact]
    public void A_reused_handle_naming_another_owners_key_is_not_used_to_delete()
    {
        var (keys, alice, aliceKid, mallory, malloryKid) = AliceHandleNowNamesMallorysKey();

        Assert.Throws<HsmKeyNotFoundException>(() => keys.DeleteKey(alice, aliceKid));

        // Mallory's key was not destroyed on Alice's behalf.
        Assert.Equal(malloryKid, Assert.Single(keys.ListKeys(mallory)).Kid);
        Assert.NotEmpty(keys.SignHash(mallory, malloryKid, Hash));
    }

    [Fact]
    public void A_cached_handle_redirected_to_another_key_is_replaced_by_the_owners_own_key()
    {
        var alice = SoftHsmFixture.NewOwner();
        var mallory = SoftHsmFixture.NewOwner();
        var keys = new HsmKeyService(hsm.Connection);
        var aliceKey = keys.GenerateKey(alice, EcCurve.P256);
        var malloryKey = keys.GenerateKey(mallory, EcCurve.P256);
        keys.RedirectCachedHandle(aliceKey.Kid, keys.CachedHandle(malloryKey.Kid)!.Value);

        var signature = keys.SignHash(alice, aliceKey.Kid, Hash);

        using var aliceVerifier = ECDsa.Create(aliceKey.PublicKey.ToDotNet());
        Assert.True(aliceVerifier.VerifyHash(Hash, signature, DSASignatureFormat.Rfc3279DerSequence));
        Assert.NotEqual(keys.CachedHandle(malloryKey.Kid), keys.CachedHandle(aliceKey.Kid));
    }

    /// <summary>
    /// Alice's key deleted by another worker, and her cached handle pointed at Mallory's key, as a module that reuses
    /// object handles would leave it (SoftHSM2 does not reuse them, so the reuse is simulated).
    /// </summary>
    private (HsmKeyService Keys, string Alice, string AliceKid, string Mallory, string MalloryKid) AliceHandleNowNamesMallorysKey()
    {
        var alice = SoftHsmFixture.NewOwner();
        var mallory = SoftHsmFixture.NewOwner();
        var keys = new HsmKeyService(hsm.Connection);
        var aliceKey = keys.GenerateKey(alice, EcCurve.P256);
        var malloryKey = keys.GenerateKey(mallory, EcCurve.P256);
        new HsmKeyService(hsm.Connection).DeleteKey(alice, aliceKey.Kid);
        keys.RedirectCachedHandle(aliceKey.Kid, keys.CachedHandle(malloryKey.Kid)!.Value);
        return (keys, alice, aliceKey.Kid, mallory, malloryKey.Kid);
    }
}
