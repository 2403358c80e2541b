using Microsoft.EntityFrameworkCore;
using R2ps.Store.Data;

namespace R2ps.Store;

/// <summary>
/// The HSM service's durable store. Its rows are internal: callers use the store interfaces
/// (<see cref="IClientRegistry"/>, <see cref="INonceCache"/>, …), never this context's entities.
/// Table and column names are lower-case snake case, so the few hand-written statements (atomic upserts) read the
/// same on SQLite and PostgreSQL without quoting.
/// </summary>
public sealed class R2psStoreDbContext(DbContextOptions<R2psStoreDbContext> options) : DbContext(options)
{
    internal const string ClientsTable = "r2ps_clients";
    internal const string RegistrationCodesTable = "r2ps_registration_codes";
    internal const string OpaqueRecordsTable = "r2ps_opaque_records";
    internal const string LoginAttemptsTable = "r2ps_login_attempts";
    internal const string HsmKeysTable = "r2ps_hsm_keys";
    internal const string NoncesTable = "r2ps_nonces";
    internal const string AuditTable = "r2ps_audit";
    internal const string SecretsTable = "r2ps_secrets";

    internal DbSet<ClientRow> Clients => Set<ClientRow>();
    internal DbSet<RegistrationCodeRow> RegistrationCodes => Set<RegistrationCodeRow>();
    internal DbSet<OpaqueRecordRow> OpaqueRecords => Set<OpaqueRecordRow>();
    internal DbSet<LoginAttemptRow> LoginAttempts => Set<LoginAttemptRow>();
    internal DbSet<HsmKeyRow> HsmKeys => Set<HsmKeyRow>();
    internal DbSet<NonceRow> Nonces => Set<NonceRow>();
    internal DbSet<AuditRow> Audit => Set<AuditRow>();
    internal DbSet<SecretRow> Secrets => Set<SecretRow>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        const int id = StoreLimits.MaxIdentifierLength;

        modelBuilder.Entity<ClientRow>(e =>
        {
            e.ToTable(ClientsTable);
            e.HasKey(r => new { r.ClientId, r.Kid });
            e.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(id);
            e.Property(r => r.Kid).HasColumnName("kid").HasMaxLength(id);
            e.Property(r => r.PublicKeySpki).HasColumnName("public_key_spki");
            e.Property(r => r.Contexts).HasColumnName("contexts");
            e.Property(r => r.CreatedMs).HasColumnName("created_ms");
            e.Property(r => r.RevokedMs).HasColumnName("revoked_ms");
        });

        modelBuilder.Entity<RegistrationCodeRow>(e =>
        {
            e.ToTable(RegistrationCodesTable);
            e.HasKey(r => new { r.ClientId, r.Kid });
            e.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(id);
            e.Property(r => r.Kid).HasColumnName("kid").HasMaxLength(id);
            e.Property(r => r.CodeHash).HasColumnName("code_hash");
            e.Property(r => r.IssuedMs).HasColumnName("issued_ms");
            e.Property(r => r.ExpiresMs).HasColumnName("expires_ms");
        });

        modelBuilder.Entity<OpaqueRecordRow>(e =>
        {
            e.ToTable(OpaqueRecordsTable);
            e.HasKey(r => new { r.ClientId, r.Kid });
            e.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(id);
            e.Property(r => r.Kid).HasColumnName("kid").HasMaxLength(id);
            e.Property(r => r.Record).HasColumnName("record");
            e.Property(r => r.UpdatedMs).HasColumnName("updated_ms");
        });

        modelBuilder.Entity<LoginAttemptRow>(e =>
        {
            e.ToTable(LoginAttemptsTable);
            e.HasKey(r => new { r.ClientId, r.Kid });
            e.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(id);
            e.Property(r => r.Kid).HasColumnName("kid").HasMaxLength(id);
            e.Property(r => r.Failures).HasColumnName("failures");
            e.Property(r => r.LockedUntilMs).HasColumnName("locked_until_ms");
            e.Property(r => r.LastFailureMs).HasColumnName("last_failure_ms");
        });

        modelBuilder.Entity<HsmKeyRow>(e =>
        {
            e.ToTable(HsmKeysTable);
            e.HasKey(r => r.Kid);
            e.Property(r => r.Kid).HasColumnName("kid").HasMaxLength(id);
            e.Property(r => r.OwnerClientId).HasColumnName("owner_client_id").HasMaxLength(id);
            e.Property(r => r.CurveName).HasColumnName("curve_name").HasMaxLength(StoreLimits.MaxCodeLength);
            e.Property(r => r.CreatedMs).HasColumnName("created_ms");
            e.HasIndex(r => new { r.OwnerClientId, r.CurveName }).HasDatabaseName("ix_r2ps_hsm_keys_owner_curve");
        });

        modelBuilder.Entity<NonceRow>(e =>
        {
            e.ToTable(NoncesTable);
            // The primary key is what makes "seen before" atomic across workers.
            e.HasKey(r => new { r.ClientId, r.Nonce });
            e.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(id);
            e.Property(r => r.Nonce).HasColumnName("nonce").HasMaxLength(id);
            e.Property(r => r.ExpiresMs).HasColumnName("expires_ms");
            e.HasIndex(r => r.ExpiresMs).HasDatabaseName("ix_r2ps_nonces_expires");
        });

        modelBuilder.Entity<AuditRow>(e =>
        {
            e.ToTable(AuditTable);
            e.HasKey(r => r.Id);
            e.Property(r => r.Id).HasColumnName("id").ValueGeneratedOnAdd();
            e.Property(r => r.TimeMs).HasColumnName("time_ms");
            e.Property(r => r.WorkerId).HasColumnName("worker_id").HasMaxLength(id);
            e.Property(r => r.RequestType).HasColumnName("request_type").HasMaxLength(id);
            e.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(id);
            e.Property(r => r.Kid).HasColumnName("kid").HasMaxLength(id);
            e.Property(r => r.Context).HasColumnName("context").HasMaxLength(id);
            e.Property(r => r.Outcome).HasColumnName("outcome").HasMaxLength(StoreLimits.MaxCodeLength);
            e.Property(r => r.ErrorCode).HasColumnName("error_code").HasMaxLength(StoreLimits.MaxCodeLength);
            e.Property(r => r.SessionRef).HasColumnName("session_ref").HasMaxLength(StoreLimits.MaxCodeLength);
            e.Property(r => r.Detail).HasColumnName("detail");
            e.HasIndex(r => new { r.ClientId, r.Id }).HasDatabaseName("ix_r2ps_audit_client");
        });

        modelBuilder.Entity<SecretRow>(e =>
        {
            e.ToTable(SecretsTable);
            // The primary key makes "first version of a new id" atomic across workers; the version column is the
            // compare-and-set of every later one.
            e.HasKey(r => new { r.ClientId, r.Kid, r.SecretId });
            e.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(id);
            e.Property(r => r.Kid).HasColumnName("kid").HasMaxLength(id);
            e.Property(r => r.SecretId).HasColumnName("secret_id").HasMaxLength(StoreLimits.MaxSecretIdLength);
            e.Property(r => r.Version).HasColumnName("version");
            e.Property(r => r.SealedCiphertext).HasColumnName("sealed_ciphertext");
            e.Property(r => r.Size).HasColumnName("size");
            e.Property(r => r.StoredMs).HasColumnName("stored_ms");
            e.Property(r => r.DeletedMs).HasColumnName("deleted_ms");
        });
    }
}
