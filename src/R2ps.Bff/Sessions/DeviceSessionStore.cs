using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Crypto.Encoding;
using R2ps.Hsm;

namespace R2ps.Bff.Sessions;

/// <summary>A live device session: its ids and the 32-byte device-session key (zeroed on dispose).</summary>
public sealed class DeviceSession : IDisposable
{
    readonly byte[] _key;

    internal DeviceSession(string sessionId, string clientId, string kid, byte[] key, DateTimeOffset expiresAt)
    {
        SessionId = sessionId;
        ClientId = clientId;
        Kid = kid;
        _key = key;
        ExpiresAt = expiresAt;
    }

    /// <summary>64 lowercase hex characters.</summary>
    public string SessionId { get; }

    /// <summary>The wallet instance that established it.</summary>
    public string ClientId { get; }

    /// <summary>The device key that established it.</summary>
    public string Kid { get; }

    /// <summary>When it stops being served.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The device-session key.</summary>
    public ReadOnlySpan<byte> Key => _key;

    /// <inheritdoc />
    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}

/// <summary>
/// Device sessions in the BFF's database, the key sealed by the HSM's AES-GCM sealing key with the session's ids as
/// associated data (a sealed key copied to another row does not open), and the nonce cache of the establishment step.
/// Expiry is enforced at read time; <see cref="PruneAsync"/> removes what has expired. A session found (or created) here
/// is kept with its unsealed key until it expires (<see cref="BffOptions.DeviceSessionCacheSize"/>): every wrapped
/// request names its session, and the row read and the HSM unseal were a large part of a request's cost in the BFF.
/// </summary>
public sealed partial class DeviceSessionStore(
    IDbContextFactory<BffDbContext> contexts, BffKeys keys, TimeProvider time, IOptions<BffOptions> options, ILogger<DeviceSessionStore> logger)
    : IDisposable
{
    readonly KeptDeviceSessions _kept = new(options.Value.DeviceSessionCacheSize);

    /// <summary>Creates a session for <paramref name="clientId"/>/<paramref name="kid"/> with <paramref name="key"/> (copied, sealed).</summary>
    public async Task<(string SessionId, DateTimeOffset ExpiresAt)> CreateAsync(string clientId, string kid, ReadOnlyMemory<byte> key,
        CancellationToken cancellationToken)
    {
        var sessionId = Hex.Encode(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var expiresAt = now + options.Value.DeviceSessionLifetime;
        var sealedKey = await keys.SealingKey.SealAsync(key, AssociatedData(sessionId, clientId, kid), cancellationToken).ConfigureAwait(false);
        var row = new DeviceSessionRow
        {
            SessionId = sessionId,
            ClientId = clientId,
            Kid = kid,
            SealedKey = sealedKey,
            CreatedMs = now.ToUnixTimeMilliseconds(),
            ExpiresMs = expiresAt.ToUnixTimeMilliseconds(),
        };
        var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            db.DeviceSessions.Add(row);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }

        _kept.Add(sessionId, clientId, kid, key.Span, DateTimeOffset.FromUnixTimeMilliseconds(row.ExpiresMs), now);
        return (sessionId, expiresAt);
    }

    /// <summary>The live session <paramref name="sessionId"/>, or null when unknown, expired or its sealed key does not open.</summary>
    public async Task<DeviceSession?> FindAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!Hex.IsLowerHex(sessionId, 32))
            return null;
        var now = time.GetUtcNow();
        if (_kept.TryGet(sessionId, now) is { } kept)
            return kept;
        var nowMs = now.ToUnixTimeMilliseconds();
        DeviceSessionRow? row;
        var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            row = await db.DeviceSessions.AsNoTracking()
                .SingleOrDefaultAsync(r => r.SessionId == sessionId && r.ExpiresMs > nowMs, cancellationToken).ConfigureAwait(false);
        }

        if (row is null)
            return null;
        try
        {
            var key = await keys.SealingKey.OpenAsync(row.SealedKey, AssociatedData(row.SessionId, row.ClientId, row.Kid), cancellationToken).ConfigureAwait(false);
            var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(row.ExpiresMs);
            _kept.Add(row.SessionId, row.ClientId, row.Kid, key, expiresAt, now);
            return new DeviceSession(row.SessionId, row.ClientId, row.Kid, key, expiresAt);
        }
        catch (CryptographicException e)
        {
            // A row that does not open was not written by this BFF's sealing key: treated as absent, and worth a look.
            LogUnsealFailed(e);
            return null;
        }
    }

    /// <summary>
    /// Records an establishment nonce of <paramref name="clientId"/> until <paramref name="keepUntil"/>; false when it was
    /// seen before and is still kept (a replay). One atomic insert-if-absent, safe across BFF processes sharing the file.
    /// </summary>
    public async Task<bool> TryRecordNonceAsync(string clientId, string nonce, DateTimeOffset keepUntil, CancellationToken cancellationToken)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var keepMs = keepUntil.ToUnixTimeMilliseconds();
        var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            // An expired row not pruned yet is taken over; a live one is left alone and nothing is affected.
            var affected = await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                INSERT INTO bff_nonces (client_id, nonce, expires_ms) VALUES ({clientId}, {nonce}, {keepMs})
                ON CONFLICT (client_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms
                WHERE bff_nonces.expires_ms <= {nowMs}
                """,
                cancellationToken).ConfigureAwait(false);
            return affected == 1;
        }
    }

    /// <summary>Deletes expired device sessions and nonces; returns how many rows went.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            var sessions = await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM bff_device_sessions WHERE expires_ms <= {nowMs}", cancellationToken)
                .ConfigureAwait(false);
            var nonces = await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM bff_nonces WHERE expires_ms <= {nowMs}", cancellationToken)
                .ConfigureAwait(false);
            return sessions + nonces;
        }
    }

    /// <summary>Whether the database answers (for <c>/health/ready</c>).</summary>
    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        var db = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            await db.DeviceSessions.AsNoTracking().AnyAsync(r => r.SessionId == string.Empty, cancellationToken).ConfigureAwait(false);
            return true;
        }
    }

    /// <summary>Zeroes the kept session keys.</summary>
    public void Dispose() => _kept.Dispose();

    /// <summary>Test seam: drops a kept session, as its expiry would (tests that expire a row by hand call it too).</summary>
    internal void Forget(string sessionId) => _kept.Forget(sessionId);

    // JSON array: unambiguous whatever characters the ids hold.
    static byte[] AssociatedData(string sessionId, string clientId, string kid) =>
        JsonSerializer.SerializeToUtf8Bytes(new[] { "r2ps-bff-device-session-v1", sessionId, clientId, kid });

    [LoggerMessage(Level = LogLevel.Warning, Message = "A stored device session's key did not unseal; the session is treated as unknown")]
    partial void LogUnsealFailed(Exception exception);
}

/// <summary>
/// Device sessions kept in memory with their unsealed keys, each until its expiry, at most <c>capacity</c> at once. Hands
/// out copies (the caller disposes its <see cref="DeviceSession"/>); a key leaving the cache is zeroed. When full, the
/// expired entries go, and if that frees nothing, all of them (a full cache of live sessions is a burst; the rows stay).
/// </summary>
internal sealed class KeptDeviceSessions(int capacity) : IDisposable
{
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public DeviceSession? TryGet(string sessionId, DateTimeOffset now)
    {
        if (capacity == 0 || !_entries.TryGetValue(sessionId, out var entry)) return null;
        if (entry.ExpiresAt <= now)
        {
            Remove(sessionId, entry);
            return null;
        }

        // Copied under the entry's lock: a removal zeroes the key under the same lock.
        lock (entry)
        {
            return entry.Zeroed ? null : new DeviceSession(sessionId, entry.ClientId, entry.Kid, (byte[])entry.Key.Clone(), entry.ExpiresAt);
        }
    }

    public void Add(string sessionId, string clientId, string kid, ReadOnlySpan<byte> key, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        if (capacity == 0 || expiresAt <= now) return;
        if (_entries.Count >= capacity)
        {
            foreach (var (id, old) in _entries)
                if (old.ExpiresAt <= now) Remove(id, old);
            if (_entries.Count >= capacity) Clear();
        }

        var entry = new Entry(clientId, kid, key.ToArray(), expiresAt);
        if (!_entries.TryAdd(sessionId, entry)) Zero(entry);
    }

    public void Dispose() => Clear();

    public void Forget(string sessionId)
    {
        if (_entries.TryGetValue(sessionId, out var entry)) Remove(sessionId, entry);
    }

    void Clear()
    {
        foreach (var (id, entry) in _entries) Remove(id, entry);
    }

    void Remove(string sessionId, Entry entry)
    {
        if (_entries.TryRemove(KeyValuePair.Create(sessionId, entry))) Zero(entry);
    }

    static void Zero(Entry entry)
    {
        lock (entry)
        {
            CryptographicOperations.ZeroMemory(entry.Key);
            entry.Zeroed = true;
        }
    }

    sealed class Entry(string clientId, string kid, byte[] key, DateTimeOffset expiresAt)
    {
        public string ClientId { get; } = clientId;

        public string Kid { get; } = kid;

        public byte[] Key { get; } = key;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public bool Zeroed { get; set; }
    }
}
