using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Store;

namespace R2ps.Bff.Sessions;

/// <summary>Creates the BFF's tables when absent (WAL, safe when several processes start at once), before serving.</summary>
internal sealed class BffSchemaInitializer(IDbContextFactory<BffDbContext> contexts) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            await RelationalSchema.EnsureTablesCreatedAsync(db, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Removes expired device sessions and nonces every <see cref="BffOptions.SweepInterval"/>.</summary>
internal sealed partial class DeviceSessionSweeper(DeviceSessionStore store, TimeProvider time, IOptions<BffOptions> options,
    ILogger<DeviceSessionSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await store.PruneAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
#pragma warning disable CA1031 // A failed sweep (database busy) must not stop the later ones; it is logged.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    LogSweepFailed(e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing expired device sessions failed; retrying at the next interval")]
    partial void LogSweepFailed(Exception exception);
}
