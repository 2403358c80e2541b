using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using R2ps.Crypto.Encoding;

namespace R2ps.Store;

internal sealed class RegistrationCodeStore(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options)
    : StoreComponent(contexts, time, options), IRegistrationCodeStore
{
    public async Task<IssuedRegistrationCode?> IssueAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));

        var code = RandomNumberGenerator.GetBytes(Options.RegistrationCodeBytes);
        try
        {
            var expiresAt = await StoreHashAsync(clientId, kid, SHA256.HashData(code), cancellationToken).ConfigureAwait(false);
            return expiresAt is { } expires ? new IssuedRegistrationCode(Base64Std.Encode(code), expires) : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(code);
        }
    }

    public Task<DateTimeOffset?> IssueHashedAsync(string clientId, string kid, ReadOnlyMemory<byte> codeHash, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        if (codeHash.Length != SHA256.HashSizeInBytes)
            throw new ArgumentException($"A registration code hash is {SHA256.HashSizeInBytes} bytes (SHA-256).", nameof(codeHash));
        return StoreHashAsync(clientId, kid, codeHash.ToArray(), cancellationToken);
    }

    private async Task<DateTimeOffset?> StoreHashAsync(string clientId, string kid, byte[] hash, CancellationToken cancellationToken)
    {
        var nowMs = NowMs;
        var expiresMs = nowMs + (long)Options.RegistrationCodeLifetime.TotalMilliseconds;

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var registered = await db.Clients
                .AnyAsync(c => c.ClientId == clientId && c.Kid == kid && c.RevokedMs == null, cancellationToken)
                .ConfigureAwait(false);
            if (!registered)
            {
                return null;
            }

            // One statement replaces any earlier code, so two concurrent issues leave exactly one valid code.
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                INSERT INTO r2ps_registration_codes (client_id, kid, code_hash, issued_ms, expires_ms)
                VALUES ({clientId}, {kid}, {hash}, {nowMs}, {expiresMs})
                ON CONFLICT (client_id, kid) DO UPDATE SET
                    code_hash = excluded.code_hash, issued_ms = excluded.issued_ms, expires_ms = excluded.expires_ms
                """,
                cancellationToken).ConfigureAwait(false);
        }

        return Guard.FromUnixMs(expiresMs);
    }

    public async Task<bool> IsPendingAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var nowMs = NowMs;
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            return await db.RegistrationCodes.AsNoTracking()
                .AnyAsync(c => c.ClientId == clientId && c.Kid == kid && c.ExpiresMs > nowMs, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    public Task<bool> ConsumeAsync(string clientId, string kid, string presentedCodeBase64, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presentedCodeBase64);
        // Malformed input is compared as empty bytes: it still consumes the stored code and then fails.
        var bytes = Base64Std.TryDecode(presentedCodeBase64, out var decoded) ? decoded : [];
        return ConsumeCoreAsync(clientId, kid, bytes, cancellationToken);
    }

    public Task<bool> ConsumeAsync(string clientId, string kid, ReadOnlyMemory<byte> presentedCode, CancellationToken cancellationToken) =>
        ConsumeCoreAsync(clientId, kid, presentedCode.ToArray(), cancellationToken);

    private async Task<bool> ConsumeCoreAsync(string clientId, string kid, byte[] presented, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        try
        {
            var nowMs = NowMs;
            var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (db.ConfigureAwait(false))
            {
                var stored = await db.RegistrationCodes.AsNoTracking()
                    .SingleOrDefaultAsync(c => c.ClientId == clientId && c.Kid == kid, cancellationToken)
                    .ConfigureAwait(false);
                if (stored is null)
                {
                    return false;
                }

                // Consume first: only the attempt whose DELETE removed this very code may compare against it, so two
                // concurrent attempts (on any workers) cannot both use one code.
                var deleted = await db.Database.ExecuteSqlInterpolatedAsync(
                    $"""
                    DELETE FROM r2ps_registration_codes
                    WHERE client_id = {clientId} AND kid = {kid} AND code_hash = {stored.CodeHash}
                    """,
                    cancellationToken).ConfigureAwait(false);
                if (deleted != 1 || stored.ExpiresMs <= nowMs)
                {
                    return false;
                }

                var presentedHash = SHA256.HashData(presented);
                return CryptographicOperations.FixedTimeEquals(presentedHash, stored.CodeHash);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(presented);
        }
    }
}
