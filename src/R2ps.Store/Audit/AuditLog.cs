using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using R2ps.Store.Data;

namespace R2ps.Store;

internal sealed class AuditLog(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options, StoreWriteBatcher batcher)
    : StoreComponent(contexts, time, options), IAuditLog
{
    public async Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var row = ToRow(entry, Options);

        if (Options.BatchWrites)
        {
            await batcher.AppendAuditAsync(row, cancellationToken).ConfigureAwait(false);
            return;
        }

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            db.Audit.Add(row);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<AuditEntry>> QueryByClientAsync(string clientId, int maxResults, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxResults);
        var take = Math.Min(maxResults, Options.MaxAuditQueryResults);
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var rows = await db.Audit.AsNoTracking()
                .Where(a => a.ClientId == clientId)
                .OrderByDescending(a => a.Id)
                .Take(take)
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            return rows.ConvertAll(ToEntry);
        }
    }

    public async Task<IReadOnlyList<AuditEntry>> QueryTrailAsync(string clientId, string kid, DateTimeOffset? since, int maxResults, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxResults);
        var take = Math.Min(maxResults, Options.MaxAuditQueryResults);
        var sinceMs = since is { } s ? Guard.ToUnixMs(s) : long.MinValue;
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var rows = await db.Audit.AsNoTracking()
                .Where(a => a.ClientId == clientId && a.Kid == kid && a.TimeMs >= sinceMs)
                .OrderByDescending(a => a.Id)
                .Take(take)
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            return rows.ConvertAll(ToEntry);
        }
    }

    /// <summary>The row of <paramref name="entry"/>: identifiers checked, free text cut and cleaned.</summary>
    internal static AuditRow ToRow(AuditEntry entry, StoreOptions options) => new()
    {
        TimeMs = Guard.ToUnixMs(entry.Time),
        WorkerId = Guard.Identifier(entry.WorkerId, nameof(entry.WorkerId)),
        RequestType = Guard.Identifier(entry.RequestType, nameof(entry.RequestType)),
        ClientId = Optional(entry.ClientId, StoreLimits.MaxIdentifierLength),
        Kid = Optional(entry.Kid, StoreLimits.MaxIdentifierLength),
        Context = Optional(entry.Context, StoreLimits.MaxIdentifierLength),
        Outcome = entry.Outcome.ToString(),
        ErrorCode = Optional(entry.ErrorCode, StoreLimits.MaxCodeLength),
        SessionRef = Optional(entry.SessionRef, StoreLimits.MaxCodeLength),
        Detail = Optional(entry.Detail, options.MaxAuditDetailLength),
    };

    /// <summary>Cuts over-long text and replaces control characters, so a log line cannot be forged or flooded.</summary>
    private static string? Optional(string? value, int maxLength)
    {
        if (value is null)
        {
            return null;
        }

        var cut = value.Length > maxLength ? value[..maxLength] : value;
        return string.Create(cut.Length, cut, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        });
    }

    private static AuditEntry ToEntry(AuditRow row) => new(
        Guard.FromUnixMs(row.TimeMs),
        row.WorkerId,
        row.RequestType,
        row.ClientId,
        row.Kid,
        row.Context,
        Enum.TryParse<AuditOutcome>(row.Outcome, out var outcome) ? outcome : AuditOutcome.Failure,
        row.ErrorCode,
        row.SessionRef,
        row.Detail)
    {
        Id = row.Id,
    };
}
