using System.Diagnostics.Metrics;
using R2ps.Hsm;
using R2ps.Worker.Adapters;
using R2ps.Worker.Consumers;

namespace R2ps.Worker.Tests;

/// <summary>
/// A request's split of its handling (store, HSM, saga) adds up the measurements recorded in that request's own flow,
/// and nothing else: not another request's, not work outside any request.
/// </summary>
public sealed class RequestTimeSplitTests
{
    // Instruments of the same meters and names as the real ones (the split knows them by those names), so the test can
    // record exact figures; the real instruments are covered by the bench's end-to-end test.
    static readonly Meter WorkerMeter = new(WorkerTelemetry.Name);
    static readonly Meter HsmMeter = new(HsmMetrics.MeterName);
    static readonly Histogram<double> Store = WorkerMeter.CreateHistogram<double>(WorkerTelemetry.StoreDurationName);
    static readonly Histogram<double> SagaCommand = WorkerMeter.CreateHistogram<double>(WorkerTelemetry.SessionCommandDurationName);
    static readonly Histogram<double> HsmOperation = HsmMeter.CreateHistogram<double>(HsmMetrics.OperationDurationName);
    static readonly Histogram<double> HsmSessionWait = HsmMeter.CreateHistogram<double>("r2ps.hsm.session.wait");

    [Fact]
    public async Task The_store_HSM_and_saga_measurements_of_a_request_add_up_in_its_split()
    {
        using var split = RequestTimeSplit.Begin();

        Store.Record(0.002);
        HsmOperation.Record(0.0005);
        SagaCommand.Record(0.010);
        await Task.Yield(); // still the request's flow after an await
        Store.Record(0.003);
        HsmSessionWait.Record(1.0); // part of an operation's figure already: not counted twice

        Assert.Equal(TimeSpan.FromMicroseconds(5_000), split.Store);
        Assert.Equal(TimeSpan.FromMicroseconds(500), split.Hsm);
        Assert.Equal(TimeSpan.FromMicroseconds(10_000), split.Saga);
    }

    [Fact]
    public async Task Concurrent_requests_keep_their_own_splits()
    {
        using var bothStarted = new Barrier(2);

        async Task<RequestTimeSplit> RequestAsync(double storeSeconds, double sagaSeconds)
        {
            await Task.Yield();
            var split = RequestTimeSplit.Begin();
            bothStarted.SignalAndWait(TimeSpan.FromSeconds(30)); // both splits are current, each in its own flow
            Store.Record(storeSeconds);
            SagaCommand.Record(sagaSeconds);
            return split;
        }

        var ct = TestContext.Current.CancellationToken;
        var splits = await Task.WhenAll(Task.Run(() => RequestAsync(0.001, 0.020), ct), Task.Run(() => RequestAsync(0.004, 0.030), ct));

        Assert.Equal(TimeSpan.FromMilliseconds(1), splits[0].Store);
        Assert.Equal(TimeSpan.FromMilliseconds(20), splits[0].Saga);
        Assert.Equal(TimeSpan.FromMilliseconds(4), splits[1].Store);
        Assert.Equal(TimeSpan.FromMilliseconds(30), splits[1].Saga);
    }

    [Fact]
    public async Task Work_outside_the_request_counts_nowhere()
    {
        var split = RequestTimeSplit.Begin();

        // A loop started without the request's context (as the store's commit loop is) is not the request's work.
        Task outside;
        using (ExecutionContext.SuppressFlow())
            outside = Task.Run(() => Store.Record(1.0), TestContext.Current.CancellationToken);
        await outside;
        split.Dispose();
        HsmOperation.Record(1.0); // after the request ended

        Assert.Equal(TimeSpan.Zero, split.Store);
        Assert.Equal(TimeSpan.Zero, split.Hsm);
        Assert.Equal(TimeSpan.Zero, split.Saga);
    }
}
