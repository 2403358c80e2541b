using Microsoft.Extensions.Options;
using R2ps.Messaging;

namespace R2ps.Worker;

/// <summary>This worker process (configuration section <c>Worker</c>).</summary>
public sealed class WorkerOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string SectionName = "Worker";

    /// <summary>This worker's id in the audit log and logs; empty = host name and process id.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>The context whose requests this worker serves: it consumes queue <c>r2ps-&lt;context&gt;</c>.</summary>
    public string Context { get; set; } = "hsm";

    /// <summary>
    /// Requests handled at once; 0 = <see cref="DefaultRequestsPerHsmSession"/> × the HSM session pool size. A request
    /// holds an HSM session only for its HSM call (well under a millisecond); the rest of its time it waits for the
    /// store's commits and the saga, so more requests than sessions overlap those waits and share group commits.
    /// </summary>
    public int ConcurrencyLimit { get; set; }

    /// <summary>Requests in flight per HSM session when <see cref="ConcurrencyLimit"/> is 0.</summary>
    public const int DefaultRequestsPerHsmSession = 4;

    /// <summary>HSM key metadata entries (found keys) this worker caches (0–1000000; 0 = no cache).</summary>
    public int KeyMetadataCacheCapacity { get; set; } = 100_000;

    /// <summary>How long a cached key's metadata is used before it is read again (1 s – 1 day).</summary>
    public TimeSpan KeyMetadataCacheTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Decoded device keys this worker keeps, by their SPKI bytes (0–1000000; 0 = decode on every request).</summary>
    public int DeviceKeyCacheCapacity { get; set; } = 100_000;

    /// <summary>Unacknowledged requests the broker hands this worker; 0 = <see cref="ConcurrencyLimit"/>.</summary>
    public int PrefetchCount { get; set; }

    /// <summary>The request queue's RabbitMQ type: <c>quorum</c> (default) or <c>classic</c> (both durable).</summary>
    public string QueueType { get; set; } = WorkerQueueTypes.Quorum;

    /// <summary>
    /// Quorum queues: deliveries of one request before the broker drops it. It only matters for a request that kills
    /// the process handling it (a crash in the PKCS#11 module): without a limit it would be redelivered to every worker
    /// in turn, forever. A request that merely fails goes to the error queue on its first delivery.
    /// </summary>
    public int DeliveryLimit { get; set; } = 3;

    /// <summary>
    /// The contexts an administrator may register a client key for (PROTOCOL.md 2.4); empty = only <see cref="Context"/>.
    /// List every context your deployment serves, so a registration cannot name one nobody serves.
    /// </summary>
    public IList<string> RegistrationContexts { get; set; } = [];

    /// <summary><see cref="RegistrationContexts"/>, or <see cref="Context"/> alone when none are configured.</summary>
    public IReadOnlyList<string> EffectiveRegistrationContexts => RegistrationContexts.Count == 0 ? [Context] : [.. RegistrationContexts];

    /// <summary>The id to use: <see cref="Id"/>, or host name and process id.</summary>
    public string ResolvedId => string.IsNullOrWhiteSpace(Id) ? $"{Environment.MachineName}-{Environment.ProcessId}" : Id;
}

/// <summary>The values of <see cref="WorkerOptions.QueueType"/>.</summary>
public static class WorkerQueueTypes
{
    /// <summary>Replicated, durable, with a delivery limit.</summary>
    public const string Quorum = "quorum";

    /// <summary>Durable classic queue (single node).</summary>
    public const string Classic = "classic";
}

/// <summary>Rejects unusable <see cref="WorkerOptions"/> at start.</summary>
public sealed class WorkerOptionsValidator : IValidateOptions<WorkerOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var s = WorkerOptions.SectionName;
        var failures = new List<string>();
        if (options.Id.Length > 128)
            failures.Add($"{s}:Id is at most 128 characters.");
        if (!R2psQueues.IsValidContext(options.Context))
            failures.Add($"{s}:Context must be 1–{R2psQueues.MaxContextLength} characters of a–z, 0–9 and '-'.");
        if (options.ConcurrencyLimit is < 0 or > 1024)
            failures.Add($"{s}:ConcurrencyLimit must be between 0 (the HSM session pool size) and 1024.");
        if (options.PrefetchCount is < 0 or > 4096)
            failures.Add($"{s}:PrefetchCount must be between 0 (the concurrency limit) and 4096.");
        if (options.QueueType is not (WorkerQueueTypes.Quorum or WorkerQueueTypes.Classic))
            failures.Add($"{s}:QueueType must be '{WorkerQueueTypes.Quorum}' or '{WorkerQueueTypes.Classic}'.");
        if (options.DeliveryLimit is < 1 or > 100)
            failures.Add($"{s}:DeliveryLimit must be between 1 and 100.");
        if (options.KeyMetadataCacheCapacity is < 0 or > 1_000_000)
            failures.Add($"{s}:KeyMetadataCacheCapacity must be between 0 (no cache) and 1000000.");
        if (options.DeviceKeyCacheCapacity is < 0 or > 1_000_000)
            failures.Add($"{s}:DeviceKeyCacheCapacity must be between 0 (no cache) and 1000000.");
        if (options.KeyMetadataCacheTtl < TimeSpan.FromSeconds(1) || options.KeyMetadataCacheTtl > TimeSpan.FromDays(1))
            failures.Add($"{s}:KeyMetadataCacheTtl must be between 1 second and 1 day.");
        foreach (var context in options.RegistrationContexts)
        {
            if (!R2psQueues.IsValidContext(context))
                failures.Add($"{s}:RegistrationContexts holds '{context}': a context is 1–{R2psQueues.MaxContextLength} characters of a–z, 0–9 and '-'.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
