using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using R2ps.Bff.Broker;
using R2ps.Contracts;
using R2ps.Messaging;

namespace R2ps.Bff.Tests;

/// <summary>
/// Issue 10 item 2: device-session set-up for an unknown client must not cost a broker round trip each time. The
/// directory remembers a miss for <see cref="BffOptions.UnknownDeviceKeyCacheLifetime"/> (fake clock), bounded in size,
/// and forgets it on a registration through this BFF.
/// </summary>
public sealed class UnknownClientCacheTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_repeated_lookup_of_an_unknown_client_asks_the_workers_once_within_the_lifetime()
    {
        await using var fixture = await DirectoryFixture.StartAsync(new BffOptions { UnknownDeviceKeyCacheLifetime = TimeSpan.FromSeconds(5) });

        for (var i = 0; i < 10; i++)
            Assert.Null(await fixture.Directory.FindDeviceKeyAsync("stranger", "k1", Ct));

        Assert.Equal(1, fixture.Workers.Asked("stranger", "k1"));
    }

    [Fact]
    public async Task A_client_registered_after_a_miss_is_found_once_the_lifetime_passes()
    {
        await using var fixture = await DirectoryFixture.StartAsync(new BffOptions { UnknownDeviceKeyCacheLifetime = TimeSpan.FromSeconds(5) });
        Assert.Null(await fixture.Directory.FindDeviceKeyAsync("late", "k1", Ct));

        fixture.Workers.Register("late", "k1"); // e.g. through another BFF: this one is not told
        fixture.Clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Null(await fixture.Directory.FindDeviceKeyAsync("late", "k1", Ct));
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(await fixture.Directory.FindDeviceKeyAsync("late", "k1", Ct));
        Assert.Equal(2, fixture.Workers.Asked("late", "k1"));
    }

    [Fact]
    public async Task A_registration_through_this_bff_forgets_the_miss_at_once()
    {
        await using var fixture = await DirectoryFixture.StartAsync(new BffOptions { UnknownDeviceKeyCacheLifetime = TimeSpan.FromMinutes(1) });
        Assert.Null(await fixture.Directory.FindDeviceKeyAsync("registered-here", "k1", Ct));

        fixture.Workers.Register("registered-here", "k1");
        fixture.Directory.ForgetUnknownDeviceKey("registered-here", "k1");

        Assert.NotNull(await fixture.Directory.FindDeviceKeyAsync("registered-here", "k1", Ct));
    }

    [Fact]
    public async Task The_negative_cache_is_bounded_and_another_kid_is_asked_for()
    {
        await using var fixture = await DirectoryFixture.StartAsync(new BffOptions { UnknownDeviceKeyCacheLifetime = TimeSpan.FromMinutes(1), UnknownDeviceKeyCacheSize = 2 });

        foreach (var kid in new[] { "a", "b", "c" })
            Assert.Null(await fixture.Directory.FindDeviceKeyAsync("stranger", kid, Ct));
        foreach (var kid in new[] { "a", "b", "c" })
            Assert.Null(await fixture.Directory.FindDeviceKeyAsync("stranger", kid, Ct));

        // At most two of the three misses were remembered (a full MemoryCache refuses the third), so one was asked for again.
        Assert.True(fixture.Workers.Asked("stranger", "a") + fixture.Workers.Asked("stranger", "b") + fixture.Workers.Asked("stranger", "c") >= 4);
    }

    [Fact]
    public async Task A_zero_lifetime_disables_the_negative_cache()
    {
        await using var fixture = await DirectoryFixture.StartAsync(new BffOptions { UnknownDeviceKeyCacheLifetime = TimeSpan.Zero });
        Assert.Null(await fixture.Directory.FindDeviceKeyAsync("stranger", "k1", Ct));
        Assert.Null(await fixture.Directory.FindDeviceKeyAsync("stranger", "k1", Ct));
        Assert.Equal(2, fixture.Workers.Asked("stranger", "k1"));
    }

    /// <summary>A <see cref="ServiceDirectory"/> on MassTransit's in-memory test harness, with a fake admin consumer.</summary>
    sealed class DirectoryFixture : IAsyncDisposable
    {
        readonly ServiceProvider _provider;

        DirectoryFixture(ServiceProvider provider, BffOptions options)
        {
            _provider = provider;
            Directory = new ServiceDirectory(provider.GetRequiredService<IBus>(), Options.Create(new MessagingOptions { RequestTimeout = TimeSpan.FromSeconds(10) }),
                Options.Create(options), NullLogger<ServiceDirectory>.Instance, Clock);
        }

        public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

        public ServiceDirectory Directory { get; }

        public FakeWorkers Workers => _provider.GetRequiredService<FakeWorkers>();

        public static async Task<DirectoryFixture> StartAsync(BffOptions options)
        {
            var services = new ServiceCollection();
            services.AddSingleton<FakeWorkers>();
            services.AddMassTransitTestHarness(bus => bus.AddConsumer<FakeAdminConsumer>().Endpoint(e => e.Name = R2psQueues.AdminQueue));
            var provider = services.BuildServiceProvider(validateScopes: true);
            await provider.GetRequiredService<ITestHarness>().Start();
            return new DirectoryFixture(provider, options);
        }

        public async ValueTask DisposeAsync()
        {
            Directory.Dispose();
            await _provider.GetRequiredService<ITestHarness>().Stop();
            await _provider.DisposeAsync();
        }
    }

    sealed class FakeWorkers
    {
        readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), int> _asked = new();
        readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), bool> _registered = new();

        public void Register(string clientId, string kid) => _registered[(clientId, kid)] = true;

        public bool IsRegistered(string clientId, string kid) => _registered.ContainsKey((clientId, kid));

        public void CountAsk(string clientId, string kid) => _asked.AddOrUpdate((clientId, kid), 1, (_, n) => n + 1);

        public int Asked(string clientId, string kid) => _asked.GetValueOrDefault((clientId, kid));
    }

    sealed class FakeAdminConsumer(FakeWorkers workers) : IConsumer<GetDeviceKey>
    {
        public async Task Consume(ConsumeContext<GetDeviceKey> context)
        {
            var (clientId, kid) = (context.Message.ClientId, context.Message.Kid);
            workers.CountAsk(clientId, kid);
            if (workers.IsRegistered(clientId, kid))
                await context.RespondAsync(new DeviceKeyFound(clientId, kid, [0x30], ["hsm"]));
            else
                await context.RespondAsync(new DeviceKeyNotFound(clientId, kid));
        }
    }
}
