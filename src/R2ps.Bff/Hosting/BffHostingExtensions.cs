using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.RateLimiting;
using R2ps.Bff.Broker;
using R2ps.Bff.Endpoints;
using R2ps.Bff.Health;
using R2ps.Bff.Sessions;
using R2ps.Crypto.SelfTest;
using R2ps.Hsm;
using R2ps.Messaging;
using R2ps.Store;
using R2ps.Telemetry;

namespace R2ps.Bff.Hosting;

/// <summary>Registration of the BFF.</summary>
public static class BffHostingExtensions
{
    /// <summary><see cref="AddR2psBffServices"/> on the builder's services and configuration.</summary>
    public static IHostApplicationBuilder AddR2psBff(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddR2psBffServices(builder.Services, builder.Configuration);
        return builder;
    }

    /// <summary>
    /// Registers the BFF: <see cref="BffOptions"/> (section <c>Bff</c>) and <see cref="AdminOptions"/> (section <c>Admin</c>),
    /// validated at start; the HSM (section <c>Hsm</c>; one <see cref="HsmConnection"/> per process, shared with a worker
    /// in the same process) with <see cref="BffKeys"/> found or created at start; its database (SQLite or PostgreSQL; tables created at
    /// start) and sweeper; the bus (<see cref="MessagingServiceCollectionExtensions.AddR2psMessaging"/>) unless a
    /// worker registered in this process already added it — in one process, register the worker first; and telemetry
    /// (section <c>Telemetry</c>, see <see cref="TelemetryServiceCollectionExtensions.AddR2psTelemetry"/>).
    /// </summary>
    public static IServiceCollection AddR2psBffServices(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<BffOptions>().Bind(configuration.GetSection(BffOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BffOptions>, BffOptionsValidator>());
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.AddHostedService<BffSelfTest>();
        services.AddR2psTelemetry(configuration);

        // The HSM: the same options and connection a worker in this process would use.
        services.AddOptions<HsmOptions>().Bind(configuration.GetSection(HsmOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HsmOptions>, BffHsmOptionsValidator>());
        services.TryAddSingleton(provider => HsmConnection.Open(provider.GetRequiredService<IOptions<HsmOptions>>().Value));
        // DI factories are synchronous; this runs once, at start, on an idle pool: the session wait completes at once.
        services.TryAddSingleton(provider => BffKeys.OpenAsync(provider.GetRequiredService<HsmConnection>(), provider.GetRequiredService<IOptions<BffOptions>>().Value)
            .GetAwaiter().GetResult());

        services.AddDbContextFactory<BffDbContext>((provider, builder) =>
        {
            var bff = provider.GetRequiredService<IOptions<BffOptions>>().Value;
            RelationalDatabase.Configure(builder, bff.Provider, bff.ConnectionString, bff.BusyTimeout);
        });
        services.TryAddSingleton<DeviceSessionStore>();
        services.TryAddSingleton<DeviceSessionService>();
        services.TryAddSingleton<ServiceDirectory>();
        services.AddHostedService<BffStartup>();
        services.AddHostedService<BffSchemaInitializer>();
        services.AddHostedService<DeviceSessionSweeper>();
        services.TryAddSingleton<BffRateLimits>();
        // ASP.NET Core's rate limiter with the per-address limiter (the per-client one is taken in the routes);
        // MapR2psBff adds the middleware.
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<BffRateLimits>((o, limits) => limits.Configure(o));
        services.TryAddSingleton<ReadinessProbe>();
        services.AddHostedService(provider => provider.GetRequiredService<ReadinessProbe>());

        if (!services.Any(d => d.ServiceType == typeof(R2psServiceClient)))
            services.AddR2psMessaging(configuration);
        return services;
    }
}

/// <summary>Checks <see cref="HsmOptions"/> with its own rules.</summary>
internal sealed class BffHsmOptionsValidator : IValidateOptions<HsmOptions>
{
    public ValidateOptionsResult Validate(string? name, HsmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>Runs the cryptographic known-answer self-test before anything else starts.</summary>
internal sealed partial class BffSelfTest(ILogger<BffSelfTest> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var results = CryptoSelfTest.RunOrThrow();
        LogPassed(results.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "BFF cryptographic self-test passed ({Count} checks)")]
    partial void LogPassed(int count);
}

/// <summary>Opens the HSM and loads (or creates) the BFF's keys at start; says whether the admin API is enabled.</summary>
internal sealed partial class BffStartup(IServiceProvider services, IOptions<AdminOptions> admin, ILogger<BffStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var keys = services.GetRequiredService<BffKeys>();
        var publicKey = Convert.ToHexStringLower(keys.Key.PublicKey.ToCompressed());
        LogKeysReady(publicKey);
        if (!admin.Value.Enabled)
            LogAdminDisabled();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "BFF key ready (public key {PublicKey})")]
    partial void LogKeysReady(string publicKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin API disabled: Admin:Token is not configured; /admin/v1/* answers 503 SERVICE_UNAVAILABLE")]
    partial void LogAdminDisabled();
}
