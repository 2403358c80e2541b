using Microsoft.Extensions.Options;

namespace R2ps.Bff;

/// <summary>The BFF (configuration section <c>Bff</c>).</summary>
public sealed class BffOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "Bff";

    /// <summary>
    /// The default <see cref="MaxBodyBytes"/>: a 64 KiB R2PS envelope wrapped in the device-session JWE grows by 4/3 under
    /// base64url plus a header (see <c>JoseLimits</c>), so 96 KiB.
    /// </summary>
    public const int DefaultMaxBodyBytes = 96 * 1024;

    /// <summary>The provider of the BFF's database: <c>sqlite</c> (default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = R2ps.Store.DatabaseProviders.Sqlite;

    /// <summary>
    /// The BFF's own database (device sessions, its nonce cache), e.g. <c>Data Source=/var/lib/r2ps/bff.db</c> or
    /// <c>Host=db;Database=r2ps_bff;Username=…</c>. Required.
    /// </summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>How long a statement waits for another connection's lock (SQLite busy timeout; on both providers the command timeout).</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a device session lives (PROTOCOL.md 2.1: 15 min by default).</summary>
    public TimeSpan DeviceSessionLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Largest request body accepted on any route; larger → 413.</summary>
    public int MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;

    /// <summary>Largest R2PS envelope forwarded (PROTOCOL.md 1.1: 64 KiB).</summary>
    public int MaxEnvelopeBytes { get; set; } = 64 * 1024;

    /// <summary>Whether <c>POST /r2ps/v1/r2ps</c> (PROTOCOL.md 2.3, no device session) is served.</summary>
    public bool PlainR2psEnabled { get; set; } = true;

    /// <summary>How old a device-session <c>iat</c> may be.</summary>
    public TimeSpan IatPastWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How far in the future a device-session <c>iat</c> may be.</summary>
    public TimeSpan IatFutureWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a found device key is cached (a revocation reaches new device sessions within this).</summary>
    public TimeSpan DeviceKeyCacheLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most device keys cached at once.</summary>
    public int DeviceKeyCacheSize { get; set; } = 10_000;

    /// <summary>
    /// How long an unknown (or revoked) <c>(client_id, kid)</c> is remembered as unknown, so repeated establishments for it
    /// cost no broker round trip. Short: a client registered through another BFF is found once this passes (through this
    /// BFF's admin API at once). 0 disables the negative cache.
    /// </summary>
    public TimeSpan UnknownDeviceKeyCacheLifetime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most unknown device keys remembered at once; further misses are not cached.</summary>
    public int UnknownDeviceKeyCacheSize { get; set; } = 10_000;

    /// <summary>
    /// Most device sessions whose unsealed key this BFF keeps in memory until the session expires (0 = none: every
    /// request reads the session row and unseals its key with the HSM). A device session never changes once created and
    /// ends only by expiring, so a kept one answers exactly as the row would; a session created by another BFF is read
    /// once, then kept.
    /// </summary>
    public int DeviceSessionCacheSize { get; set; } = 10_000;

    /// <summary>The rate limits per remote address and per <c>client_id</c> (section <c>Bff:RateLimit</c>).</summary>
    public BffRateLimitOptions RateLimit { get; set; } = new();

    /// <summary>The label of the BFF's P-256 key in the HSM token (section <c>Hsm</c>); created when absent.</summary>
    public string KeyLabel { get; set; } = "r2ps-bff-key";

    /// <summary>The label of the AES-256 key that seals device-session keys at rest; created when absent.</summary>
    public string SealingKeyLabel { get; set; } = "r2ps-bff-sealing-key";

    /// <summary>How often expired device sessions and nonces are removed.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the readiness probe waits for a worker of each context.</summary>
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often the background readiness probe asks the database and the workers; <c>/health/ready</c> answers from its
    /// last report (the broker connection is read live, it costs nothing), so calls of the route cost no broker traffic.
    /// </summary>
    public TimeSpan ReadinessProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How soon the probe asks again after a failed probe (at most <see cref="ReadinessProbeInterval"/>), so readiness returns quickly.</summary>
    public TimeSpan ReadinessProbeRetryInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The BFF's rate limits (section <c>Bff:RateLimit</c>): a token bucket of <c>Permits</c> that refills every <c>Period</c>,
/// per remote address (IPv6 per /64) and per <c>client_id</c>. A refusal is 429 with <c>Retry-After</c>. The defaults
/// are ceilings far above what wallets, the demo and the benchmarks send (a wallet makes a few requests a second), so
/// they only stop floods; tighten them for a deployment. Behind a reverse proxy every request has the proxy's address:
/// size the per-address limit for that, or limit at the proxy.
/// </summary>
public sealed class BffRateLimitOptions
{
    /// <summary>Whether the limits apply.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests one remote address may make per <see cref="PerAddressPeriod"/> (also the burst).</summary>
    public int PerAddressPermits { get; set; } = 20_000;

    /// <summary>The period of <see cref="PerAddressPermits"/>.</summary>
    public TimeSpan PerAddressPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Requests naming one <c>client_id</c> per <see cref="PerClientPeriod"/> (also the burst).</summary>
    public int PerClientPermits { get; set; } = 2_000;

