using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using R2ps.Protocol;
using R2ps.Store.Data;

namespace R2ps.Store;

internal sealed class SecretStore(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options)
    : StoreComponent(contexts, time, options), ISecretStore
{
    private const int MaxSerializationAttempts = 5;

    public async Task<SecretStoreResult> TryStoreAsync(SecretVersionWrite write, int maxLiveSecrets, int maxSecretIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        Scope(write.ClientId, write.Kid, write.SecretId);
        ArgumentNullException.ThrowIfNull(write.SealedCiphertext);
        Guard.Bytes(write.SealedCiphertext, Options.MaxSealedSecretBytes, nameof(write));
        ArgumentOutOfRangeException.ThrowIfNegative(write.Size);
        ArgumentOutOfRangeException.ThrowIfNegative(maxLiveSecrets);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSecretIds);

        // PostgreSQL fails the loser of a serializable race (40001) instead of letting it pass: it runs again on a new
        // context and then sees the winner's version. SQLite queues writers (BEGIN IMMEDIATE) and never fails this way.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CompareAndSetAsync(write, maxLiveSecrets, maxSecretIds, cancellationToken).ConfigureAwait(false);
            }
            catch (DbException ex) when (RelationalDatabase.IsUniqueViolation(ex))
            {
                // Another worker inserted the id's first version between our read and our insert: it won.
                return new SecretStoreResult(SecretStoreOutcome.VersionConflict, await CounterAsync(write, cancellationToken).ConfigureAwait(false));
            }
            catch (DbException ex) when (attempt < MaxSerializationAttempts && RelationalDatabase.IsTransient(ex))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<SecretStoreResult> CompareAndSetAsync(SecretVersionWrite write, int maxLiveSecrets, int maxSecretIds, CancellationToken cancellationToken)
    {
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var tx = await db.Database.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                var current = await db.Secrets.AsNoTracking()
                    .Where(s => s.ClientId == write.ClientId && s.Kid == write.Kid && s.SecretId == write.SecretId)
                    .Select(s => new { s.Version, Live = s.SealedCiphertext != null })
                    .SingleOrDefaultAsync(cancellationToken).ConfigureAwait(false);
                var counter = current?.Version ?? 0;
                if (write.Version != counter + 1)
                    return new SecretStoreResult(SecretStoreOutcome.VersionConflict, counter);

                if (current is not { Live: true })
                {
                    var live = await db.Secrets.CountAsync(s => s.ClientId == write.ClientId && s.Kid == write.Kid && s.SealedCiphertext != null, cancellationToken).ConfigureAwait(false);
                    if (live >= maxLiveSecrets)
                        return new SecretStoreResult(SecretStoreOutcome.LimitReached, counter);
                    if (current is null
                        && await db.Secrets.CountAsync(s => s.ClientId == write.ClientId && s.Kid == write.Kid, cancellationToken).ConfigureAwait(false) >= maxSecretIds)
                        return new SecretStoreResult(SecretStoreOutcome.LimitReached, counter);
                }

                var storedMs = Guard.ToUnixMs(write.StoredAt);
                int written;
                if (current is null)
                {
                    written = await db.Database.ExecuteSqlInterpolatedAsync(
                        $"""
                        INSERT INTO r2ps_secrets (client_id, kid, secret_id, version, sealed_ciphertext, size, stored_ms, deleted_ms)
                        VALUES ({write.ClientId}, {write.Kid}, {write.SecretId}, {write.Version}, {write.SealedCiphertext}, {write.Size}, {storedMs}, NULL)
                        """, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // The version guard repeats the read's check in the write itself: the compare-and-set holds even
                    // where the isolation level would not.
                    written = await db.Database.ExecuteSqlInterpolatedAsync(
                        $"""
                        UPDATE r2ps_secrets SET version = {write.Version}, sealed_ciphertext = {write.SealedCiphertext}, size = {write.Size},
                               stored_ms = {storedMs}, deleted_ms = NULL
                        WHERE client_id = {write.ClientId} AND kid = {write.Kid} AND secret_id = {write.SecretId} AND version = {counter}
                        """, cancellationToken).ConfigureAwait(false);
                }

                if (written != 1)
                    return new SecretStoreResult(SecretStoreOutcome.VersionConflict, counter);
                // Committed before the caller answers: a 200 is durable for every worker.
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return new SecretStoreResult(SecretStoreOutcome.Stored, write.Version);
            }
        }
    }

    private async Task<long> CounterAsync(SecretVersionWrite write, CancellationToken cancellationToken)
    {
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            return await db.Secrets.AsNoTracking()
                .Where(s => s.ClientId == write.ClientId && s.Kid == write.Kid && s.SecretId == write.SecretId)
                .Select(s => (long?)s.Version)
                .SingleOrDefaultAsync(cancellationToken).ConfigureAwait(false) ?? 0;
        }
    }

    public async Task<SecretVersion?> FindAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken)
    {
        Scope(clientId, kid, secretId);
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var row = await db.Secrets.AsNoTracking()
                .SingleOrDefaultAsync(s => s.ClientId == clientId && s.Kid == kid && s.SecretId == secretId && s.SealedCiphertext != null, cancellationToken)
                .ConfigureAwait(false);
            return row is null ? null : new SecretVersion(row.SecretId, row.Version, row.SealedCiphertext!, row.Size, Guard.FromUnixMs(row.StoredMs));
        }
    }

    public async Task<IReadOnlyList<SecretListing>> ListAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var rows = await db.Secrets.AsNoTracking()
                .Where(s => s.ClientId == clientId && s.Kid == kid && s.SealedCiphertext != null)
                .Select(s => new { s.SecretId, s.Version, s.Size, s.StoredMs })
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            // Ordered here, ordinally: the providers' collations differ.
            return [.. rows.OrderBy(r => r.SecretId, StringComparer.Ordinal).Select(r => new SecretListing(r.SecretId, r.Version, r.Size, Guard.FromUnixMs(r.StoredMs)))];
        }
    }

    public async Task<bool> DeleteAsync(string clientId, string kid, string secretId, CancellationToken cancellationToken)
    {
        Scope(clientId, kid, secretId);
        var deletedMs = NowMs;
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            // The row and its version stay: a re-created id continues above the counter.
            var deleted = await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                UPDATE r2ps_secrets SET sealed_ciphertext = NULL, size = 0, deleted_ms = {deletedMs}
                WHERE client_id = {clientId} AND kid = {kid} AND secret_id = {secretId} AND sealed_ciphertext IS NOT NULL
                """, cancellationToken).ConfigureAwait(false);
            return deleted > 0;
        }
    }

    public async Task<int> CountAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            return await db.Secrets.CountAsync(s => s.ClientId == clientId && s.Kid == kid && s.SealedCiphertext != null, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void Scope(string clientId, string kid, string secretId)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        if (!VaultRules.IsSecretId(secretId))
            throw new ArgumentException($"The secret id must be 1–{VaultRules.MaxSecretIdLength} characters of [A-Za-z0-9._-].", nameof(secretId));
    }
}
