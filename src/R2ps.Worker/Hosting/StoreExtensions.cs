using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using R2ps.Service.Ports;
using R2ps.Store;
using R2ps.Worker.Adapters;

namespace R2ps.Worker.Hosting;

/// <summary>The durable store shared by every worker, and the service core's ports over it.</summary>
public static class StoreExtensions
{
    /// <summary>
    /// <see cref="StoreServiceCollectionExtensions.AddR2psStore"/> (section <c>Store</c>, validated at start, tables
    /// created at start) plus the ports: client directory, registration codes, OPAQUE records, lockout, nonces, audit, the one-commit nonce-and-audit ledger,
    /// HSM key metadata, the vault and audit trail, and the sealed-secret table that holds the OPRF seed.
    /// </summary>
    public static IServiceCollection AddR2psStorePorts(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddR2psStore(configuration);
        services.TryAddSingleton<IClientDirectory, StoreClientDirectory>();
        services.TryAddSingleton<IRegistrationCodes, StoreRegistrationCodes>();
        services.TryAddSingleton<IOpaqueRecords, StoreOpaqueRecords>();
        services.TryAddSingleton<ILoginLockout, StoreLoginLockout>();
        services.TryAddSingleton<Service.Ports.INonceCache, StoreNonces>();
        services.TryAddSingleton<Service.Ports.IAuditLog, StoreAudit>();
        services.TryAddSingleton<Service.Ports.IRequestLedger, StoreLedger>();
        services.TryAddSingleton<StoreKeyMetadata>();
        services.TryAddSingleton<IHsmKeyMetadata, CachedKeyMetadata>();
        services.TryAddSingleton<ISealedSecretStore, StoreSealedSecrets>();
        services.TryAddSingleton<IVaultStore, StoreVault>();
        services.TryAddSingleton<IAuditTrail, StoreAuditTrail>();
        return services;
    }
}
