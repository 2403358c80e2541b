using Microsoft.Extensions.Options;

namespace R2ps.Sessions;

/// <summary>Settings of the sign-session saga, read model and sweeper (configuration section <c>SignSessions</c>).</summary>
public sealed class SignSessionOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "SignSessions";

    /// <summary>The database provider: <c>sqlite</c> (default) or <c>postgres</c> (see <see cref="R2ps.Store.DatabaseProviders"/>).</summary>
    public string Provider { get; set; } = R2ps.Store.DatabaseProviders.Sqlite;

    /// <summary>
    /// Connection string of the saga's database, e.g. <c>Data Source=/var/lib/r2ps/r2ps.db</c> or
    /// <c>Host=db;Database=r2ps;Username=r2ps;Password=…</c>. Required.
    /// </summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>How often the sweeper looks for due sessions.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>At most this many due sessions are expired per sweep; the next sweep takes the rest.</summary>
    public int SweepBatchSize { get; set; } = 500;

    /// <summary>A due session whose expiry was sent is not sent again before this (a lost message is re-sent after it).</summary>
    public TimeSpan ExpiryResendAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether this process runs the sweeper. Several sweepers on one database are harmless.</summary>
    public bool SweeperEnabled { get; set; } = true;

    /// <summary>
    /// Timeout of every request to the saga (begin, activate, close; a fan-out gets twice this). Well below the
    /// caller's <c>Messaging:RequestTimeout</c> (10 s by default), so a saga that is slow fails the request as
    /// SERVICE_UNAVAILABLE while the caller still waits, rather than changing state after the caller was told 503.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A saga message whose send-to-handled time reaches this is logged as a warning with its queue wait, handling time,
    /// retries and the thread pool's state (<see cref="SlowSagaMessageLog{T}"/>). Zero turns the log off.
    /// </summary>
    public TimeSpan SlowMessageThreshold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// SQLite: the session reads of requests (one session by id, a key's sessions at login) run as statements compiled
    /// once and kept on a few open connections (<see cref="R2ps.Store.SqlitePreparedRead"/>) instead of through EF Core.
    /// Off: through EF Core, as on PostgreSQL.
    /// </summary>
    public bool PreparedReads { get; set; } = true;

    /// <summary>Saga endpoint: concurrent messages, and partitions (messages of one session never run concurrently).</summary>
    public int ConcurrencyLimit { get; set; } = 16;

    /// <summary>
    /// How long a statement waits for another connection's lock (on SQLite the <c>busy_timeout</c> pragma; on both
    /// providers the command timeout rounded up to whole seconds, which also bounds Microsoft.Data.Sqlite's own retries
    /// on a busy file: its default is 30 s). Must be below <see cref="RequestTimeout"/>; a statement that still finds the file locked
    /// fails and the saga's message retry runs it again.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Live sessions (pending or active) one client key <c>(client_id, kid)</c> may hold: a login beyond it ends the
    /// key's oldest sessions first. A soft cap: logins that begin at the same moment may pass it by their number.
    /// </summary>
    public int MaxSessionsPerKey { get; set; } = 16;

    /// <summary>
    /// The longest an activated session may live, whatever the activation asks for (PROTOCOL.md 1.5: the default
    /// maximum is 15 min). Keep it at least <c>R2ps:DefaultMaxSessionDuration</c>, which the worker checks at start.
    /// </summary>
    public TimeSpan MaxSessionDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Sessions a fan-out (context close, revocation, new PIN, lockout, the cap above) ends at once.</summary>
    public int FanOutParallelism { get; set; } = 8;

    /// <summary>The timeout of a fan-out request: it makes bounded requests of its own.</summary>
    public TimeSpan FanOutTimeout => RequestTimeout * 2;

    /// <summary>The command timeout of the saga's connections: <see cref="BusyTimeout"/> in whole seconds, at least 1 (0 would mean no limit).</summary>
    public int CommandTimeoutSeconds => R2ps.Store.RelationalDatabase.CommandTimeoutSeconds(BusyTimeout);
}

/// <summary>Rejects unusable <see cref="SignSessionOptions"/> at start.</summary>
public sealed class SignSessionOptionsValidator : IValidateOptions<SignSessionOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SignSessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        failures.AddRange(R2ps.Store.RelationalDatabase.Validate(SignSessionOptions.SectionName, options.Provider, options.ConnectionString));
        if (options.SweepInterval < TimeSpan.FromMilliseconds(10) || options.SweepInterval > TimeSpan.FromMinutes(1))
            failures.Add($"{SignSessionOptions.SectionName}:SweepInterval must be between 10 ms and 1 min.");
        if (options.SweepBatchSize is < 1 or > 100_000)
            failures.Add($"{SignSessionOptions.SectionName}:SweepBatchSize must be between 1 and 100000.");
        if (options.ExpiryResendAfter < TimeSpan.Zero || options.ExpiryResendAfter > TimeSpan.FromMinutes(10))
            failures.Add($"{SignSessionOptions.SectionName}:ExpiryResendAfter must be between 0 and 10 min.");
        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(5))
            failures.Add($"{SignSessionOptions.SectionName}:RequestTimeout must be positive and at most 5 min.");
        if (options.SlowMessageThreshold < TimeSpan.Zero || options.SlowMessageThreshold > TimeSpan.FromMinutes(5))
            failures.Add($"{SignSessionOptions.SectionName}:SlowMessageThreshold must be between 0 (off) and 5 min.");
        if (options.ConcurrencyLimit is < 1 or > 1024)
            failures.Add($"{SignSessionOptions.SectionName}:ConcurrencyLimit must be between 1 and 1024.");
        if (options.BusyTimeout < TimeSpan.Zero || options.BusyTimeout > TimeSpan.FromMinutes(5))
            failures.Add($"{SignSessionOptions.SectionName}:BusyTimeout must be between 0 and 5 min.");
        else if (options.RequestTimeout > TimeSpan.Zero && TimeSpan.FromSeconds(options.CommandTimeoutSeconds) >= options.RequestTimeout)
            failures.Add($"{SignSessionOptions.SectionName}:BusyTimeout (rounded up to whole seconds) must be below RequestTimeout, or a locked database outlasts every request to the saga.");
        if (options.MaxSessionDuration <= TimeSpan.Zero || options.MaxSessionDuration > TimeSpan.FromDays(1))
            failures.Add($"{SignSessionOptions.SectionName}:MaxSessionDuration must be positive and at most 1 day.");
        if (options.MaxSessionsPerKey is < 1 or > 1024)
            failures.Add($"{SignSessionOptions.SectionName}:MaxSessionsPerKey must be between 1 and 1024.");
        if (options.FanOutParallelism is < 1 or > 64)
            failures.Add($"{SignSessionOptions.SectionName}:FanOutParallelism must be between 1 and 64.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
