namespace R2ps.Store;

/// <summary>Configuration of the durable store (configuration section <c>Store</c>). Every limit has a default.</summary>
public sealed class StoreOptions
{
    /// <summary>The configuration section this binds to.</summary>
    public const string SectionName = "Store";

    /// <summary>The database provider: <see cref="StoreProviders.Sqlite"/> (default) or <see cref="StoreProviders.Postgres"/>.</summary>
    public string Provider { get; set; } = StoreProviders.Sqlite;

    /// <summary>
    /// The provider's connection string, e.g. <c>Data Source=/var/lib/r2ps/store.db</c>. Required.
    /// </summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>
    /// How long a statement waits for another process's lock before failing: on SQLite the <c>busy_timeout</c> pragma,
    /// and on both providers the command timeout (rounded up to whole seconds; it also bounds Microsoft.Data.Sqlite's own
    /// retries, 30 s by default). The name is kept from when SQLite was the only provider. Kept well below the caller's <c>Messaging:RequestTimeout</c> (10 s), so a locked file fails the
    /// request while the caller still waits instead of completing it after the caller was told 503.
    /// </summary>
    public TimeSpan SqliteBusyTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The command timeout: <see cref="SqliteBusyTimeout"/> in whole seconds, at least 1 (0 would mean no limit).</summary>
    public int SqliteCommandTimeoutSeconds => RelationalDatabase.CommandTimeoutSeconds(SqliteBusyTimeout);

    /// <summary>Create this store's tables at start-up when they are absent.</summary>
    public bool CreateSchemaAtStart { get; set; } = true;

    /// <summary>Random bytes in a registration code (at least 16).</summary>
    public int RegistrationCodeBytes { get; set; } = 32;

    /// <summary>How long an issued registration code stays valid.</summary>
    public TimeSpan RegistrationCodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Consecutive failed logins after which a <c>(client_id, kid)</c> is locked.</summary>
    public int MaxConsecutiveLoginFailures { get; set; } = 5;

    /// <summary>How long a lockout lasts.</summary>
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How often the hosted service removes expired nonces and audit entries past <see cref="AuditRetention"/> (the name is
    /// kept from when it pruned nonces only).
    /// </summary>
    public TimeSpan NoncePruneInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an audit entry is kept; older ones are pruned (issue 10 item 2: the log must not grow without bound).</summary>
    public TimeSpan AuditRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Most rows one pruning statement deletes; a backlog goes in several short statements, not one long lock.</summary>
    public int PruneBatchSize { get; set; } = 1000;

    /// <summary>Largest OPAQUE registration record accepted (a P-256 record is 129 bytes).</summary>
    public int MaxOpaqueRecordBytes { get; set; } = 1024;

    /// <summary>Largest device public key (SPKI DER) accepted.</summary>
    public int MaxPublicKeyBytes { get; set; } = 1024;

    /// <summary>Most contexts one registration may allow.</summary>
    public int MaxContextsPerClient { get; set; } = 16;

    /// <summary>Audit detail text longer than this is cut.</summary>
    public int MaxAuditDetailLength { get; set; } = 256;

    /// <summary>
    /// Largest HSM-sealed vault value accepted (the service's 16 KiB ciphertext limit plus the sealing overhead).
    /// </summary>
    public int MaxSealedSecretBytes { get; set; } = 17 * 1024;

    /// <summary>Most audit entries one query returns.</summary>
    public int MaxAuditQueryResults { get; set; } = 1000;

    /// <summary>
    /// Group commit: concurrent requests' nonce inserts and audit rows share one transaction (each request still waits
    /// for the commit of its own write before it is answered). Off: one transaction per write, as before.
    /// </summary>
    public bool BatchWrites { get; set; } = true;

    /// <summary>
    /// SQLite: the reads requests make (a device's registration, its OPAQUE record) run as statements compiled once and
    /// kept on a few open connections (<see cref="SqlitePreparedRead"/>) instead of through EF Core. Off: through EF Core,
    /// as on PostgreSQL. Same SQL, same answers.
    /// </summary>
    public bool PreparedReads { get; set; } = true;

    /// <summary>Most writes one group commit takes (1–10000); bounds a transaction's length and its lock time.</summary>
    public int MaxWriteBatchSize { get; set; } = 256;

    /// <summary>The default of <see cref="DbContextPoolSize"/>.</summary>
    public const int DefaultDbContextPoolSize = 128;

    /// <summary>The largest <see cref="DbContextPoolSize"/> accepted.</summary>
    public const int MaxDbContextPoolSize = 1024;

    /// <summary>Idle store contexts kept for reuse (1–1024); more concurrent calls still get one, it is just not kept.</summary>
    public int DbContextPoolSize { get; set; } = DefaultDbContextPoolSize;

    /// <summary>Writes that may wait for a group commit (at least <see cref="MaxWriteBatchSize"/>); beyond it writers wait for room.</summary>
    public int WriteQueueCapacity { get; set; } = 4096;
}

/// <summary>The provider names <see cref="StoreOptions.Provider"/> accepts (case-insensitive); see <see cref="DatabaseProviders"/>.</summary>
public static class StoreProviders
{
    /// <summary>One SQLite file shared by every worker process on the host (WAL mode); the default.</summary>
    public const string Sqlite = DatabaseProviders.Sqlite;

    /// <summary>PostgreSQL, for workers on several hosts.</summary>
    public const string Postgres = DatabaseProviders.Postgres;
}
