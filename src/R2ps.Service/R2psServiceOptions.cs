using Microsoft.Extensions.Options;
using R2ps.Protocol;

namespace R2ps.Service;

/// <summary>Limits and identities of the HSM service (configuration section <c>R2ps</c>); defaults are PROTOCOL.md's.</summary>
public sealed class R2psServiceOptions
{
    public const string SectionName = "R2ps";

    /// <summary>The OPAQUE server identity (PROTOCOL.md 1.5); must stay stable, or every stored record stops working.</summary>
    public string ServerIdentity { get; set; } = ProtocolConstants.DefaultServerIdentity;

    /// <summary>The OPAQUE context string; must stay stable across releases.</summary>
    public string OpaqueContext { get; set; } = ProtocolConstants.OpaqueContext;

    /// <summary>This worker's id in the audit log; empty = host name and process id.</summary>
    public string WorkerId { get; set; } = string.Empty;

    /// <summary>Largest accepted request envelope in UTF-8 bytes.</summary>
    public int MaxEnvelopeBytes { get; set; } = ProtocolConstants.DefaultMaxEnvelopeBytes;

    /// <summary>How far in the past a request <c>iat</c> may be.</summary>
    public TimeSpan IatPastWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How far in the future a request <c>iat</c> may be.</summary>
    public TimeSpan IatFutureWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long nonces are kept; at least the whole iat window, so a replay is always either stale or seen.</summary>
    public TimeSpan NonceRetention { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long an <c>authenticate</c> evaluate waits for its finalize.</summary>
    public TimeSpan LoginWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest any session lives, whatever the task or requested duration.</summary>
    public TimeSpan DefaultMaxSessionDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Task names and their longest session.</summary>
    public Dictionary<string, TimeSpan> Tasks { get; set; } = new(StringComparer.Ordinal)
    {
        ["general"] = TimeSpan.FromMinutes(15),
        ["sign"] = TimeSpan.FromSeconds(30),
        ["hsm"] = TimeSpan.FromSeconds(60),
    };

    /// <summary><c>pin_change</c> needs a session younger than this, counted from its evaluate.</summary>
    public TimeSpan PinChangeWindow { get; set; } = TimeSpan.FromSeconds(30);

    // The lockout threshold and duration are the store's (Store:MaxConsecutiveLoginFailures, Store:LockoutDuration):
    // one source of truth, applied atomically where the attempts are counted.

    /// <summary>Keys a client may hold per curve.</summary>
    public int MaxKeysPerCurve { get; set; } = 10;

    /// <summary>Live secret ids a <c>(client_id, kid)</c> may hold in the vault (PROTOCOL.md 4: <c>MaxSecretsPerClient</c>).</summary>
    public int MaxSecretsPerClient { get; set; } = VaultRules.DefaultMaxSecretsPerClient;

    /// <summary>
    /// Secret ids a <c>(client_id, kid)</c> may have used, deleted ones included: a deleted id keeps its version counter
    /// (a row), so without this bound create-and-delete would grow the store without end.
    /// </summary>
    public int MaxSecretIdsPerClient { get; set; } = 8 * VaultRules.DefaultMaxSecretsPerClient;

    /// <summary>Largest accepted vault ciphertext in bytes (decoded); PROTOCOL.md 4 allows at most 16 KiB.</summary>
    public int MaxSecretBytes { get; set; } = VaultRules.DefaultMaxCiphertextBytes;

    /// <summary>
    /// Unsealed session keys this worker keeps (0–1000000; 0, the default = unseal in the HSM on every request). See
    /// <see cref="SessionKeyCache"/>: the session's row is still read and checked on every request. Off by default: once
    /// the sealing key is an in-memory copy in the HSM (<c>Hsm:SessionCopiesOfServiceKeys</c>) an unseal costs about what
    /// the cache's lookup does, and <c>bench e2e</c> measured no gain with it on. (The "The key is unknown." fault once
    /// seen with it on was SoftHSM2's, and is handled in <c>HsmConnection.SeeOtherProcessesObjects</c>.)
    /// </summary>
    public int SessionKeyCacheCapacity { get; set; }

    internal string ResolvedWorkerId =>
        string.IsNullOrWhiteSpace(WorkerId) ? $"{Environment.MachineName}:{Environment.ProcessId}" : WorkerId;
}

/// <summary>Rejects unusable <see cref="R2psServiceOptions"/> at start.</summary>
public sealed class R2psServiceOptionsValidator : IValidateOptions<R2psServiceOptions>
{
    public ValidateOptionsResult Validate(string? name, R2psServiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var s = R2psServiceOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.ServerIdentity) || options.ServerIdentity.Length > 255)
            failures.Add($"{s}:ServerIdentity must be 1–255 characters.");
        if (string.IsNullOrEmpty(options.OpaqueContext) || options.OpaqueContext.Length > 255)
            failures.Add($"{s}:OpaqueContext must be 1–255 characters.");
        if (options.MaxEnvelopeBytes is < 1024 or > 16 * 1024 * 1024)
            failures.Add($"{s}:MaxEnvelopeBytes must be between 1 KiB and 16 MiB.");
        if (options.IatPastWindow < TimeSpan.FromSeconds(1) || options.IatPastWindow > TimeSpan.FromMinutes(10))
            failures.Add($"{s}:IatPastWindow must be between 1 s and 10 min.");
        if (options.IatFutureWindow < TimeSpan.Zero || options.IatFutureWindow > TimeSpan.FromMinutes(5))
            failures.Add($"{s}:IatFutureWindow must be between 0 and 5 min.");
        if (options.NonceRetention < options.IatPastWindow + options.IatFutureWindow)
            failures.Add($"{s}:NonceRetention must cover IatPastWindow + IatFutureWindow.");
        if (options.LoginWindow < TimeSpan.FromSeconds(1) || options.LoginWindow > TimeSpan.FromMinutes(5))
            failures.Add($"{s}:LoginWindow must be between 1 s and 5 min.");
        if (options.DefaultMaxSessionDuration < TimeSpan.FromSeconds(1) || options.DefaultMaxSessionDuration > TimeSpan.FromHours(24))
            failures.Add($"{s}:DefaultMaxSessionDuration must be between 1 s and 24 h.");
        if (options.Tasks is null || options.Tasks.Count == 0)
            failures.Add($"{s}:Tasks must name at least one task.");
        else
        {
            foreach (var (task, max) in options.Tasks)
            {
                if (string.IsNullOrWhiteSpace(task) || task.Length > 64) failures.Add($"{s}:Tasks has an empty or overlong name.");
                if (max < TimeSpan.FromSeconds(1)) failures.Add($"{s}:Tasks:{task} must be at least 1 s.");
            }
        }
        if (options.PinChangeWindow < TimeSpan.FromSeconds(1) || options.PinChangeWindow > TimeSpan.FromMinutes(15))
            failures.Add($"{s}:PinChangeWindow must be between 1 s and 15 min.");
        if (options.MaxKeysPerCurve is < 0 or > 10_000)
            failures.Add($"{s}:MaxKeysPerCurve must be between 0 and 10000.");
        if (options.MaxSecretsPerClient is < 0 or > 10_000)
            failures.Add($"{s}:MaxSecretsPerClient must be between 0 and 10000.");
        if (options.MaxSecretIdsPerClient < options.MaxSecretsPerClient || options.MaxSecretIdsPerClient > 100_000)
            failures.Add($"{s}:MaxSecretIdsPerClient must be between MaxSecretsPerClient and 100000.");
        if (options.MaxSecretBytes is < 1 or > VaultRules.DefaultMaxCiphertextBytes)
            failures.Add($"{s}:MaxSecretBytes must be between 1 and {VaultRules.DefaultMaxCiphertextBytes}.");
        if (options.SessionKeyCacheCapacity is < 0 or > 1_000_000)
            failures.Add($"{s}:SessionKeyCacheCapacity must be between 0 (no cache) and 1000000.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
