using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace R2ps.Service;

/// <summary>
/// Unsealed session keys, found by what the HSM would open: SHA-256 over the associated data and the sealed bytes. Without
/// it every user-mode request unseals the same key of its session in the HSM again. The cache decides nothing: the
/// session's row is read and its binding, phase and expiry are checked on every request before the cache is asked, and
/// an entry answers only for the exact sealed bytes and associated data it was opened from (anything copied or altered
/// misses, goes to the HSM and is refused there). An entry ends with its session's expiry; removed entries are zeroed. A
/// session that was closed early keeps its entry, unused, until that expiry, the next sweep or a full cache.
/// </summary>
internal sealed class SessionKeyCache(int capacity)
{
    /// <summary>How often adding also sweeps out expired entries.</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    /// <summary>A copy of the key opened from exactly these bytes, if cached and not expired at <paramref name="now"/>.</summary>
    public bool TryGet(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> sealedKey, DateTimeOffset now, out byte[] key)
    {
        key = [];
        if (capacity == 0) return false;
        var id = Id(associatedData, sealedKey);
        if (!_entries.TryGetValue(id, out var entry)) return false;
        if (entry.ExpiresAt <= now)
        {
            Remove(id);
            return false;
        }

        return entry.TryCopy(out key);
    }

    /// <summary>Keeps a copy of <paramref name="key"/> until <paramref name="expiresAt"/>; nothing when the cache is full.</summary>
    public void Add(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> sealedKey, ReadOnlySpan<byte> key, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        if (capacity == 0 || expiresAt <= now) return;
        if (now >= _nextSweep || _entries.Count >= capacity)
        {
            _nextSweep = now + SweepInterval;
            foreach (var (id, entry) in _entries)
                if (entry.ExpiresAt <= now) Remove(id);
        }
        if (_entries.Count >= capacity) return;

        var added = new Entry(key.ToArray(), expiresAt);
        if (!_entries.TryAdd(Id(associatedData, sealedKey), added)) added.Zero();
    }

    /// <summary>Entries held now (for tests).</summary>
    public int Count => _entries.Count;

    private void Remove(string id)
    {
        if (_entries.TryRemove(id, out var entry)) entry.Zero();
    }

    private static string Id(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> sealedKey)
    {
        // Length-prefixed, so no (aad, sealed) pair hashes the bytes of another.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, associatedData.Length);
        hash.AppendData(length);
        hash.AppendData(associatedData);
        hash.AppendData(sealedKey);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Convert.ToHexString(digest);
    }

    /// <summary>One key; copying and zeroing exclude each other, so no reader gets a half-zeroed copy.</summary>
    private sealed class Entry(byte[] key, DateTimeOffset expiresAt)
    {
        private readonly Lock _lock = new();
        private bool _zeroed;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public bool TryCopy(out byte[] copy)
        {
            lock (_lock)
            {
                copy = _zeroed ? [] : (byte[])key.Clone();
                return !_zeroed;
            }
        }

        public void Zero()
        {
            lock (_lock)
            {
                CryptographicOperations.ZeroMemory(key);
                _zeroed = true;
            }
        }
    }
}
