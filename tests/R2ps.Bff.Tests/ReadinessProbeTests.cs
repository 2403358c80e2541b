using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using R2ps.Bff.Health;

namespace R2ps.Bff.Tests;

/// <summary>
/// Issue 10 item 2: <c>/health/ready</c> answers from a cached probe run in the background at
/// <see cref="BffOptions.ReadinessProbeInterval"/>, not by asking every worker on every call. Driven by the fake clock.
/// </summary>
public sealed class ReadinessProbeTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Many_calls_within_an_interval_ask_the_workers_once()
    {
        var clock = new FakeTimeProvider();
        var asked = 0;
        using var probe = NewProbe(clock, _ => { Interlocked.Increment(ref asked); return Task.FromResult(true); });
        await probe.StartAsync(Ct);

        for (var i = 0; i < 50; i++)
            Assert.True((await probe.CurrentAsync(Ct)).Workers);

        Assert.Equal(1, Volatile.Read(ref asked));
        await probe.StopAsync(Ct);
    }

    [Fact]
    public async Task The_report_is_refreshed_once_the_interval_passes()
    {
        var clock = new FakeTimeProvider();
        var answering = true;
        var asked = 0;
        using var probe = NewProbe(clock, _ => { Interlocked.Increment(ref asked); return Task.FromResult(Volatile.Read(ref answering)); });
        await probe.StartAsync(Ct);
        Assert.True((await probe.CurrentAsync(Ct)).Workers);

        // The workers go away: the cached report stands until the next probe, which the interval brings.
        Volatile.Write(ref answering, false);
        Assert.True((await probe.CurrentAsync(Ct)).Workers);
        var waited = await AdvanceUntilProbedAsync(clock, probe, 2);
        Assert.True(waited >= TimeSpan.FromSeconds(5), $"Probed again after {waited}.");
        Assert.False((await probe.CurrentAsync(Ct)).Workers);

        // After a failed probe the retry interval applies (1 s), not the full interval.
        Volatile.Write(ref answering, true);
        waited = await AdvanceUntilProbedAsync(clock, probe, 3);
        Assert.True(waited >= TimeSpan.FromSeconds(1) && waited < TimeSpan.FromSeconds(5), $"Probed again after {waited}.");
        Assert.True((await probe.CurrentAsync(Ct)).Workers);
        Assert.Equal(3, Volatile.Read(ref asked));
        await probe.StopAsync(Ct);
    }

    [Fact]
    public async Task A_failing_check_is_not_ready_not_an_error()
    {
        var clock = new FakeTimeProvider();
        using var probe = NewProbe(clock, _ => throw new InvalidOperationException("simulated"), store: _ => throw new TimeoutException("simulated"));
        await probe.StartAsync(Ct);
        var report = await probe.CurrentAsync(Ct);
        Assert.False(report.Workers);
        Assert.False(report.Store);
        await probe.StopAsync(Ct);
    }

    static ReadinessProbe NewProbe(TimeProvider clock, Func<CancellationToken, Task<bool>> workers, Func<CancellationToken, Task<bool>>? store = null) =>
        new(store ?? (_ => Task.FromResult(true)), workers, clock,
            Options.Create(new BffOptions { ReadinessProbeInterval = TimeSpan.FromSeconds(5), ReadinessProbeRetryInterval = TimeSpan.FromSeconds(1) }),
            NullLogger<ReadinessProbe>.Instance);

    // The probe runs on its own loop: move the fake clock in small steps until it has published the expected number of
    // reports, and say how much fake time that took. The real pause per step only lets the loop run.
    static async Task<TimeSpan> AdvanceUntilProbedAsync(FakeTimeProvider clock, ReadinessProbe probe, int count)
    {
        var step = TimeSpan.FromMilliseconds(100);
        var advanced = TimeSpan.Zero;
        while (probe.ProbeCount < count)
        {
            clock.Advance(step);
            advanced += step;
            await Task.Delay(25, Ct);
        }

        return advanced;
    }
}
