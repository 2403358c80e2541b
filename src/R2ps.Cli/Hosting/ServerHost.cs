using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using R2ps.Bff.Endpoints;
using R2ps.Bff.Hosting;
using R2ps.Messaging;
using R2ps.Sessions;
using R2ps.Telemetry;
using R2ps.Worker.Hosting;

namespace R2ps.Cli.Hosting;

/// <summary>What a server process runs.</summary>
internal enum ServerRole
{
    /// <summary>BFF, worker and saga in one process (the worker registered first; the BFF then reuses its bus and HSM).</summary>
    All,

    /// <summary>The BFF alone; workers elsewhere on the broker.</summary>
    Bff,

    /// <summary>A worker (request consumer, admin consumers, saga and its sweeper): the registrations of R2ps.Worker.</summary>
    Worker,

    /// <summary>
    /// The sign-session saga alone (state machine, fan-out consumers, expiry sweeper) on the broker: no HSM, no request
    /// consumer. Workers host the saga too; a saga host adds capacity for session lifecycle messages and keeps expiring
    /// sessions while no worker runs.
    /// </summary>
    Saga,
}

/// <summary>How a <see cref="ServerHost"/> is configured.</summary>
internal sealed record ServerHostSettings
{
    /// <summary>Lowest priority (below appsettings.json, the environment and the command line): the data folder's paths.</summary>
    public IReadOnlyDictionary<string, string?> Defaults { get; init; } = new Dictionary<string, string?>();

    /// <summary>Highest priority: what the r2ps options say (<c>--broker</c>, <c>--rabbitmq</c>).</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();

    /// <summary>Configuration arguments left over on the command line (<c>--Hsm:SessionPoolSize=4</c>).</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>When false, only <see cref="Defaults"/> and <see cref="Overrides"/> configure it (the demo's embedded run).</summary>
    public bool UseStandardSources { get; init; } = true;

    /// <summary>Where Kestrel listens (BFF roles); null = ASP.NET's own configuration (<c>urls</c>, ASPNETCORE_URLS).</summary>
    public string? Urls { get; init; }

    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;
}

/// <summary>A started BFF and/or worker in this process.</summary>
internal sealed class ServerHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ServerHost(IHost host, IReadOnlyList<Uri> addresses)
    {
        _host = host;
        Addresses = addresses;
    }

    /// <summary>Where the BFF listens (empty for a worker).</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>Builds the host for <paramref name="role"/> and starts it (self-test, HSM, store, bus, Kestrel).</summary>
    public static async Task<ServerHost> StartAsync(ServerRole role, ServerHostSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var args = settings.UseStandardSources ? settings.Arguments.ToArray() : [];
        IHost host;
        if (role is ServerRole.Worker or ServerRole.Saga)
        {
            var builder = Host.CreateApplicationBuilder(settings.UseStandardSources
                ? new HostApplicationBuilderSettings { Args = args }
                : new HostApplicationBuilderSettings { DisableDefaults = true });
            Configure(builder.Configuration, builder.Logging, settings);
            builder.Services.AddR2psTelemetry(builder.Configuration); // the BFF roles get it from AddR2psBff
            if (role == ServerRole.Worker)
                builder.Services.AddR2psWorker(builder.Configuration);
            else
                builder.Services.AddR2psMessaging(builder.Configuration, bus => bus.AddSignSessions());
            host = builder.Build();
        }
        else
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
            if (!settings.UseStandardSources)
                builder.Configuration.Sources.Clear();
            Configure(builder.Configuration, builder.Logging, settings);
            if (settings.Urls is { } urls)
                builder.WebHost.UseUrls(urls);
            if (role == ServerRole.All)
                builder.Services.AddR2psWorker(builder.Configuration);
            builder.AddR2psBff();
            var app = builder.Build();
            app.MapR2psBff();
            host = app;
        }

        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        var addresses = role is ServerRole.Worker or ServerRole.Saga
            ? []
            : host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
                .Select(a => new Uri(a.TrimEnd('/') + "/")).ToList() ?? [];
        return new ServerHost(host, addresses);
    }

    /// <summary>Completes when the host stops by itself (SIGTERM, Ctrl+C through the host's lifetime) or the token fires.</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        var lifetime = _host.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStopping = lifetime.ApplicationStopping.Register(() => stopped.TrySetResult());
        using var onCancel = cancellationToken.Register(() => stopped.TrySetResult());
        await stopped.Task.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        if (_host is IAsyncDisposable asyncDisposable)
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        else
            _host.Dispose();
    }

    private static void Configure(ConfigurationManager configuration, ILoggingBuilder logging, ServerHostSettings settings)
    {
        configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = settings.Defaults });
        configuration.AddInMemoryCollection(settings.Overrides);
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        logging.SetMinimumLevel(settings.MinimumLogLevel);
        logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        logging.AddFilter("MassTransit", LogLevel.Warning);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", settings.MinimumLogLevel);
    }
}