    /// <summary>The period of <see cref="PerClientPermits"/>.</summary>
    public TimeSpan PerClientPeriod { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>The admin API (configuration section <c>Admin</c>).</summary>
public sealed class AdminOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "Admin";

    /// <summary>Shortest token accepted.</summary>
    public const int MinTokenLength = 16;

    /// <summary>
    /// The bearer token of <c>/admin/v1/*</c>. Unset → the admin API is disabled: every admin route answers
    /// 503 SERVICE_UNAVAILABLE, and the BFF says so in its log at start.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>Whether a token is configured.</summary>
    public bool Enabled => !string.IsNullOrEmpty(Token);
}

/// <summary>Rejects unusable <see cref="BffOptions"/> at start.</summary>
public sealed class BffOptionsValidator : IValidateOptions<BffOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, BffOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var s = BffOptions.SectionName;
        var failures = new List<string>();
        failures.AddRange(R2ps.Store.RelationalDatabase.Validate(s, options.Provider, options.ConnectionString));
        if (options.BusyTimeout < TimeSpan.FromMilliseconds(1) || options.BusyTimeout > TimeSpan.FromMinutes(1))
            failures.Add($"{s}:BusyTimeout must be between 1 ms and 1 min.");
        if (options.DeviceSessionLifetime < TimeSpan.FromSeconds(10) || options.DeviceSessionLifetime > TimeSpan.FromHours(24))
            failures.Add($"{s}:DeviceSessionLifetime must be between 10 s and 24 h.");
        if (options.MaxEnvelopeBytes is < 1024 or > 1024 * 1024)
            failures.Add($"{s}:MaxEnvelopeBytes must be between 1 KiB and 1 MiB.");
        if (options.MaxBodyBytes < options.MaxEnvelopeBytes || options.MaxBodyBytes > 4 * 1024 * 1024)
            failures.Add($"{s}:MaxBodyBytes must be at least MaxEnvelopeBytes and at most 4 MiB.");
        if (options.IatPastWindow <= TimeSpan.Zero || options.IatPastWindow > TimeSpan.FromMinutes(10))
            failures.Add($"{s}:IatPastWindow must be positive and at most 10 min.");
        if (options.IatFutureWindow < TimeSpan.Zero || options.IatFutureWindow > TimeSpan.FromMinutes(10))
            failures.Add($"{s}:IatFutureWindow must be between 0 and 10 min.");
        if (options.DeviceKeyCacheLifetime < TimeSpan.Zero || options.DeviceKeyCacheLifetime > TimeSpan.FromMinutes(10))
            failures.Add($"{s}:DeviceKeyCacheLifetime must be between 0 and 10 min.");
        if (options.DeviceKeyCacheSize is < 1 or > 10_000_000)
            failures.Add($"{s}:DeviceKeyCacheSize must be between 1 and 10,000,000.");
        if (options.UnknownDeviceKeyCacheLifetime < TimeSpan.Zero || options.UnknownDeviceKeyCacheLifetime > TimeSpan.FromMinutes(5))
            failures.Add($"{s}:UnknownDeviceKeyCacheLifetime must be between 0 and 5 min.");
        if (options.UnknownDeviceKeyCacheSize is < 1 or > 10_000_000)
            failures.Add($"{s}:UnknownDeviceKeyCacheSize must be between 1 and 10,000,000.");
        if (options.DeviceSessionCacheSize is < 0 or > 10_000_000)
            failures.Add($"{s}:DeviceSessionCacheSize must be between 0 and 10,000,000.");
        if (string.IsNullOrWhiteSpace(options.KeyLabel) || string.IsNullOrWhiteSpace(options.SealingKeyLabel))
            failures.Add($"{s}:KeyLabel and {s}:SealingKeyLabel must not be empty.");
        else if (string.Equals(options.KeyLabel, options.SealingKeyLabel, StringComparison.Ordinal))
            failures.Add($"{s}:KeyLabel and {s}:SealingKeyLabel must differ.");
        if (options.SweepInterval < TimeSpan.FromMilliseconds(100) || options.SweepInterval > TimeSpan.FromHours(1))
            failures.Add($"{s}:SweepInterval must be between 100 ms and 1 h.");
        if (options.ReadinessTimeout < TimeSpan.FromMilliseconds(100) || options.ReadinessTimeout > TimeSpan.FromMinutes(1))
            failures.Add($"{s}:ReadinessTimeout must be between 100 ms and 1 min.");
        if (options.RateLimit is not { } limits)
            failures.Add($"{s}:RateLimit must be set.");
        else
        {
            if (limits.PerAddressPermits is < 1 or > 10_000_000 || limits.PerClientPermits is < 1 or > 10_000_000)
                failures.Add($"{s}:RateLimit:PerAddressPermits and {s}:RateLimit:PerClientPermits must be between 1 and 10,000,000.");
            if (limits.PerAddressPeriod < TimeSpan.FromMilliseconds(100) || limits.PerAddressPeriod > TimeSpan.FromHours(24)
                || limits.PerClientPeriod < TimeSpan.FromMilliseconds(100) || limits.PerClientPeriod > TimeSpan.FromHours(24))
                failures.Add($"{s}:RateLimit:PerAddressPeriod and {s}:RateLimit:PerClientPeriod must be between 100 ms and 24 h.");
        }

        if (options.ReadinessProbeInterval < TimeSpan.FromMilliseconds(100) || options.ReadinessProbeInterval > TimeSpan.FromMinutes(10))
            failures.Add($"{s}:ReadinessProbeInterval must be between 100 ms and 10 min.");
        if (options.ReadinessProbeRetryInterval < TimeSpan.FromMilliseconds(100) || options.ReadinessProbeRetryInterval > options.ReadinessProbeInterval)
            failures.Add($"{s}:ReadinessProbeRetryInterval must be between 100 ms and ReadinessProbeInterval.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Rejects a configured admin token that is too short to be a secret.</summary>
public sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Token is { Length: > 0 and < AdminOptions.MinTokenLength }
            ? ValidateOptionsResult.Fail($"{AdminOptions.SectionName}:Token must be at least {AdminOptions.MinTokenLength} characters (or unset to disable the admin API).")
            : ValidateOptionsResult.Success;
    }
}
