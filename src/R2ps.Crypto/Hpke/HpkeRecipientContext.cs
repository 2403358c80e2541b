namespace R2ps.Crypto.Hpke;

/// <summary>
/// The recipient's decryption context (RFC 9180 §5.2), from <see cref="HpkeSuite.SetupBaseR"/> or
/// <see cref="HpkeSuite.SetupAuthR"/>. Disposing zeroes the base nonce and exporter secret and releases the AEAD key.
/// </summary>
public sealed class HpkeRecipientContext : IDisposable
{
    private readonly HpkeContextCore _core;

    internal HpkeRecipientContext(HpkeSuite suite, HpkeContextCore core)
    {
        Suite = suite;
        _core = core;
    }

    public HpkeSuite Suite { get; }

    /// <summary>Messages opened so far; the next Open uses nonce base_nonce XOR this. A failed Open does not count.</summary>
    public ulong SequenceNumber
    {
        get => _core.SequenceNumber;
        internal set => _core.SequenceNumber = value; // tests jump to the message limit
    }

    internal HpkeContextCore Core => _core;

    /// <summary>Open (RFC 9180 §5.2): authenticates and decrypts ciphertext‖tag under the next nonce.</summary>
    /// <exception cref="HpkeException"><see cref="HpkeError.OpenFailed"/> if it is not authentic; export-only; message limit.</exception>
    public byte[] Open(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> aad = default) => _core.Open(ciphertext, aad);

    /// <summary>Export (RFC 9180 §5.3): a secret of <paramref name="length"/> bytes (1 to 8160) bound to the context.</summary>
    public byte[] Export(ReadOnlySpan<byte> exporterContext, int length) => _core.Export(exporterContext, length);

    public void Dispose() => _core.Dispose();
}
