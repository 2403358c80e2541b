using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Bff.Broker;
using R2ps.Bff.Sessions;

namespace R2ps.Bff.Health;

/// <summary>What the last readiness probe found.</summary>
/// <param name="Store">The BFF's database answered.</param>
/// <param name="Workers">A worker of every served context answered.</param>
/// <param name="ProbedAt">When the probe finished (the BFF's <see cref="TimeProvider"/>).</param>
public sealed record ReadinessReport(bool Store, bool Workers, DateTimeOffset ProbedAt);

/// <summary>
/// The probe behind <c>/health/ready</c>: a background loop asks the database and the workers every
/// <see cref="BffOptions.ReadinessProbeInterval"/> (after a failed probe, every <see cref="BffOptions.ReadinessProbeRetryInterval"/>)
/// and the endpoint answers from its last report. Before, every call of the route sent a request to every context's
/// workers, so anyone could turn health checks into broker traffic (issue 10 item 2). A call before the first probe
/// finished waits for it.
/// </summary>
public sealed partial class ReadinessProbe : BackgroundService
{
    readonly Func<CancellationToken, Task<bool>> _store;
    readonly Func<CancellationToken, Task<bool>> _workers;
    readonly TimeProvider _time;
    readonly BffOptions _options;
    readonly ILogger<ReadinessProbe> _logger;
    readonly TaskCompletionSource<ReadinessReport> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    volatile ReadinessReport? _last;
    int _probes;

    /// <summary>The probe of the BFF's own database and the workers of its contexts.</summary>
    public ReadinessProbe(DeviceSessionStore store, ServiceDirectory directory, TimeProvider time, IOptions<BffOptions> options, ILogger<ReadinessProbe> logger)
        : this(store.IsReachableAsync, ct => directory.WorkersAnswerAsync(options.Value.ReadinessTimeout, ct), time, options, logger)
    {
    }

    /// <summary>A probe with the given checks (tests).</summary>
    internal ReadinessProbe(Func<CancellationToken, Task<bool>> store, Func<CancellationToken, Task<bool>> workers, TimeProvider time,
        IOptions<BffOptions> options, ILogger<ReadinessProbe> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _workers = workers ?? throw new ArgumentNullException(nameof(workers));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _options = options.Value;
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>How many probes finished so far (their reports published).</summary>
    public int ProbeCount => Volatile.Read(ref _probes);

    /// <summary>The last report; waits for the first probe when none finished yet.</summary>
    public Task<ReadinessReport> CurrentAsync(CancellationToken cancellationToken) =>
        _last is { } last ? Task.FromResult(last) : _first.Task.WaitAsync(cancellationToken);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the host's start: the first probe may wait ReadinessTimeout for a worker.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            ReadinessReport report;
            try
            {
                report = await ProbeAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            _last = report;
            Interlocked.Increment(ref _probes);
            _first.TrySetResult(report);
            var pause = report.Store && report.Workers ? _options.ReadinessProbeInterval : _options.ReadinessProbeRetryInterval;
            try
            {
                await Task.Delay(pause, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    async Task<ReadinessReport> ProbeAsync(CancellationToken cancellationToken)
    {
        var store = await CheckAsync(_store, "store", cancellationToken).ConfigureAwait(false);
        var workers = await CheckAsync(_workers, "workers", cancellationToken).ConfigureAwait(false);
        return new ReadinessReport(store, workers, _time.GetUtcNow());
    }

    async Task<bool> CheckAsync(Func<CancellationToken, Task<bool>> check, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await check(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any failure of a check is "not ready", reported, never thrown out of the loop.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogCheckFailed(e, name);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Readiness check {Check} failed")]
    partial void LogCheckFailed(Exception exception, string check);
}
