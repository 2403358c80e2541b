using Microsoft.Extensions.Options;

namespace R2ps.Store;

/// <summary>Checks <see cref="StoreOptions"/> at start-up so a bad provider or connection string fails fast with a clear message.</summary>
public sealed class StoreOptionsValidator : IValidateOptions<StoreOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        failures.AddRange(RelationalDatabase.Validate(StoreOptions.SectionName, options.Provider, options.ConnectionString));

        RequireAtLeast(failures, "SqliteBusyTimeout", options.SqliteBusyTimeout, TimeSpan.FromMilliseconds(1));
        if (options.RegistrationCodeBytes is < 16 or > 256)
        {
            failures.Add("Store:RegistrationCodeBytes must be between 16 and 256.");
        }

        RequireAtLeast(failures, "RegistrationCodeLifetime", options.RegistrationCodeLifetime, TimeSpan.FromSeconds(1));
        if (options.MaxConsecutiveLoginFailures < 1)
        {
            failures.Add("Store:MaxConsecutiveLoginFailures must be at least 1.");
        }

        RequireAtLeast(failures, "LockoutDuration", options.LockoutDuration, TimeSpan.FromSeconds(1));
        RequireAtLeast(failures, "NoncePruneInterval", options.NoncePruneInterval, TimeSpan.FromSeconds(1));
        RequireAtLeast(failures, "AuditRetention", options.AuditRetention, TimeSpan.FromMinutes(1));
        if (options.AuditRetention > TimeSpan.FromDays(3650))
        {
            failures.Add("Store:AuditRetention must be at most 3650 days.");
        }

        if (options.PruneBatchSize is < 1 or > 100_000)
        {
            failures.Add("Store:PruneBatchSize must be between 1 and 100,000.");
        }

        RequirePositive(failures, "MaxOpaqueRecordBytes", options.MaxOpaqueRecordBytes);
        RequirePositive(failures, "MaxPublicKeyBytes", options.MaxPublicKeyBytes);
        RequirePositive(failures, "MaxContextsPerClient", options.MaxContextsPerClient);
        RequirePositive(failures, "MaxAuditDetailLength", options.MaxAuditDetailLength);
        RequirePositive(failures, "MaxAuditQueryResults", options.MaxAuditQueryResults);
        if (options.DbContextPoolSize < 1 || options.DbContextPoolSize > StoreOptions.MaxDbContextPoolSize)
        {
            failures.Add($"Store:DbContextPoolSize must be between 1 and {StoreOptions.MaxDbContextPoolSize}.");
        }

        if (options.MaxWriteBatchSize is < 1 or > 10_000)
        {
            failures.Add("Store:MaxWriteBatchSize must be between 1 and 10000.");
        }

        if (options.WriteQueueCapacity < options.MaxWriteBatchSize || options.WriteQueueCapacity > 1_000_000)
        {
            failures.Add("Store:WriteQueueCapacity must be at least Store:MaxWriteBatchSize and at most 1000000.");
        }

        RequirePositive(failures, "MaxSealedSecretBytes", options.MaxSealedSecretBytes);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequireAtLeast(List<string> failures, string name, TimeSpan value, TimeSpan minimum)
    {
        if (value < minimum)
        {
            failures.Add($"Store:{name} must be at least {minimum}.");
        }
    }

    private static void RequirePositive(List<string> failures, string name, int value)
    {
        if (value < 1)
        {
            failures.Add($"Store:{name} must be at least 1.");
        }
    }
}
