using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace R2ps.Store;

/// <summary>
/// Every <see cref="StoreOptions.NoncePruneInterval"/>, removes expired nonces and audit entries past
/// <see cref="StoreOptions.AuditRetention"/>, in batches (<see cref="StoreRetention"/>).
/// </summary>
internal sealed partial class StorePruningService(
    StoreRetention retention, TimeProvider time, IOptions<StoreOptions> options, ILogger<StorePruningService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.NoncePruneInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var removed = await retention.PruneAsync(stoppingToken).ConfigureAwait(false);
                LogPruned(logger, removed.Nonces, removed.AuditEntries);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed sweep (database briefly unavailable) must not stop later sweeps; it is logged.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPruneFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pruned {Nonces} expired nonces and {Audit} audit entries past retention")]
    private static partial void LogPruned(ILogger logger, int nonces, int audit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning nonces and audit entries failed; retrying at the next interval")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
