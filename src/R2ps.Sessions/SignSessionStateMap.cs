using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace R2ps.Sessions;

/// <summary>EF Core mapping of <see cref="SignSessionState"/> to the <c>SignSessions</c> table.</summary>
public sealed class SignSessionStateMap : IEntityTypeConfiguration<SignSessionState>
{
    /// <summary>The table name; other contexts may share the database file, so it is specific.</summary>
    public const string TableName = "SignSessions";

    // SQLite cannot compare or order DateTimeOffset values (they are text with an offset); epoch milliseconds are an
    // integer column that compares correctly on every provider, and millisecond precision is all a TTL needs.
    static readonly ValueConverter<DateTimeOffset, long> EpochMilliseconds =
        new(value => value.ToUnixTimeMilliseconds(), value => DateTimeOffset.FromUnixTimeMilliseconds(value));

    static readonly ValueConverter<DateTimeOffset?, long?> NullableEpochMilliseconds =
        new(value => value.HasValue ? value.Value.ToUnixTimeMilliseconds() : null,
            value => value.HasValue ? DateTimeOffset.FromUnixTimeMilliseconds(value.Value) : null);

    /// <inheritdoc />
    public void Configure(EntityTypeBuilder<SignSessionState> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.ToTable(TableName);
        builder.HasKey(x => x.CorrelationId);
        builder.Property(x => x.CorrelationId).ValueGeneratedNever();
        builder.Property(x => x.Version).IsConcurrencyToken();
        builder.Property(x => x.CurrentState).HasMaxLength(64).IsRequired();

        builder.Property(x => x.PakeSessionId).HasMaxLength(SignSessionIds.PakeSessionIdLength).IsRequired();
        builder.HasIndex(x => x.PakeSessionId).IsUnique();

        builder.Property(x => x.ClientId).HasMaxLength(256).IsRequired();
        builder.Property(x => x.Kid).HasMaxLength(256).IsRequired();
        builder.Property(x => x.Context).HasMaxLength(256).IsRequired();
        builder.HasIndex(x => new { x.ClientId, x.Kid, x.Context });

        builder.Property(x => x.SealedLoginState);
        builder.Property(x => x.SealedSessionKey);
        builder.Property(x => x.Task).HasMaxLength(64);

        builder.Property(x => x.StartedAt).HasConversion(EpochMilliseconds);
        builder.Property(x => x.LoginExpiresAt).HasConversion(EpochMilliseconds);
        builder.Property(x => x.ActivatedAt).HasConversion(NullableEpochMilliseconds);
        builder.Property(x => x.ExpiresAt).HasConversion(NullableEpochMilliseconds);
        builder.Property(x => x.DueAt).HasConversion(EpochMilliseconds);
        builder.HasIndex(x => x.DueAt);
    }
}
