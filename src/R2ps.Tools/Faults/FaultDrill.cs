using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Protocol;
using R2ps.Tools.Benchmarks;
using R2ps.Tools.PostgreSql;
using R2ps.Tools.SoftHsm;
using R2ps.Wallet;

namespace R2ps.Tools.Faults;

/// <summary>The fault a drill injects while wallets sign (issue 10 item 11).</summary>
public enum FaultKind
{
    /// <summary><c>kill -9</c> of the first of two worker processes.</summary>
    WorkerKill,

    /// <summary>The private RabbitMQ node's broker application stopped, then started again.</summary>
    BrokerRestart,

    /// <summary>The private PostgreSQL server (store, saga and BFF on it) stopped, then started again on the same data.</summary>
    PostgresRestart,
}

/// <summary>What <c>r2ps faults</c> runs.</summary>
/// <param name="Fault">The fault injected.</param>
/// <param name="Wallets">Concurrent wallets, each in its own sign session for the whole drill.</param>
/// <param name="Before">Load before the fault.</param>
/// <param name="Down">How long the broker or database stays down (not used by <see cref="FaultKind.WorkerKill"/>).</param>
/// <param name="After">Load after the fault ended.</param>
/// <param name="KeysPerWallet">Keys each wallet creates during the drill, spread evenly over it (what "no key lost or duplicated"
/// counts); with the one made before, at most the service's <c>MaxKeysPerCurve</c> (10 by default).</param>
public sealed record FaultSettings(FaultKind Fault, int Wallets, TimeSpan Before, TimeSpan Down, TimeSpan After, int KeysPerWallet)
{
    /// <summary>Before + down + after: when the wallets' key creations are due.</summary>
    public TimeSpan Planned => Before + (Fault == FaultKind.WorkerKill ? TimeSpan.Zero : Down) + After;
}

/// <summary>Counts of one drill. "Answered" means an HTTP response with the protocol's body; a refusal is an answer.</summary>
/// <param name="Requests">Requests sent during the load.</param>
/// <param name="Succeeded">Requests that succeeded.</param>
/// <param name="Unanswered">Requests that got no HTTP answer (connection error or the client's own timeout).</param>
/// <param name="Refusals">Refused requests by operation and error code ("sign SERVICE_UNAVAILABLE").</param>
/// <param name="RecoverySeconds">From the end of the fault to the end of the first success of a request sent after it; null if none succeeded.</param>
/// <param name="RequestsAfterRecovery">Requests sent after recovery.</param>
/// <param name="FailedAfterRecovery">Of those, the ones that did not succeed.</param>
/// <param name="KeysAcknowledged">Key creations the service confirmed (plus one key per wallet made before the load).</param>
/// <param name="KeysUncertain">Key creations that were refused or unanswered: each may or may not have created a key.</param>
/// <param name="KeysListed">Keys the wallets list at the end.</param>
/// <param name="KeysLost">Confirmed keys missing from the lists.</param>
/// <param name="KeysDuplicated">Listed keys beyond confirmed + uncertain, plus kids listed twice.</param>
/// <param name="SessionsStuck">Sessions that could not sign or close once the drill ended.</param>
public sealed record FaultResult(FaultSettings Settings, string Store, long Requests, long Succeeded, long Unanswered,
    IReadOnlyDictionary<string, long> Refusals, double? RecoverySeconds, long RequestsAfterRecovery, long FailedAfterRecovery,
    int KeysAcknowledged, int KeysUncertain, int KeysListed, int KeysLost, int KeysDuplicated, int SessionsStuck, int WorkersAlive)
{
    /// <summary>The worker-kill bound: at most 1 % of requests answered 503.</summary>
    public const double MaxServiceUnavailableShare = 0.01;

    /// <summary>The restart bound: service back within 15 s of the broker or database being back.</summary>
    public static readonly TimeSpan MaxRecovery = TimeSpan.FromSeconds(15);

    public long ServiceUnavailable => Refusals.Where(r => r.Key.EndsWith(" " + ErrorCode.ServiceUnavailable.ToWire(), StringComparison.Ordinal)).Sum(r => r.Value);

    public double ServiceUnavailableShare => Requests == 0 ? 0 : (double)ServiceUnavailable / Requests;

    /// <summary>Each promise of issue 10 item 11 that this drill broke, in words; empty when it held.</summary>
    public IReadOnlyList<string> Violations()
    {
        var violations = new List<string>();
        if (Unanswered > 0) violations.Add($"{Unanswered} request(s) got no HTTP answer.");
        if (Settings.Fault == FaultKind.WorkerKill && ServiceUnavailableShare > MaxServiceUnavailableShare)
            violations.Add(string.Create(CultureInfo.InvariantCulture, $"{ServiceUnavailableShare:P2} of requests were 503 (at most {MaxServiceUnavailableShare:P0})."));
        if (RecoverySeconds is null) violations.Add("No request succeeded after the fault.");
        else if (Settings.Fault != FaultKind.WorkerKill && RecoverySeconds > MaxRecovery.TotalSeconds)
            violations.Add(string.Create(CultureInfo.InvariantCulture, $"Service was back {RecoverySeconds:0.0} s after the fault ended (at most {MaxRecovery.TotalSeconds:0} s)."));
        if (FailedAfterRecovery > 0) violations.Add($"{FailedAfterRecovery} of {RequestsAfterRecovery} request(s) after recovery failed.");
        if (KeysLost > 0) violations.Add($"{KeysLost} confirmed key(s) lost.");
        if (KeysDuplicated > 0) violations.Add($"{KeysDuplicated} key(s) duplicated.");
        if (SessionsStuck > 0) violations.Add($"{SessionsStuck} session(s) stuck.");
        if (WorkersAlive == 0) violations.Add("No worker is alive at the end.");
        return violations;
    }
}

