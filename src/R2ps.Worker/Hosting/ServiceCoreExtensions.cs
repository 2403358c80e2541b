using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Service;
using R2ps.Service.Ports;

namespace R2ps.Worker.Hosting;

/// <summary>The service core: <see cref="R2psRequestProcessor"/> with its options, ports and OPRF seed.</summary>
public static class ServiceCoreExtensions
{
    /// <summary>
    /// Registers <see cref="R2psServiceOptions"/> (section <c>R2ps</c>, validated at start; the audit log's worker id is
    /// <c>Worker:Id</c> unless <c>R2ps:WorkerId</c> is set), the OPRF seed (read and unsealed at start, or created once and
    /// shared by every worker) and <see cref="R2psRequestProcessor"/> over the ports registered by the store, HSM and
    /// session registrations; and the start-up check that the inner timeouts fit the caller's (<see cref="TimeoutBudget"/>).
    /// </summary>
    public static IServiceCollection AddR2psServiceCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<R2psServiceOptions>()
            .Bind(configuration.GetSection(R2psServiceOptions.SectionName))
            .PostConfigure<IOptions<WorkerOptions>>((options, worker) =>
            {
                if (string.IsNullOrWhiteSpace(options.WorkerId))
                    options.WorkerId = worker.Value.ResolvedId;
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<R2psServiceOptions>, R2psServiceOptionsValidator>());
        // Checked with the worker's options at start: inner waits must end before the caller's (see TimeoutBudget).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkerOptions>, TimeoutBudgetValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton<OprfSeedHolder>();
        services.AddHostedService<OprfSeedStartup>();
        services.TryAddSingleton(provider => new R2psServicePorts
        {
            Clients = provider.GetRequiredService<IClientDirectory>(),
            RegistrationCodes = provider.GetRequiredService<IRegistrationCodes>(),
            OpaqueRecords = provider.GetRequiredService<IOpaqueRecords>(),
            Lockout = provider.GetRequiredService<ILoginLockout>(),
            Nonces = provider.GetRequiredService<INonceCache>(),
            Audit = provider.GetRequiredService<IAuditLog>(),
            Ledger = provider.GetService<IRequestLedger>(),
            KeyMetadata = provider.GetRequiredService<IHsmKeyMetadata>(),
            ClientKeys = provider.GetRequiredService<IClientKeyOperations>(),
            Sealer = provider.GetRequiredService<ISecretSealer>(),
            ServerKeys = provider.GetRequiredService<IServerKeys>(),
            Sessions = provider.GetRequiredService<ISignSessionGateway>(),
            Vault = provider.GetRequiredService<IVaultStore>(),
            AuditTrail = provider.GetRequiredService<IAuditTrail>(),
        });
        services.TryAddSingleton(provider => new R2psServiceMetrics(provider.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton(provider => new R2psRequestProcessor(
            provider.GetRequiredService<IOptions<R2psServiceOptions>>(),
            provider.GetRequiredService<R2psServicePorts>(),
            provider.GetRequiredService<OprfSeedHolder>().Seed,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<R2psRequestProcessor>>(),
            provider.GetRequiredService<R2psServiceMetrics>()));
        return services;
    }
}

/// <summary>Holds the process's unsealed OPRF seed once <see cref="OprfSeedStartup"/> loaded it; zeroes it on disposal.</summary>
internal sealed class OprfSeedHolder : IDisposable
{
    OprfSeed? _seed;

    public OprfSeed Seed => _seed ?? throw new InvalidOperationException("The OPRF seed is not loaded yet; it is loaded when the host starts.");

    public void Set(OprfSeed seed)
    {
        if (Interlocked.CompareExchange(ref _seed, seed, null) is not null)
            seed.Dispose();
    }

    public void Dispose() => _seed?.Dispose();
}

/// <summary>Loads (or creates once, for every worker) the OPRF seed at start; needs the store's tables and the HSM.</summary>
internal sealed class OprfSeedStartup(ISealedSecretStore store, ISecretSealer sealer, OprfSeedHolder holder) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken) =>
        holder.Set(await OprfSeed.LoadOrCreateAsync(store, sealer, cancellationToken).ConfigureAwait(false));

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
