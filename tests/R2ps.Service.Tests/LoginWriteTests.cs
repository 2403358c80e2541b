using R2ps.Protocol;
using R2ps.Wallet;

namespace R2ps.Service.Tests;

/// <summary>
/// A login's writes share commits (issue 9): an evaluate's nonce goes with its lockout charge, a finalize's lockout reset
/// with its audit record. Neither weakens the rules: a replay is refused as a replay and charges nothing, and a reset that
/// cannot be written leaves the failures counted (stricter), never a login refused after its session began.
/// </summary>
public class LoginWriteTests
{
    private const string NonceUsed = "The request nonce was already used.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_replayed_login_evaluate_or_finalize_is_refused_as_a_replay_and_charges_nothing()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync();
        var before = harness.Sent.Count;
        using var session = await wallet.LoginAsync(ServiceHarness.Pin, cancellationToken: Ct);
        var login = harness.Sent.Skip(before).ToArray(); // the evaluate, then the finalize

        Assert.Equal(2, login.Length);
        foreach (var envelope in login)
        {
            var replay = await harness.SendRawAsync(envelope);
            Assert.Equal((403, NonceUsed), (replay.Status, ServiceHarness.ReadError(replay).ErrorMessage));
        }
        Assert.Equal(0, harness.Store.FailuresOf(wallet.Device.ClientId, wallet.Device.Kid));
        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct)); // the session the finalize began still works
    }

    [Fact]
    public async Task A_replayed_evaluate_of_a_locked_key_is_refused_as_a_replay_not_as_locked()
    {
        using var harness = new ServiceHarness(maxLoginFailures: 2);
        var wallet = await harness.RegisteredWalletAsync();
        var before = harness.Sent.Count;
        await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("000000", cancellationToken: Ct));
        var evaluate = harness.Sent.Skip(before).First();
        await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("000001", cancellationToken: Ct));

        var replay = await harness.SendRawAsync(evaluate);

        // Step 8 before the handler's checks, as for any other request: the lock is not what a replay learns.
        Assert.Equal(NonceUsed, ServiceHarness.ReadError(replay).ErrorMessage);
        Assert.Equal(2, harness.Store.FailuresOf(wallet.Device.ClientId, wallet.Device.Kid));
    }

    [Fact]
    public async Task When_the_reset_cannot_be_written_the_login_stands_and_its_failures_stay_counted()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync();
        await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("000000", cancellationToken: Ct));
        harness.Store.BeforeReset = _ => throw new InvalidOperationException("the database is down");

        using var session = await wallet.LoginAsync(ServiceHarness.Pin, cancellationToken: Ct);

        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));
        // The wrong PIN and this login's own charge: a reset and its audit record are written together or not at all.
        Assert.Equal(2, harness.Store.FailuresOf(wallet.Device.ClientId, wallet.Device.Kid));
        var reference = session.PakeSessionId[..16];
        Assert.Single(harness.Store.AuditRecords, r => r.Type == ServiceTypes.Authenticate && r.SessionRef == reference); // the evaluate's
    }
}
