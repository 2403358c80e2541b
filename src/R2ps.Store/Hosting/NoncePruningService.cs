using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace R2ps.Store;

/// <summary>Removes expired nonces every <see cref="StoreOptions.NoncePruneInterval"/>.</summary>
internal sealed partial class NoncePruningService(
    INonceCache nonces, TimeProvider time, IOptions<StoreOptions> options, ILogger<NoncePruningService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.NoncePruneInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var removed = await nonces.PruneAsync(time.GetUtcNow(), stoppingToken).ConfigureAwait(false);
                LogPruned(logger, removed);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pruned {Count} expired nonces")]
    private static partial void LogPruned(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning expired nonces failed; retrying at the next interval")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
