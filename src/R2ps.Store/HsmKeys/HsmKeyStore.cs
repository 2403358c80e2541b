using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using R2ps.Crypto.Encoding;
using R2ps.Store.Data;

namespace R2ps.Store;

internal sealed class HsmKeyStore(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options)
    : StoreComponent(contexts, time, options), IHsmKeyStore
{
    // Curve name → compressed point length (1 + field size).
    private static readonly Dictionary<string, int> CompressedLengths = new(StringComparer.Ordinal)
    {
        ["P-256"] = 33,
        ["P-384"] = 49,
        ["P-521"] = 67,
    };

    public async Task AddAsync(HsmKeyInfo key, CancellationToken cancellationToken)
    {
        CheckKey(key);
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            db.HsmKeys.Add(new HsmKeyRow
            {
                Kid = key.Kid,
                OwnerClientId = key.OwnerClientId,
                CurveName = key.CurveName!,
                CreatedMs = Guard.ToUnixMs(key.CreatedAt),
            });
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DbUpdateException ex)
            {
                throw new HsmKeyAlreadyExistsException("An HSM key with this kid is already stored.", ex);
            }
        }
    }

    public async Task<bool> TryAddWithinLimitAsync(HsmKeyInfo key, int maxKeysPerCurve, CancellationToken cancellationToken)
    {
        CheckKey(key);
        ArgumentOutOfRangeException.ThrowIfNegative(maxKeysPerCurve);
        var createdMs = Guard.ToUnixMs(key.CreatedAt);

        // PostgreSQL may fail a serializable transaction that raced another (40001): that one is run again, on a new
        // context, a few times. SQLite queues writers instead and never fails this way.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await InsertWithinLimitAsync(key, createdMs, maxKeysPerCurve, cancellationToken).ConfigureAwait(false);
            }
            catch (DbException ex) when (attempt < MaxSerializationAttempts && RelationalDatabase.IsTransient(ex))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private const int MaxSerializationAttempts = 5;

    private async Task<bool> InsertWithinLimitAsync(HsmKeyInfo key, long createdMs, int maxKeysPerCurve, CancellationToken cancellationToken)
    {
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            // Count and insert in one statement inside a serializable transaction (SQLite: BEGIN IMMEDIATE, so writers
            // queue; PostgreSQL: a concurrent insert for the same owner and curve fails the commit instead of passing
            // the limit). Parallel keygens can therefore never leave more than the limit.
            var tx = await db.Database.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                int inserted;
                try
                {
                    inserted = await db.Database.ExecuteSqlInterpolatedAsync(
                        $"""
                        INSERT INTO r2ps_hsm_keys (kid, owner_client_id, curve_name, created_ms)
                        SELECT {key.Kid}, {key.OwnerClientId}, {key.CurveName}, {createdMs}
                        WHERE (SELECT COUNT(*) FROM r2ps_hsm_keys
                               WHERE owner_client_id = {key.OwnerClientId} AND curve_name = {key.CurveName}) < {maxKeysPerCurve}
                        """,
                        cancellationToken).ConfigureAwait(false);
                }
                catch (DbException ex) when (RelationalDatabase.IsUniqueViolation(ex))
                {
                    throw new HsmKeyAlreadyExistsException("An HSM key with this kid is already stored.", ex);
                }

                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return inserted == 1;
            }
        }
    }

    public async Task<IReadOnlyList<HsmKeyInfo>> ListAsync(
        string ownerClientId, IReadOnlyCollection<string>? curves, CancellationToken cancellationToken)
    {
        Guard.Identifier(ownerClientId, nameof(ownerClientId));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var query = db.HsmKeys.AsNoTracking().Where(k => k.OwnerClientId == ownerClientId);
            if (curves is { Count: > 0 })
            {
                var wanted = curves.ToList();
                query = query.Where(k => wanted.Contains(k.CurveName));
            }

            var rows = await query.OrderBy(k => k.CreatedMs).ThenBy(k => k.Kid)
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            return rows.ConvertAll(ToInfo);
        }
    }

    public async Task<HsmKeyInfo?> FindAsync(string ownerClientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(ownerClientId, nameof(ownerClientId));
        Guard.Identifier(kid, nameof(kid));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var row = await db.HsmKeys.AsNoTracking()
                .SingleOrDefaultAsync(k => k.Kid == kid && k.OwnerClientId == ownerClientId, cancellationToken)
                .ConfigureAwait(false);
            return row is null ? null : ToInfo(row);
        }
    }

    public async Task<bool> DeleteAsync(string ownerClientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(ownerClientId, nameof(ownerClientId));
        Guard.Identifier(kid, nameof(kid));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var deleted = await db.Database.ExecuteSqlInterpolatedAsync(
                $"DELETE FROM r2ps_hsm_keys WHERE kid = {kid} AND owner_client_id = {ownerClientId}",
                cancellationToken).ConfigureAwait(false);
            return deleted > 0;
        }
    }

    public async Task<int> CountAsync(string ownerClientId, string? curveName, CancellationToken cancellationToken)
    {
        Guard.Identifier(ownerClientId, nameof(ownerClientId));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var query = db.HsmKeys.Where(k => k.OwnerClientId == ownerClientId);
            if (curveName is not null)
            {
                query = query.Where(k => k.CurveName == curveName);
            }

            return await query.CountAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static void CheckKey(HsmKeyInfo key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Guard.Identifier(key.OwnerClientId, nameof(key.OwnerClientId));
        if (!CompressedLengths.TryGetValue(key.CurveName ?? string.Empty, out var length))
        {
            throw new ArgumentException("The curve must be P-256, P-384 or P-521.", nameof(key));
        }

        if (!Hex.IsLowerHex(key.Kid, length) || key.Kid[1] is not ('2' or '3') || key.Kid[0] != '0')
        {
            throw new ArgumentException(
                $"The kid must be lowercase hex of a {length}-byte SEC1 compressed point (02… or 03…).", nameof(key));
        }
    }


    private static HsmKeyInfo ToInfo(HsmKeyRow row) =>
        new(row.Kid, row.OwnerClientId, row.CurveName, Guard.FromUnixMs(row.CreatedMs));
}
