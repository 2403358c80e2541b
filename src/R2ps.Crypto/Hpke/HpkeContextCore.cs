using System.Buffers.Binary;
using System.Security.Cryptography;

namespace R2ps.Crypto.Hpke;

/// <summary>
/// The state both context roles share (RFC 9180 §5.2): the AEAD key, base_nonce, the sequence number and the
/// exporter_secret. A lock serializes Seal/Open so two threads can never encrypt under the same nonce.
/// </summary>
internal sealed class HpkeContextCore : IDisposable
{
    private const int TagLength = 16;

    private readonly HpkeSuite _suite;
    private readonly AesGcm? _aead;
    private readonly byte[] _baseNonce;
    private readonly byte[] _exporterSecret;
    private readonly Lock _gate = new();
    private ulong _sequenceNumber;
    private bool _disposed;

    /// <summary>Copies what it needs from <paramref name="schedule"/>; the caller still disposes the schedule.</summary>
    public HpkeContextCore(HpkeSuite suite, HpkeKeySchedule schedule)
    {
        _suite = suite;
        _baseNonce = (byte[])schedule.BaseNonce.Clone();
        _exporterSecret = (byte[])schedule.ExporterSecret.Clone();
        // AesGcm keeps its own expanded key and clears it on Dispose; no copy of the raw key is kept here.
        _aead = suite.Aead == HpkeAead.ExportOnly ? null : new AesGcm(schedule.Key, TagLength);
    }

    /// <summary>
    /// The number of messages sealed or opened so far. The RFC counter has Nn·8 bits; this one has 64, and the limit
    /// error comes when it would wrap (RFC 9180 §5.2 allows a shorter counter that fails on overflow).
    /// </summary>
    public ulong SequenceNumber
    {
        get
        {
            lock (_gate) return _sequenceNumber;
        }
        set
        {
            lock (_gate) _sequenceNumber = value;
        }
    }

    public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad)
    {
        lock (_gate)
        {
            var aead = RequireAead();
            Span<byte> nonce = stackalloc byte[_baseNonce.Length];
            ComputeNonce(_sequenceNumber, nonce);
            var ciphertext = new byte[plaintext.Length + TagLength];
            aead.Encrypt(nonce, plaintext, ciphertext.AsSpan(0, plaintext.Length), ciphertext.AsSpan(plaintext.Length), aad);
            _sequenceNumber++;
            return ciphertext;
        }
    }

    public byte[] Open(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> aad)
    {
        lock (_gate)
        {
            var aead = RequireAead();
            if (ciphertext.Length < TagLength)
                throw new HpkeException(HpkeError.OpenFailed, $"HPKE open failed: a ciphertext has at least {TagLength} bytes (the tag).");
            Span<byte> nonce = stackalloc byte[_baseNonce.Length];
            ComputeNonce(_sequenceNumber, nonce);
            var plaintext = new byte[ciphertext.Length - TagLength];
            try
            {
                aead.Decrypt(nonce, ciphertext[..^TagLength], ciphertext[^TagLength..], plaintext, aad);
            }
            catch (AuthenticationTagMismatchException e)
            {
                CryptographicOperations.ZeroMemory(plaintext);
                throw new HpkeException(HpkeError.OpenFailed, "HPKE open failed: the ciphertext, its associated data or the keys do not match.", e);
            }
            // Only a successful open advances the counter (RFC 9180 §5.2).
            _sequenceNumber++;
            return plaintext;
        }
    }

    /// <summary>Export (RFC 9180 §5.3): LabeledExpand(exporter_secret, "sec", exporter_context, L).</summary>
    public byte[] Export(ReadOnlySpan<byte> exporterContext, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, HpkeLabeledKdf.MaxExpandLength);
        if (exporterContext.Length > HpkeSuite.MaxInfoLength)
            throw new ArgumentException($"An HPKE exporter context is limited to {HpkeSuite.MaxInfoLength} bytes.", nameof(exporterContext));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return HpkeLabeledKdf.LabeledExpand(_suite.SuiteId, _exporterSecret, "sec"u8, exporterContext, length);
        }
    }

    /// <summary>ComputeNonce (RFC 9180 §5.2): base_nonce XOR I2OSP(seq, Nn).</summary>
    internal void ComputeNonce(ulong sequenceNumber, Span<byte> nonce)
    {
        _baseNonce.CopyTo(nonce);
        Span<byte> seq = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64BigEndian(seq, sequenceNumber);
        var offset = nonce.Length - seq.Length;
        for (var i = 0; i < seq.Length; i++) nonce[offset + i] ^= seq[i];
    }

    private AesGcm RequireAead()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_aead is null)
            throw new HpkeException(HpkeError.ExportOnly, "This HPKE context uses the export-only AEAD (0xFFFF): it can only Export.");
        if (_sequenceNumber == ulong.MaxValue)
            throw new HpkeException(HpkeError.MessageLimitReached, "The HPKE context has reached its message limit; set up a new one.");
        return _aead;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            CryptographicOperations.ZeroMemory(_baseNonce);
            CryptographicOperations.ZeroMemory(_exporterSecret);
            _aead?.Dispose();
        }
    }
}
