using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Contracts;

namespace R2ps.Sessions;

/// <summary>
/// Ends sessions whose due time passed, without a delayed-message plugin: every <see cref="SignSessionOptions.SweepInterval"/>
/// it reads the due rows of the saga table and publishes <see cref="ExpireSignSession"/> for each. The schedule is the
/// table itself, so it survives a restart of every process; several sweepers on one database only send duplicates,
/// which the saga drops. Requests are never served from an expired session meanwhile: the read model checks the time.
/// </summary>
public sealed partial class SignSessionExpirySweeper(
    IDbContextFactory<SignSessionDbContext> dbContextFactory,
    IBus bus,
    TimeProvider timeProvider,
    IOptions<SignSessionOptions> options,
    ILogger<SignSessionExpirySweeper> logger) : BackgroundService
{
    readonly SignSessionOptions _options = options.Value;

    // Expiries sent and when: not re-sent before ExpiryResendAfter, so a slow saga does not get one per sweep.
    readonly Dictionary<Guid, DateTimeOffset> _sent = [];

    /// <summary>One sweep: publishes an expiry for each due session not recently sent; returns how many it published.</summary>
    public async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        List<Guid> due;
        var db = await dbContextFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            due = await db.SignSessions.AsNoTracking()
                .Where(x => x.DueAt <= now)
                .OrderBy(x => x.DueAt)
                .Select(x => x.CorrelationId)
                .Take(_options.SweepBatchSize)
                .ToListAsync(cancellationToken)
                .ConfigureAwait(false);
        }

        var stillDue = due.ToHashSet();
        foreach (var id in _sent.Keys.Where(id => !stillDue.Contains(id)).ToList())
            _sent.Remove(id);

        var published = 0;
        foreach (var id in due)
        {
            if (_sent.TryGetValue(id, out var sentAt) && now - sentAt < _options.ExpiryResendAfter)
                continue;
            await bus.Publish(new ExpireSignSession(id), cancellationToken).ConfigureAwait(false);
            _sent[id] = now;
            published++;
        }

        return published;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.SweeperEnabled)
            return;

        using var timer = new PeriodicTimer(_options.SweepInterval, timeProvider);
        do
        {
            // Bound each sweep: a publish to an unreachable broker must not stall the loop for good.
            using var sweep = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            sweep.CancelAfter(_options.RequestTimeout);
            try
            {
                var published = await SweepOnceAsync(sweep.Token).ConfigureAwait(false);
                if (published > 0)
                    LogExpiriesPublished(published);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The sweeper must outlive a failed sweep (database busy, bus not started yet): log and go on.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                LogSweepFailed(exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {Count} sign-session expiries")]
    partial void LogExpiriesPublished(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-session expiry sweep failed; retrying at the next interval")]
    partial void LogSweepFailed(Exception exception);
}
