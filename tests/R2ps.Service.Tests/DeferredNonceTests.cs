using System.Data.Common;
using R2ps.Crypto.Ec;
using R2ps.Protocol;
using R2ps.Service.Ports;
using R2ps.Service.Tests.Fakes;
using R2ps.Wallet;

namespace R2ps.Service.Tests;

/// <summary>
/// The nonce of a read-only request (hsm_ecdsa, hsm_ecdh, hsm_list_keys, secret_retrieve, secret_list, audit_log) is
/// recorded after its handler, in one commit with its audit record: the answer leaves only if the nonce was new, and a
/// replay is refused as a replay, first, as PROTOCOL.md 1.1 orders it.
/// </summary>
public class DeferredNonceTests
{
    private const string NonceUsed = "The request nonce was already used.";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[] Hash = new byte[32];

    [Fact]
    public async Task A_replayed_sign_request_is_refused_as_a_replay_and_audited_as_one()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        var kid = await NewKeyAsync(session);
        await session.SignAsync(kid, Hash, Ct);
        var signRequest = harness.Sent.Last();

        var replay = await harness.SendRawAsync(signRequest);

        Assert.Equal(403, replay.Status);
        Assert.Equal((ErrorCode.AccessDenied.ToWire(), NonceUsed), (ServiceHarness.ReadError(replay).ErrorCode, ServiceHarness.ReadError(replay).ErrorMessage));
        var signs = harness.Store.AuditRecords.Where(r => r.Type == ServiceTypes.HsmEcdsa).Select(r => r.Outcome).ToList();
        Assert.Equal([ProtocolConstants.Ok, ErrorCode.AccessDenied.ToWire()], signs);
    }

    [Fact]
    public async Task A_replay_after_its_session_ended_is_refused_as_a_replay_not_as_an_unknown_session()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        var kid = await NewKeyAsync(session);
        await session.SignAsync(kid, Hash, Ct);
        var signRequest = harness.Sent.Last();
        await session.CloseAsync(Ct);

        var replay = await harness.SendRawAsync(signRequest);

        // Step 8 (nonce) comes before step 10 (session): the refusal a replay gets does not depend on what changed since.
        Assert.Equal(NonceUsed, ServiceHarness.ReadError(replay).ErrorMessage);
    }

    [Fact]
    public async Task A_read_only_request_that_is_refused_by_its_handler_still_uses_up_its_nonce()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        var nonces = harness.Store.NonceCount;
        var unknownKid = "02" + new string('a', 64);

        var error = await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync(unknownKid, Hash, Ct));
        var replay = await harness.SendRawAsync(harness.Sent.Last());

        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        Assert.Equal(nonces + 1, harness.Store.NonceCount);
        Assert.Equal(NonceUsed, ServiceHarness.ReadError(replay).ErrorMessage);
    }

    [Fact]
    public async Task With_a_ledger_a_read_only_request_makes_one_write_and_a_state_change_records_its_nonce_first()
    {
        RecordingLedger? ledger = null;
        using var harness = new ServiceHarness(ledger: store => ledger = new RecordingLedger(store));
        var (_, session) = await harness.LoggedInWalletAsync();
        var afterLogin = (Ledger: ledger!.Commits, harness.Store.NonceCount);

        await session.GenerateKeyAsync(EcCurve.P256, Ct);
        Assert.Equal((afterLogin.Ledger, afterLogin.NonceCount + 1), (ledger.Commits, harness.Store.NonceCount));

        var kid = (await session.ListKeysAsync(cancellationToken: Ct)).Single().Kid;
        await session.SignAsync(kid, Hash, Ct);
        Assert.Equal((afterLogin.Ledger + 2, afterLogin.NonceCount + 3), (ledger.Commits, harness.Store.NonceCount));
        Assert.Equal(ProtocolConstants.Ok, harness.Store.AuditRecords.Last().Outcome);
    }

    [Fact]
    public async Task When_the_ledger_commit_fails_the_signature_is_withheld_and_the_nonce_stays_unused()
    {
        RecordingLedger? ledger = null;
        using var harness = new ServiceHarness(ledger: store => ledger = new RecordingLedger(store));
        var (_, session) = await harness.LoggedInWalletAsync();
        var kid = await NewKeyAsync(session);
        var nonces = harness.Store.NonceCount;
        ledger!.FailWith = new TransientDatabaseException();

        var error = await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync(kid, Hash, Ct));

        Assert.Equal(ErrorCode.ServiceUnavailable, error.Code);
        Assert.Equal(nonces, harness.Store.NonceCount);
        // The failure is audited on its own, as any other.
        Assert.Equal(ErrorCode.ServiceUnavailable.ToWire(), harness.Store.AuditRecords.Last().Outcome);

        // Retried as it is once the database is back, the same request is answered: its nonce was not burnt.
        ledger.FailWith = null;
        var retried = await harness.SendRawAsync(harness.Sent.Last());
        Assert.Equal(200, retried.Status);
    }

    // The keygen answer names the curve (PROTOCOL.md 1.4); the kid is read from the list.
    private static async Task<string> NewKeyAsync(SignSession session)
    {
        await session.GenerateKeyAsync(EcCurve.P256, Ct);
        return (await session.ListKeysAsync(cancellationToken: Ct)).Single().Kid;
    }

    /// <summary>The in-memory store's nonce and audit, as one call that can be made to fail before writing anything.</summary>
    private sealed class RecordingLedger(InMemoryStore store) : IRequestLedger
    {
        private int _commits;

        public int Commits => Volatile.Read(ref _commits);

        public Exception? FailWith { get; set; }

        public async Task<bool> TryAddNonceWithAuditAsync(string clientId, string nonce, DateTimeOffset keepUntil, AuditRecord whenNew,
            AuditRecord whenReplayed, CancellationToken cancellationToken)
        {
            if (FailWith is { } failure) throw failure;
            Interlocked.Increment(ref _commits);
            var recorded = await store.TryAddAsync(clientId, nonce, keepUntil, cancellationToken);
            await store.AppendAsync(recorded ? whenNew : whenReplayed, cancellationToken);
            return recorded;
        }
    }

    private sealed class TransientDatabaseException : DbException
    {
        public override bool IsTransient => true;
    }
}
