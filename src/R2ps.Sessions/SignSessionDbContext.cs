using Microsoft.EntityFrameworkCore;

namespace R2ps.Sessions;

/// <summary>The saga's own DbContext: only the sign-session table, which may share a database with the store's.</summary>
public sealed class SignSessionDbContext(DbContextOptions<SignSessionDbContext> options) : DbContext(options)
{
    /// <summary>Every live sign session.</summary>
    public DbSet<SignSessionState> SignSessions => Set<SignSessionState>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfiguration(new SignSessionStateMap());
    }
}
