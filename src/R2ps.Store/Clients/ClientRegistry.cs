using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using R2ps.Store.Data;

namespace R2ps.Store;

internal sealed class ClientRegistry(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options)
    : StoreComponent(contexts, time, options), IClientRegistry, IDisposable
{
    private const int MaxContextLength = 64;

    // Every request looks its device key up: compiled once, so a lookup skips EF Core's LINQ translation and query-cache
    // lookup (the expression tree is built and hashed on every call otherwise). Same SQL as the LINQ form. Per instance,
    // not static: a compiled query is bound to one model, and one process may hold stores on both providers (the tests).
    private readonly Func<R2psStoreDbContext, string, string, CancellationToken, Task<ClientRow?>> _findLive =
        EF.CompileAsyncQuery((R2psStoreDbContext db, string clientId, string kid, CancellationToken _) =>
            db.Clients.AsNoTracking().SingleOrDefault(c => c.ClientId == clientId && c.Kid == kid && c.RevokedMs == null));

    // On SQLite the same read without EF Core: a statement compiled once per kept connection (SqlitePreparedRead).
    private readonly SqlitePreparedRead? _findLiveSqlite = SqlitePreparedRead.When(
        options.Value.PreparedReads, options.Value.Provider, options.Value.ConnectionString, options.Value.SqliteBusyTimeout,
        $"SELECT public_key_spki, contexts, created_ms FROM {R2psStoreDbContext.ClientsTable} WHERE client_id = $client_id AND kid = $kid AND revoked_ms IS NULL",
        "$client_id", "$kid");

    public async Task<RegisteredClient> RegisterAsync(ClientRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var clientId = Guard.Identifier(registration.ClientId, nameof(registration.ClientId));
        var kid = Guard.Identifier(registration.Kid, nameof(registration.Kid));
        Guard.Bytes(registration.PublicKeySpki, Options.MaxPublicKeyBytes, nameof(registration.PublicKeySpki));
        var contexts = CheckContexts(registration.Contexts);

        var row = new ClientRow
        {
            ClientId = clientId,
            Kid = kid,
            PublicKeySpki = registration.PublicKeySpki.ToArray(),
            Contexts = string.Join(' ', contexts),
            CreatedMs = NowMs,
        };

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            try
            {
                // On SQLite this is BEGIN IMMEDIATE: registrations of one file are serialised.
                var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (tx.ConfigureAwait(false))
                {
                    var existing = await db.Clients
                        .SingleOrDefaultAsync(c => c.ClientId == clientId && c.Kid == kid, cancellationToken)
                        .ConfigureAwait(false);
                    if (existing is { RevokedMs: null })
                    {
                        throw new ClientAlreadyRegisteredException();
                    }

                    if (existing is not null)
                    {
                        // A revoked registration comes back with nothing of its past: no PIN, code or lockout.
                        db.Clients.Remove(existing);
                        await RemoveDependentsAsync(db, clientId, kid, cancellationToken).ConfigureAwait(false);
                        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                    }

                    db.Clients.Add(row);
                    await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                    await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (DbUpdateException ex)
            {
                // A concurrent registration (PostgreSQL) won the primary key.
                throw new ClientAlreadyRegisteredException("The client key is already registered.", ex);
            }
        }

        return ToRegistered(row);
    }

    public async Task<RegisteredClient?> FindAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        if (_findLiveSqlite is { } prepared)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return prepared.ReadSingle([clientId, kid], reader => ToRegistered(new ClientRow
            {
                ClientId = clientId,
                Kid = kid,
                PublicKeySpki = (byte[])reader.GetValue(0),
                Contexts = reader.GetString(1),
                CreatedMs = reader.GetInt64(2),
            }));
        }

        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var row = await _findLive(db, clientId, kid, cancellationToken).ConfigureAwait(false);
            return row is null ? null : ToRegistered(row);
        }
    }

    public void Dispose() => _findLiveSqlite?.Dispose();

    public async Task<bool> RevokeAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (tx.ConfigureAwait(false))
            {
                var row = await db.Clients
                    .SingleOrDefaultAsync(c => c.ClientId == clientId && c.Kid == kid && c.RevokedMs == null, cancellationToken)
                    .ConfigureAwait(false);
                if (row is null)
                {
                    return false;
                }

                row.RevokedMs = NowMs;
                await RemoveDependentsAsync(db, clientId, kid, cancellationToken).ConfigureAwait(false);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    public async Task<bool> IsPinSetAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            return await db.Clients
                .Where(c => c.ClientId == clientId && c.Kid == kid && c.RevokedMs == null)
                .AnyAsync(c => db.OpaqueRecords.Any(o => o.ClientId == c.ClientId && o.Kid == c.Kid), cancellationToken)
                .ConfigureAwait(false);
        }
    }

    public async Task<ClientStatus?> GetStatusAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        Guard.Identifier(clientId, nameof(clientId));
        Guard.Identifier(kid, nameof(kid));
        var nowMs = NowMs;
        var db = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var row = await db.Clients.AsNoTracking()
                .SingleOrDefaultAsync(c => c.ClientId == clientId && c.Kid == kid, cancellationToken)
                .ConfigureAwait(false);
            if (row is null)
            {
                return null;
            }

            var pinSet = await db.OpaqueRecords
                .AnyAsync(o => o.ClientId == clientId && o.Kid == kid, cancellationToken)
                .ConfigureAwait(false);
            var lockedUntilMs = await db.LoginAttempts.AsNoTracking()
                .Where(a => a.ClientId == clientId && a.Kid == kid && a.LockedUntilMs > nowMs)
                .Select(a => a.LockedUntilMs)
                .SingleOrDefaultAsync(cancellationToken)
                .ConfigureAwait(false);

            return new ClientStatus(
                row.ClientId,
                row.Kid,
                Guard.FromUnixMs(row.CreatedMs),
                row.RevokedMs is { } revoked ? Guard.FromUnixMs(revoked) : null,
                pinSet && row.RevokedMs is null,
                lockedUntilMs is { } locked ? Guard.FromUnixMs(locked) : null);
        }
    }

    private static async Task RemoveDependentsAsync(
        R2psStoreDbContext db, string clientId, string kid, CancellationToken cancellationToken)
    {
        db.OpaqueRecords.RemoveRange(await db.OpaqueRecords
            .Where(o => o.ClientId == clientId && o.Kid == kid).ToListAsync(cancellationToken).ConfigureAwait(false));
        db.RegistrationCodes.RemoveRange(await db.RegistrationCodes
            .Where(o => o.ClientId == clientId && o.Kid == kid).ToListAsync(cancellationToken).ConfigureAwait(false));
        db.LoginAttempts.RemoveRange(await db.LoginAttempts
            .Where(o => o.ClientId == clientId && o.Kid == kid).ToListAsync(cancellationToken).ConfigureAwait(false));
    }

    private List<string> CheckContexts(IReadOnlyList<string>? contexts)
    {
        ArgumentNullException.ThrowIfNull(contexts, nameof(contexts));
        if (contexts.Count == 0 || contexts.Count > Options.MaxContextsPerClient)
        {
            throw new ArgumentException(
                $"A registration needs between 1 and {Options.MaxContextsPerClient} contexts.", nameof(contexts));
        }

        var result = new List<string>(contexts.Count);
        foreach (var context in contexts)
        {
            if (string.IsNullOrEmpty(context) || context.Length > MaxContextLength || !context.All(IsContextChar))
            {
                throw new ArgumentException(
                    $"A context must be 1 to {MaxContextLength} characters of letters, digits, '-', '_' or '.'.",
                    nameof(contexts));
            }

            if (!result.Contains(context, StringComparer.Ordinal))
            {
                result.Add(context);
            }
        }

        return result;
    }

    private static bool IsContextChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    private static RegisteredClient ToRegistered(ClientRow row) => new(
        row.ClientId,
        row.Kid,
        row.PublicKeySpki,
        row.Contexts.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        Guard.FromUnixMs(row.CreatedMs));
}
