using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using R2ps.Testing;

namespace R2ps.Sessions.Tests;

/// <summary>
/// The sign-session saga on MassTransit's test harness (in-memory transport) with its real EF Core repository on a
/// database of its own (SQLite or PostgreSQL), a hand-moved clock (its timers fire only when the test advances it) and no sweeper (tests send the expiries themselves).
/// </summary>
internal sealed class SagaHarness : IAsyncDisposable
{
    readonly TempDatabase _database;
    readonly ServiceProvider _provider;

    SagaHarness(TempDatabase database, Action<SignSessionOptions>? configure)
    {
        _database = database;
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton(Log);
        services.AddLogging(logging => logging.AddFakeLogging());
        services.AddConsumeObserver(provider => provider.GetRequiredService<MessageLog>());
        services.AddMassTransitTestHarness(bus =>
        {
            bus.AddSignSessions(options =>
            {
                _database.Apply(options);
                options.SweeperEnabled = false;
                options.RequestTimeout = TimeSpan.FromSeconds(10);
                configure?.Invoke(options);
            });
            bus.AddConsumer<SignSessionEndedRecorder>();
        });
        _provider = services.BuildServiceProvider(validateScopes: true);
        Harness = _provider.GetRequiredService<ITestHarness>();
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    public MessageLog Log { get; } = new();

    public ITestHarness Harness { get; }

    public ISignSessionCommands Commands => _provider.GetRequiredService<ISignSessionCommands>();

    public ISignSessionReader Reader => _provider.GetRequiredService<ISignSessionReader>();

    public IBus Bus => _provider.GetRequiredService<IBus>();

    public TempDatabase Database => _database;

    /// <summary>What the saga's process logged.</summary>
    public FakeLogCollector Logs => _provider.GetFakeLogCollector();

    public static async Task<SagaHarness> StartAsync(TestDatabaseProvider provider, Action<SignSessionOptions>? configure = null)
    {
        var harness = new SagaHarness(await TempDatabase.CreateAsync(provider), configure);
        await harness.Harness.Start();
        return harness;
    }

    /// <summary>Begins a login and waits until the saga has persisted it.</summary>
    public async Task<Contracts.BeginSignSessionLogin> BeginAsync(string clientId = "client-1", string kid = "kid-1", string context = "hsm")
    {
        var begin = SessionMessages.Begin(Clock.GetUtcNow(), clientId, kid, context);
        await Commands.BeginLoginAsync(begin, TestContext.Current.CancellationToken);
        return begin;
    }

    /// <summary>Begins and activates a session with the given TTL.</summary>
    public async Task<Contracts.BeginSignSessionLogin> BeginActiveAsync(TimeSpan ttl, string clientId = "client-1", string kid = "kid-1",
        string context = "hsm")
    {
        var begin = await BeginAsync(clientId, kid, context);
        var activation = await Commands.ActivateAsync(SessionMessages.Activate(begin.SessionId, Clock.GetUtcNow() + ttl),
            TestContext.Current.CancellationToken);
        Assert.True(activation.Activated);
        return begin;
    }

    /// <summary>Publishes an expiry as the sweeper would and waits until the saga consumed it.</summary>
    public async Task ExpireAsync(Guid sessionId)
    {
        await Bus.Publish(new Contracts.ExpireSignSession(sessionId), TestContext.Current.CancellationToken);
        await Log.WaitFor<Contracts.ExpireSignSession>(x => x.SessionId == sessionId);
    }

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
        _database.Dispose();
    }
}
