using Microsoft.EntityFrameworkCore;

namespace R2ps.Bff.Sessions;

/// <summary>The BFF's own database: device sessions (key sealed by the HSM) and the establishment nonce cache.</summary>
public sealed class BffDbContext(DbContextOptions<BffDbContext> options) : DbContext(options)
{
    internal DbSet<DeviceSessionRow> DeviceSessions => Set<DeviceSessionRow>();

    internal DbSet<BffNonceRow> Nonces => Set<BffNonceRow>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<DeviceSessionRow>(e =>
        {
            e.ToTable("bff_device_sessions");
            e.HasKey(r => r.SessionId);
            e.Property(r => r.SessionId).HasColumnName("session_id").HasMaxLength(64);
            e.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(256).IsRequired();
            e.Property(r => r.Kid).HasColumnName("kid").HasMaxLength(256).IsRequired();
            e.Property(r => r.SealedKey).HasColumnName("sealed_key").IsRequired();
            e.Property(r => r.CreatedMs).HasColumnName("created_ms");
            e.Property(r => r.ExpiresMs).HasColumnName("expires_ms");
            e.HasIndex(r => r.ExpiresMs);
        });
        modelBuilder.Entity<BffNonceRow>(e =>
        {
            e.ToTable("bff_nonces");
            e.HasKey(r => new { r.ClientId, r.Nonce });
            e.Property(r => r.ClientId).HasColumnName("client_id").HasMaxLength(256);
            e.Property(r => r.Nonce).HasColumnName("nonce").HasMaxLength(128);
            e.Property(r => r.ExpiresMs).HasColumnName("expires_ms");
            e.HasIndex(r => r.ExpiresMs);
        });
    }
}

internal sealed class DeviceSessionRow
{
    public string SessionId { get; set; } = string.Empty;

    public string ClientId { get; set; } = string.Empty;

    public string Kid { get; set; } = string.Empty;

    public byte[] SealedKey { get; set; } = [];

    public long CreatedMs { get; set; }

    public long ExpiresMs { get; set; }
}

internal sealed class BffNonceRow
{
    public string ClientId { get; set; } = string.Empty;

    public string Nonce { get; set; } = string.Empty;

    public long ExpiresMs { get; set; }
}
