using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace R2ps.Store;

/// <summary>Registers the durable store.</summary>
public static class StoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the store: <see cref="StoreOptions"/> bound from the <c>Store</c> section of
    /// <paramref name="configuration"/> and validated at start, the store interfaces (singletons, one short-lived
    /// context per call), a hosted service that creates the tables at start (when
    /// <see cref="StoreOptions.CreateSchemaAtStart"/>) and one that prunes expired nonces and audit entries past
    /// <see cref="StoreOptions.AuditRetention"/>, in batches. Without a host, call
    /// <see cref="InitializeR2psStoreAsync"/> instead of starting the hosted services.
    /// </summary>
    public static IServiceCollection AddR2psStore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<StoreOptions>()
            .Bind(configuration.GetSection(StoreOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StoreOptions>, StoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        // Pooled: every store call takes a context, so the per-request cost of building one (services, change
        // tracker, state) is paid once per pooled instance. The pool size is a registration-time setting in EF Core,
        // read here; the validator checks the same value at start.
        var poolSize = configuration.GetSection(StoreOptions.SectionName).GetValue<int?>(nameof(StoreOptions.DbContextPoolSize))
            ?? StoreOptions.DefaultDbContextPoolSize;
        services.AddPooledDbContextFactory<R2psStoreDbContext>(
            (provider, builder) => StoreDatabase.Configure(builder, provider.GetRequiredService<IOptions<StoreOptions>>().Value),
            Math.Clamp(poolSize, 1, StoreOptions.MaxDbContextPoolSize));

        services.TryAddSingleton<StoreWriteBatcher>();
        services.TryAddSingleton<IClientRegistry, ClientRegistry>();
        services.TryAddSingleton<IRegistrationCodeStore, RegistrationCodeStore>();
        services.TryAddSingleton<IOpaqueRecordStore, OpaqueRecordStore>();
        services.TryAddSingleton<ILoginAttemptStore, LoginAttemptStore>();
        services.TryAddSingleton<IHsmKeyStore, HsmKeyStore>();
        services.TryAddSingleton<INonceCache, NonceCache>();
        services.TryAddSingleton<IAuditLog, AuditLog>();
        services.TryAddSingleton<IRequestLedger, RequestLedger>();
        services.TryAddSingleton<ISecretStore, SecretStore>();

        // Schema first: hosted services start in registration order.
        services.AddHostedService<StoreSchemaInitializer>();
        services.TryAddSingleton<StoreRetention>();
        services.AddHostedService<StorePruningService>();
        return services;
    }

    /// <summary>
    /// Validates the options and creates the store's missing tables, for callers without a host (tools, tests).
    /// </summary>
    /// <exception cref="OptionsValidationException">The <c>Store</c> configuration is invalid.</exception>
    public static async Task InitializeR2psStoreAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.GetRequiredService<IOptions<StoreOptions>>().Value; // throws when invalid
        if (!options.CreateSchemaAtStart)
        {
            return;
        }

        var factory = services.GetRequiredService<IDbContextFactory<R2psStoreDbContext>>();
        var context = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (context.ConfigureAwait(false))
        {
            await RelationalSchema.EnsureTablesCreatedAsync(context, cancellationToken).ConfigureAwait(false);
        }
    }
}
