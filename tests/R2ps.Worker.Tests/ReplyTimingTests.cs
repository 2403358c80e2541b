using System.Diagnostics.Metrics;
using MassTransit;
using MassTransit.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using R2ps.Contracts;
using R2ps.Messaging;

namespace R2ps.Worker.Tests;

/// <summary>
/// A worker's reply says how long its request waited to be taken and how long the worker took on it, split into store,
/// HSM and saga (<see cref="R2psReplyHeaders"/>), and the BFF's client turns that into its round-trip metrics (<see cref="R2psMessagingMetrics"/>),
/// which is how <c>bench e2e --breakdown</c> splits the BFF's wait into the broker's part and the worker's.
/// </summary>
public sealed class ReplyTimingTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_reply_carries_the_wait_since_the_send_on_the_workers_clock_and_the_handling_time()
    {
        // The worker's clock runs 2 s ahead of the sender's: as far as it can tell, the request waited at least that long.
        await using var worker = await ConsumerHarness.StartAsync(clockAhead: TimeSpan.FromSeconds(2));

        var response = await worker.SendForResponseAsync("not-a-jws");

        Assert.Equal(400, response.Message.Status); // processed: refused as malformed
        var queued = response.Headers.Get<long>(R2psReplyHeaders.QueuedMicroseconds);
        var handling = response.Headers.Get<long>(R2psReplyHeaders.HandlingMicroseconds);
        Assert.InRange(queued ?? -1, 2_000_000, 60_000_000);
        Assert.InRange(handling ?? -1, 0, 60_000_000);
        // Refused before any store call, HSM operation or saga command: each part is there, and zero.
        foreach (var part in new[] { R2psReplyHeaders.StoreMicroseconds, R2psReplyHeaders.HsmMicroseconds, R2psReplyHeaders.SagaMicroseconds })
            Assert.Equal(0, response.Headers.Get<long>(part));
    }

    [Fact]
    public async Task A_sender_whose_clock_runs_ahead_gets_a_wait_of_zero_not_a_negative_one()
    {
        await using var worker = await ConsumerHarness.StartAsync(clockAhead: TimeSpan.FromSeconds(-5));

        var response = await worker.SendForResponseAsync("not-a-jws");

        Assert.Equal(400, response.Message.Status);
        Assert.Equal(0, response.Headers.Get<long>(R2psReplyHeaders.QueuedMicroseconds));
    }

    [Fact]
    public async Task The_client_records_the_round_trip_and_the_workers_figures_from_the_reply()
    {
        // Figures no real request produces, so measurements of other tests running alongside cannot be mistaken for these.
        const long queuedUs = 1_234_567, handlingUs = 2_345_678, storeUs = 1_111_111, hsmUs = 222_222, sagaUs = 333_333;
        var recorded = new List<(string Instrument, double Seconds)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == R2psMessagingMetrics.MeterName) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, seconds, _, _) =>
        {
            lock (recorded) recorded.Add((instrument.Name, seconds));
        });
        listener.Start();
        using var host = await StartClientAsync(new ReportedTimes(queuedUs, handlingUs, storeUs, hsmUs, sagaUs));

        var reply = await host.Services.GetRequiredService<R2psServiceClient>().SendAsync("hsm", "envelope", Ct);

        Assert.Equal(200, reply.Status);
        lock (recorded)
        {
            Assert.Contains((R2psMessagingMetrics.QueuedName, 1.234567), recorded);
            Assert.Contains((R2psMessagingMetrics.HandlingName, 2.345678), recorded);
            Assert.Contains((R2psMessagingMetrics.StoreName, 1.111111), recorded);
            Assert.Contains((R2psMessagingMetrics.HsmName, 0.222222), recorded);
            Assert.Contains((R2psMessagingMetrics.SagaName, 0.333333), recorded);
            Assert.Contains(recorded, r => r.Instrument == R2psMessagingMetrics.RoundTripName && r.Seconds > 0);
        }
    }

    [Theory]
    [InlineData(1500L, 0.0015)]
    [InlineData(1500, 0.0015)]
    [InlineData("1500", 0.0015)]
    [InlineData(0L, 0.0)]
    [InlineData(-1L, null)]
    [InlineData("-1", null)]
    [InlineData("1.5", null)]
    [InlineData("soon", null)]
    [InlineData(1.5, null)]
    public void A_reported_time_is_read_only_from_a_non_negative_whole_number_of_microseconds(object value, double? seconds)
    {
        var headers = new DictionarySendHeaders();
        headers.Set(R2psReplyHeaders.HandlingMicroseconds, value);

        Assert.Equal(seconds, R2psMessagingMetrics.ReadSeconds(headers, R2psReplyHeaders.HandlingMicroseconds));
        Assert.Null(R2psMessagingMetrics.ReadSeconds(headers, R2psReplyHeaders.QueuedMicroseconds));
    }

    static async Task<IHost> StartClientAsync(ReportedTimes times)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Messaging:RequestTimeout"] = "00:00:30" });
        builder.Services.AddSingleton(times);
        builder.Services.AddR2psMessaging(builder.Configuration, bus => bus.AddConsumer<TimedEchoConsumer>().Endpoint(e => e.Name = "r2ps-hsm"));
        var host = builder.Build();
        await host.StartAsync(Ct);
        return host;
    }

    sealed record ReportedTimes(long QueuedUs, long HandlingUs, long StoreUs, long HsmUs, long SagaUs);

    sealed class TimedEchoConsumer(ReportedTimes times) : IConsumer<HandleR2psRequest>
    {
        public Task Consume(ConsumeContext<HandleR2psRequest> context) =>
            context.RespondAsync(new R2psReply(200, "echo"), send =>
            {
                send.Headers.Set(R2psReplyHeaders.QueuedMicroseconds, times.QueuedUs);
                send.Headers.Set(R2psReplyHeaders.HandlingMicroseconds, times.HandlingUs);
                send.Headers.Set(R2psReplyHeaders.StoreMicroseconds, times.StoreUs);
                send.Headers.Set(R2psReplyHeaders.HsmMicroseconds, times.HsmUs);
                send.Headers.Set(R2psReplyHeaders.SagaMicroseconds, times.SagaUs);
            });
    }
}
