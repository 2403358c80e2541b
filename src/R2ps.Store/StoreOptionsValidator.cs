using Microsoft.Data.Sqlite;
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

        if (StoreDatabase.TryNormalizeProvider(options.Provider) is not { } provider)
        {
            failures.Add($"Store:Provider '{options.Provider}' is not supported; use '{StoreProviders.Sqlite}' or '{StoreProviders.Postgres}'.");
        }
        else if (provider == StoreProviders.Postgres)
        {
            failures.Add(StoreDatabase.PostgresUnavailable);
        }
        else if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add("Store:ConnectionString is required.");
        }
        else
        {
            if (CheckSqlite(options.ConnectionString) is { } problem)
            {
                failures.Add(problem);
            }
        }

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
        RequirePositive(failures, "MaxOpaqueRecordBytes", options.MaxOpaqueRecordBytes);
        RequirePositive(failures, "MaxPublicKeyBytes", options.MaxPublicKeyBytes);
        RequirePositive(failures, "MaxContextsPerClient", options.MaxContextsPerClient);
        RequirePositive(failures, "MaxAuditDetailLength", options.MaxAuditDetailLength);
        RequirePositive(failures, "MaxAuditQueryResults", options.MaxAuditQueryResults);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string? CheckSqlite(string connectionString)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // The parser's message may echo the string; ours does not, since a connection string can hold a password.
            return "Store:ConnectionString is not a valid SQLite connection string (expected e.g. 'Data Source=/var/lib/r2ps/store.db').";
        }

        if (string.IsNullOrWhiteSpace(builder.DataSource))
        {
            return "Store:ConnectionString for SQLite needs a 'Data Source' file path.";
        }

        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource.Trim() == ":memory:")
        {
            return "Store:ConnectionString for SQLite must name a file: an in-memory database is not shared between workers and does not survive a restart.";
        }

        return builder.Mode == SqliteOpenMode.ReadOnly
            ? "Store:ConnectionString for SQLite must not be read-only: the store writes."
            : null;
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
