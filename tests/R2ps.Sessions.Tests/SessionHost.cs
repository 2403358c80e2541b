using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace R2ps.Sessions.Tests;

/// <summary>
/// One process's worth of the saga: a generic host with its own in-memory bus, the real clock, the sweeper, and the
/// saga's database given by the test — several of them on one database stand for several processes.
/// </summary>
internal sealed class SessionHost : IAsyncDisposable
{
    readonly IHost _host;
    bool _stopped;

    SessionHost(IHost host)
    {
        _host = host;
        Log = host.Services.GetRequiredService<MessageLog>();
    }

    public MessageLog Log { get; }

    public ISignSessionCommands Commands => _host.Services.GetRequiredService<ISignSessionCommands>();

    public ISignSessionReader Reader => _host.Services.GetRequiredService<ISignSessionReader>();

    public IServiceProvider Services => _host.Services;

    public static async Task<SessionHost> StartAsync(TempDatabase database, bool sweeper = true)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<MessageLog>();
        builder.Services.AddConsumeObserver(provider => provider.GetRequiredService<MessageLog>());
        builder.Services.Configure<MassTransitHostOptions>(options =>
        {
            options.WaitUntilStarted = true;
            options.StartTimeout = TimeSpan.FromSeconds(10);
            options.StopTimeout = TimeSpan.FromSeconds(10);
        });
        builder.Services.AddMassTransit(bus =>
        {
            bus.AddSignSessions(options =>
            {
                database.Apply(options);
                options.SweeperEnabled = sweeper;
                options.SweepInterval = TimeSpan.FromMilliseconds(250);
            });
            bus.AddConsumer<SignSessionEndedRecorder>();
            bus.UsingInMemory((context, configurator) => configurator.ConfigureEndpoints(context));
        });

        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new SessionHost(host);
    }

    public async Task StopAsync()
    {
        if (_stopped)
            return;
        _stopped = true;
        await _host.StopAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}
