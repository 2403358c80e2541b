using Microsoft.Extensions.Logging;
using R2ps.Testing;

namespace R2ps.Sessions.Tests;

/// <summary>
/// The saga's slow-message warning (<see cref="SlowSagaMessageLog"/>): a message over the threshold is logged once, with
/// its type, queue wait, handling time and attempts; under it, or with the log off, nothing is.
/// </summary>
public sealed class SlowSagaMessageLogTests
{
    [Fact]
    public async Task A_message_over_the_threshold_is_logged_once_with_its_type_and_attempts()
    {
        // One tick: every message is "slow", so the line of this one begin is certain to be written.
        await using var saga = await SagaHarness.StartAsync(TestDatabaseProvider.Sqlite, o => o.SlowMessageThreshold = TimeSpan.FromTicks(1));

        await saga.BeginAsync();

        var line = Assert.Single(SlowLines(saga), l => l.Message.Contains("BeginSignSessionLogin", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Matches(@"^Slow saga message BeginSignSessionLogin: \d+ ms queued before this endpoint took it, \d+ ms to handle \(attempts: 1, ", line.Message);
    }

    [Fact]
    public async Task A_message_under_the_threshold_is_not_logged()
    {
        await using var saga = await SagaHarness.StartAsync(TestDatabaseProvider.Sqlite, o => o.SlowMessageThreshold = TimeSpan.FromMinutes(5));

        await saga.BeginAsync();

        Assert.Empty(SlowLines(saga));
    }

    [Fact]
    public async Task A_zero_threshold_turns_the_log_off()
    {
        await using var saga = await SagaHarness.StartAsync(TestDatabaseProvider.Sqlite, o => o.SlowMessageThreshold = TimeSpan.Zero);

        await saga.BeginAsync();

        Assert.Empty(SlowLines(saga));
    }

    static List<Microsoft.Extensions.Logging.Testing.FakeLogRecord> SlowLines(SagaHarness saga) =>
        saga.Logs.GetSnapshot().Where(r => r.Message.StartsWith("Slow saga message", StringComparison.Ordinal)).ToList();
}
