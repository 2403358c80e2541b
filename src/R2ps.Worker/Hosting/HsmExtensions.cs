using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Hsm;
using R2ps.Service.Ports;
using R2ps.Worker.Adapters;

namespace R2ps.Worker.Hosting;

/// <summary>The HSM: options, the logged-in connection, the service keys and the ports the service core uses.</summary>
public static class HsmExtensions
{
    /// <summary>
    /// Registers <see cref="HsmOptions"/> (section <c>Hsm</c>, validated at start), one <see cref="HsmConnection"/> per
    /// process, <see cref="HsmKeyService"/>, and the ports <see cref="IClientKeyOperations"/>, <see cref="ISecretSealer"/>
    /// and <see cref="IServerKeys"/> (the server key serves <see cref="WorkerOptions.Context"/>). A hosted service opens the
    /// HSM and finds (or creates) the server and sealing keys at start, so a bad module path, token label or PIN fails
    /// the start with the HSM's own <see cref="HsmConfigurationException"/>, before the bus connects.
    /// </summary>
    public static IServiceCollection AddR2psHsm(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<HsmOptions>().Bind(configuration.GetSection(HsmOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HsmOptions>, HsmOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton(provider => HsmConnection.Open(provider.GetRequiredService<IOptions<HsmOptions>>().Value));
        services.TryAddSingleton(provider => new HsmKeyService(provider.GetRequiredService<HsmConnection>(), provider.GetRequiredService<TimeProvider>()));
        // DI factories are synchronous. These run once, when HsmStartup resolves them at start, on an idle pool: the
        // session wait completes at once, so nothing blocks on it.
        services.TryAddSingleton(provider => HsmServiceKeys.GetOrCreateSealingKeyAsync(provider.GetRequiredService<HsmConnection>(),
            provider.GetRequiredService<IOptions<HsmOptions>>().Value.SealingKeyLabel).GetAwaiter().GetResult());
        services.TryAddSingleton(provider => HsmServiceKeys.GetOrCreateServerKeyAsync(provider.GetRequiredService<HsmConnection>(),
            provider.GetRequiredService<IOptions<HsmOptions>>().Value.ServerKeyLabel).GetAwaiter().GetResult());

        services.TryAddSingleton<IClientKeyOperations, HsmClientKeys>();
        services.TryAddSingleton<ISecretSealer>(provider => new HsmSecretSealer(provider.GetRequiredService<HsmSealingKey>()));
        services.TryAddSingleton<IServerKeys>(provider => new HsmServerKeys(
            provider.GetRequiredService<IOptions<WorkerOptions>>().Value.Context, provider.GetRequiredService<Pkcs11EcPrivateKey>()));
        services.AddHostedService<HsmStartup>();
        return services;
    }
}

/// <summary>Checks <see cref="HsmOptions"/> with its own rules.</summary>
internal sealed class HsmOptionsValidator : IValidateOptions<HsmOptions>
{
    public ValidateOptionsResult Validate(string? name, HsmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>Opens the HSM and loads the service keys at start (rather than on the first request).</summary>
internal sealed partial class HsmStartup(IServiceProvider services, ILogger<HsmStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = services.GetRequiredService<HsmConnection>();
        var serverKey = services.GetRequiredService<Pkcs11EcPrivateKey>();
        services.GetRequiredService<HsmSealingKey>();
        LogReady(connection.TokenLabel, connection.PoolSize, serverKey.Label);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "HSM token {Token} open with {PoolSize} sessions; server key {ServerKeyLabel} ready")]
    partial void LogReady(string token, int poolSize, string serverKeyLabel);
}
