using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Protocol;
using R2ps.Wallet;

namespace R2ps.Service.Tests;

/// <summary>
/// The worker keeps a session's unsealed key instead of asking the HSM on every request (issue 9); the session's row
/// still decides, on every request, whether the session may be used.
/// </summary>
public sealed class SessionKeyCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTimeOffset Now = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);

    private static ServiceHarness WithCache() => new(new R2psServiceOptions { WorkerId = "test-worker", SessionKeyCacheCapacity = 100 });

    [Fact]
    public async Task A_session_key_is_unsealed_once_for_all_requests_of_its_session()
    {
        using var harness = WithCache();
        var (_, session) = await harness.LoggedInWalletAsync();
        using var _ = session;
        var kid = await session.GenerateKeyAsync(EcCurve.P256, Ct) is var curve && curve == EcCurve.P256.Name
            ? (await session.ListKeysAsync(cancellationToken: Ct)).Single().Kid
            : throw new InvalidOperationException(curve);
        var opensAfterFirstUse = harness.Hsm.OpenCount;

        for (var i = 0; i < 5; i++)
            await session.SignAsync(kid, SHA256.HashData([(byte)i]), Ct);

        Assert.Equal(opensAfterFirstUse, harness.Hsm.OpenCount);
    }

    [Fact]
    public async Task A_cached_key_does_not_outlive_its_session_expiry_or_its_close()
    {
        using var harness = WithCache();
        var (wallet, expiring) = await harness.LoggedInWalletAsync();
        using var _ = expiring;
        Assert.Empty(await expiring.ListKeysAsync(cancellationToken: Ct));

        harness.Time.Advance(expiring.ExpiresAt - harness.Time.GetUtcNow());
        var expired = await Assert.ThrowsAsync<R2psClientException>(() => expiring.ListKeysAsync(cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, expired.Code);

        using var closing = await wallet.LoginAsync(ServiceHarness.Pin, cancellationToken: Ct);
        Assert.Empty(await closing.ListKeysAsync(cancellationToken: Ct));
        // Ended on the service side (as the saga does for a revocation or a PIN change): the row says so, the cache is not asked.
        await harness.Sessions.CloseAsync(closing.PakeSessionId, "test", Ct);
        var closed = await Assert.ThrowsAsync<R2psClientException>(() => closing.ListKeysAsync(cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, closed.Code);
    }

    [Fact]
    public void An_entry_answers_only_for_the_exact_sealed_bytes_and_associated_data()
    {
        var cache = new SessionKeyCache(16);
        var key = RandomNumberGenerator.GetBytes(32);
        byte[] aad = [1, 2, 3], sealedKey = RandomNumberGenerator.GetBytes(60);
        cache.Add(aad, sealedKey, key, Now.AddMinutes(5), Now);

        Assert.True(cache.TryGet(aad, sealedKey, Now, out var found));
        Assert.Equal(key, found);
        var altered = (byte[])sealedKey.Clone();
        altered[^1] ^= 1;
        Assert.False(cache.TryGet(aad, altered, Now, out _));
        Assert.False(cache.TryGet([1, 2, 4], sealedKey, Now, out _));
        // Length-prefixed: moving a byte from the associated data to the sealed bytes is another entry.
        Assert.False(cache.TryGet([1, 2], [3, .. sealedKey], Now, out _));
    }

    [Fact]
    public void A_copy_is_handed_out_so_the_caller_zeroing_it_leaves_the_entry_intact()
    {
        var cache = new SessionKeyCache(16);
        var key = RandomNumberGenerator.GetBytes(32);
        cache.Add("a"u8, "s"u8, key, Now.AddMinutes(5), Now);

        Assert.True(cache.TryGet("a"u8, "s"u8, Now, out var first));
        CryptographicOperations.ZeroMemory(first);
        Assert.True(cache.TryGet("a"u8, "s"u8, Now, out var second));
        Assert.Equal(key, second);
    }

    [Fact]
    public void Expired_entries_miss_and_are_removed()
    {
        var cache = new SessionKeyCache(16);
        cache.Add("a"u8, "s"u8, new byte[32], Now.AddSeconds(10), Now);

        Assert.False(cache.TryGet("a"u8, "s"u8, Now.AddSeconds(10), out _));
        Assert.Equal(0, cache.Count);
        cache.Add("b"u8, "s"u8, new byte[32], Now, Now);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_full_cache_adds_nothing_until_entries_expire_and_capacity_zero_keeps_nothing()
    {
        var cache = new SessionKeyCache(2);
        cache.Add("a"u8, "1"u8, new byte[32], Now.AddSeconds(10), Now);
        cache.Add("a"u8, "2"u8, new byte[32], Now.AddMinutes(10), Now);
        cache.Add("a"u8, "3"u8, new byte[32], Now.AddMinutes(10), Now);
        Assert.False(cache.TryGet("a"u8, "3"u8, Now, out _));

        cache.Add("a"u8, "3"u8, new byte[32], Now.AddMinutes(10), Now.AddSeconds(11));
        Assert.True(cache.TryGet("a"u8, "3"u8, Now.AddSeconds(11), out _));
        Assert.False(cache.TryGet("a"u8, "1"u8, Now, out _));

        var off = new SessionKeyCache(0);
        off.Add("a"u8, "1"u8, new byte[32], Now.AddMinutes(10), Now);
        Assert.False(off.TryGet("a"u8, "1"u8, Now, out _));
    }
}
