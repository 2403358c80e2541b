using Microsoft.Extensions.Options;

namespace R2ps.Sessions;

/// <summary>Settings of the sign-session saga, read model and sweeper (configuration section <c>SignSessions</c>).</summary>
public sealed class SignSessionOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "SignSessions";

    /// <summary>SQLite connection string of the saga's database, e.g. <c>Data Source=/var/lib/r2ps/r2ps.db</c>. Required.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>How often the sweeper looks for due sessions.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>At most this many due sessions are expired per sweep; the next sweep takes the rest.</summary>
    public int SweepBatchSize { get; set; } = 500;

    /// <summary>A due session whose expiry was sent is not sent again before this (a lost message is re-sent after it).</summary>
    public TimeSpan ExpiryResendAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether this process runs the sweeper. Several sweepers on one database are harmless.</summary>
    public bool SweeperEnabled { get; set; } = true;

    /// <summary>Timeout of every request to the saga (begin, activate, close, fan-out).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Saga endpoint: concurrent messages, and partitions (messages of one session never run concurrently).</summary>
    public int ConcurrencyLimit { get; set; } = 16;

    /// <summary>How long a SQLite statement waits for another connection's write lock.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Rejects unusable <see cref="SignSessionOptions"/> at start.</summary>
public sealed class SignSessionOptionsValidator : IValidateOptions<SignSessionOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SignSessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            failures.Add($"{SignSessionOptions.SectionName}:ConnectionString is required.");
        if (options.SweepInterval < TimeSpan.FromMilliseconds(10) || options.SweepInterval > TimeSpan.FromMinutes(1))
            failures.Add($"{SignSessionOptions.SectionName}:SweepInterval must be between 10 ms and 1 min.");
        if (options.SweepBatchSize is < 1 or > 100_000)
            failures.Add($"{SignSessionOptions.SectionName}:SweepBatchSize must be between 1 and 100000.");
        if (options.ExpiryResendAfter < TimeSpan.Zero || options.ExpiryResendAfter > TimeSpan.FromMinutes(10))
            failures.Add($"{SignSessionOptions.SectionName}:ExpiryResendAfter must be between 0 and 10 min.");
        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(5))
            failures.Add($"{SignSessionOptions.SectionName}:RequestTimeout must be positive and at most 5 min.");
        if (options.ConcurrencyLimit is < 1 or > 1024)
            failures.Add($"{SignSessionOptions.SectionName}:ConcurrencyLimit must be between 1 and 1024.");
        if (options.BusyTimeout < TimeSpan.Zero || options.BusyTimeout > TimeSpan.FromMinutes(5))
            failures.Add($"{SignSessionOptions.SectionName}:BusyTimeout must be between 0 and 5 min.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
