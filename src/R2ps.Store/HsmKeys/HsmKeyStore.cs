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

    private static HsmKeyInfo ToInfo(HsmKeyRow row) =>
        new(row.Kid, row.OwnerClientId, row.CurveName, Guard.FromUnixMs(row.CreatedMs));
}
