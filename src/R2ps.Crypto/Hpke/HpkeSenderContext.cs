namespace R2ps.Crypto.Hpke;

/// <summary>
/// The sender's encryption context (RFC 9180 §5.2), from <see cref="HpkeSuite.SetupBaseS(Keys.EcPublicKey, ReadOnlySpan{byte})"/>
/// or <see cref="HpkeSuite.SetupAuthS(Keys.EcPublicKey, ReadOnlySpan{byte}, Keys.IEcPrivateKey)"/>. Send <see cref="Enc"/> with
/// the ciphertexts. Disposing zeroes the base nonce and exporter secret and releases the AEAD key.
/// </summary>
public sealed class HpkeSenderContext : IDisposable
{
    private readonly HpkeContextCore _core;
    private readonly byte[] _enc;

    internal HpkeSenderContext(HpkeSuite suite, byte[] enc, HpkeContextCore core)
    {
        Suite = suite;
        _enc = enc;
        _core = core;
    }

    public HpkeSuite Suite { get; }

    /// <summary>The encapsulated key: the 65-byte uncompressed ephemeral public key (a copy).</summary>
    public byte[] Enc => (byte[])_enc.Clone();

    /// <summary>Messages sealed so far; the next Seal uses nonce base_nonce XOR this.</summary>
    public ulong SequenceNumber
    {
        get => _core.SequenceNumber;
        internal set => _core.SequenceNumber = value; // tests jump to the message limit
    }

    internal HpkeContextCore Core => _core;

    /// <summary>Seal (RFC 9180 §5.2): AEAD-encrypts under the next nonce; returns ciphertext‖tag.</summary>
    /// <exception cref="HpkeException">Export-only AEAD, or the message limit is reached.</exception>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad = default) => _core.Seal(plaintext, aad);

    /// <summary>Export (RFC 9180 §5.3): a secret of <paramref name="length"/> bytes (1 to 8160) bound to the context.</summary>
    public byte[] Export(ReadOnlySpan<byte> exporterContext, int length) => _core.Export(exporterContext, length);

    public void Dispose() => _core.Dispose();
}