/// <summary>
/// <c>r2ps faults</c>: the distributed system on this machine (private RabbitMQ node, two worker processes, the BFF over
/// HTTP; SQLite, or a private PostgreSQL server for the database fault), wallets signing in long sessions, and one fault
/// injected in the middle. Every request's outcome is counted; at the end every wallet lists its keys and signs and closes
/// in the session it held throughout. Everything lives in a temporary folder deleted at the end.
/// </summary>
public static class FaultDrill
{
    private const int HsmSessions = 4;
    private const int Workers = 2;

    // A refused request is retried after this pause, so a wallet facing an outage does not spin on it.
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromMilliseconds(100);

    public static async Task<FaultResult> RunAsync(FaultSettings settings, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        using var folder = await ThrowAwaySoftHsm.CreateAsync("r2ps-faults-", cancellationToken).ConfigureAwait(false);
        progress($"Creating a throw-away SoftHSM2 token in {folder.Directory}");
        var token = folder.CreateToken("r2ps-faults");
        PostgreSqlNode? postgres = null;
        try
        {
            string? database = null;
            if (settings.Fault == FaultKind.PostgresRestart)
            {
                progress("Starting a private PostgreSQL server on loopback");
                postgres = await PostgreSqlNode.StartAsync(cancellationToken).ConfigureAwait(false);
                database = await postgres.CreateDatabaseAsync("r2ps_faults", cancellationToken).ConfigureAwait(false);
            }

            var cluster = await E2eCluster.StartAsync(null, Workers, folder, token, HsmSessions, progress, cancellationToken, database)
                .ConfigureAwait(false);
            await using (cluster.ConfigureAwait(false))
            {
                return await DrillAsync(settings, cluster, postgres, database is null ? "SQLite" : postgres!.ToString(), progress, cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        finally
        {
            if (postgres is not null) await postgres.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<FaultResult> DrillAsync(FaultSettings settings, E2eCluster cluster, PostgreSqlNode? postgres, string store,
        Action<string> progress, CancellationToken cancellationToken)
    {
        progress($"Registering {settings.Wallets} wallet(s) (PIN, one P-256 key each) and logging each in");
        var wallets = new List<DrillWallet>(settings.Wallets);
        try
        {
            for (var i = 0; i < settings.Wallets; i++)
            {
                var wallet = await cluster.CreateWalletAsync(cancellationToken).ConfigureAwait(false);
                wallets.Add(new DrillWallet(wallet, await wallet.Wallet.LoginAsync(wallet.Pin, cancellationToken: cancellationToken).ConfigureAwait(false)));
            }

            var clock = Stopwatch.StartNew();
            var outcomes = new ConcurrentBag<Outcome>();
            using var stop = new CancellationTokenSource();
            var load = wallets.Select(w => Task.Run(() => LoadAsync(w, settings, clock, outcomes, stop.Token), CancellationToken.None)).ToList();

            progress(string.Create(CultureInfo.InvariantCulture, $"Load for {settings.Before.TotalSeconds:0.#} s before the fault"));
            await Task.Delay(settings.Before, cancellationToken).ConfigureAwait(false);
            var faultEnd = await InjectAsync(settings, cluster, postgres, progress, cancellationToken).ConfigureAwait(false);
            var faultEndTicks = clock.Elapsed;
            progress(string.Create(CultureInfo.InvariantCulture, $"Load for {settings.After.TotalSeconds:0.#} s after the fault ({faultEnd})"));
            await Task.Delay(settings.After, cancellationToken).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(load).ConfigureAwait(false);

            progress("Checking every wallet's keys and session");
            int listed = 0, lost = 0, duplicated = 0, stuck = 0;
            foreach (var wallet in wallets)
            {
                var (count, walletLost, walletDuplicated, walletStuck) = await VerifyAsync(wallet, cancellationToken).ConfigureAwait(false);
                listed += count;
                lost += walletLost;
                duplicated += walletDuplicated;
                stuck += walletStuck ? 1 : 0;
            }

            var all = outcomes.ToList();
            var recovered = all.Where(o => o.Succeeded && o.Started >= faultEndTicks).Select(o => o.Ended).DefaultIfEmpty(TimeSpan.MaxValue).Min();
            double? recovery = recovered == TimeSpan.MaxValue ? null : (recovered - faultEndTicks).TotalSeconds;
            var afterRecovery = recovery is null ? [] : all.Where(o => o.Started >= recovered).ToList();
            var refusals = all.Where(o => o.Refusal is not null).GroupBy(o => o.Refusal!, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (long)g.LongCount(), StringComparer.Ordinal);
            return new FaultResult(settings, store, all.Count, all.Count(o => o.Succeeded), all.Count(o => o.Unanswered), refusals, recovery,
                afterRecovery.Count, afterRecovery.Count(o => !o.Succeeded),
                wallets.Sum(w => w.KeysAcknowledged), wallets.Sum(w => w.KeysUncertain), listed, lost, duplicated, stuck,
                cluster.Workers.Count(w => !w.HasExited));
        }
        finally
        {
            foreach (var wallet in wallets) wallet.Dispose();
        }
    }

    /// <summary>Injects the fault; returns a description once it is over (the worker dead, the broker or database back).</summary>
    private static async Task<string> InjectAsync(FaultSettings settings, E2eCluster cluster, PostgreSqlNode? postgres, Action<string> progress,
        CancellationToken cancellationToken)
    {
        switch (settings.Fault)
        {
            case FaultKind.WorkerKill:
                var victim = cluster.Workers[0];
                progress($"kill -9 of worker {victim.Id} (pid {victim.ProcessId})");
                await victim.KillAsync().ConfigureAwait(false);
                return $"worker {victim.Id} killed";
            case FaultKind.BrokerRestart:
                var node = cluster.Node ?? throw new InvalidOperationException("The broker fault needs the private node.");
                progress(string.Create(CultureInfo.InvariantCulture, $"Stopping the broker for {settings.Down.TotalSeconds:0.#} s"));
                await node.StopBrokerAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(settings.Down, cancellationToken).ConfigureAwait(false);
                await node.StartBrokerAsync(cancellationToken).ConfigureAwait(false);
                return "broker back";
            case FaultKind.PostgresRestart:
                var server = postgres ?? throw new InvalidOperationException("The database fault needs the private PostgreSQL server.");
                progress(string.Create(CultureInfo.InvariantCulture, $"Restarting PostgreSQL, down for {settings.Down.TotalSeconds:0.#} s"));
                await server.RestartAsync(settings.Down, cancellationToken).ConfigureAwait(false);
                return "PostgreSQL back";
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.Fault, "Unknown fault.");
        }
    }

    private static async Task LoadAsync(DrillWallet wallet, FaultSettings settings, Stopwatch clock, ConcurrentBag<Outcome> outcomes, CancellationToken stop)
    {
        var hash = SHA256.HashData("r2ps fault drill"u8);
        var keygens = 0;
        while (!stop.IsCancellationRequested)
        {
            // The k-th of K key creations is due at k/(K+1) of the planned drill, so some fall before, some during and
            // some after the fault; the rest of the requests sign.
            var keygen = keygens < settings.KeysPerWallet && clock.Elapsed >= settings.Planned * (keygens + 1) / (settings.KeysPerWallet + 1);
            if (keygen) keygens++;
            var started = clock.Elapsed;
            string? refusal = null;
            var unanswered = false;
            try
            {
                if (keygen)
                    await wallet.Session.GenerateKeyAsync(EcCurve.P256, CancellationToken.None).ConfigureAwait(false);
                else
                    await wallet.Session.SignAsync(wallet.Kid, hash, CancellationToken.None).ConfigureAwait(false);
            }
            catch (R2psClientException e)
            {
                refusal = e.HttpStatus == 0 ? "client:" + nameof(R2psClientException) : e.Code.ToWire();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                unanswered = true;
            }
#pragma warning disable CA1031 // Any other failure (a reply the wallet rejects) is counted, not allowed to end the drill.
            catch (Exception e)
#pragma warning restore CA1031
            {
                refusal = "client:" + e.GetType().Name;
            }

            var outcome = new Outcome(started, clock.Elapsed, refusal is null ? null : (keygen ? "keygen " : "sign ") + refusal, unanswered);
            outcomes.Add(outcome);
            if (keygen)
            {
                if (outcome.Succeeded) wallet.KeysAcknowledged++;
                else wallet.KeysUncertain++;
            }

            if (!outcome.Succeeded)
            {
                try
                {
                    await Task.Delay(PauseAfterFailure, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Lists the wallet's keys and signs and closes in the session it held throughout the drill.</summary>
    private static async Task<(int Listed, int Lost, int Duplicated, bool Stuck)> VerifyAsync(DrillWallet wallet, CancellationToken cancellationToken)
    {
        try
        {
            var keys = await wallet.Session.ListKeysAsync([EcCurve.P256], cancellationToken).ConfigureAwait(false);
            var confirmed = 1 + wallet.KeysAcknowledged; // the key made before the load
            var distinct = keys.Select(k => k.Kid).Distinct(StringComparer.Ordinal).Count();
            var lost = Math.Max(0, confirmed - distinct);
            var duplicated = (keys.Count - distinct) + Math.Max(0, distinct - (confirmed + wallet.KeysUncertain));
            await wallet.Session.SignAsync(wallet.Kid, SHA256.HashData("after the drill"u8), cancellationToken).ConfigureAwait(false);
            await wallet.Session.CloseAsync(cancellationToken).ConfigureAwait(false);
            return (keys.Count, lost, duplicated, false);
        }
        catch (R2psClientException)
        {
            return (0, 0, 0, true);
        }
    }

    private sealed record Outcome(TimeSpan Started, TimeSpan Ended, string? Refusal, bool Unanswered)
    {
        public bool Succeeded => Refusal is null && !Unanswered;
    }

    private sealed class DrillWallet(BenchWallet wallet, SignSession session) : IDisposable
    {
        public SignSession Session { get; } = session;

        public string Kid => wallet.Kid;

        // Written only by the wallet's own load task, read after it ended.
        public int KeysAcknowledged { get; set; }

        public int KeysUncertain { get; set; }

        public void Dispose()
        {
            Session.Dispose();
            wallet.Dispose();
        }
    }
}
