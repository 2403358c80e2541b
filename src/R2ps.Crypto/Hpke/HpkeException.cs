using System.Security.Cryptography;

namespace R2ps.Crypto.Hpke;

/// <summary>What went wrong in an HPKE operation; the names follow the error kinds of RFC 9180 §5.</summary>
public enum HpkeError
{
    /// <summary>An encapsulated key (<c>enc</c>) that is not a 65-byte uncompressed P-256 point on the curve (DeserializeError).</summary>
    InvalidEncapsulatedKey,

    /// <summary>A public or private key argument that is not a P-256 key (ValidationError).</summary>
    InvalidKey,

    /// <summary>The ciphertext or its associated data is not authentic, or the wrong keys were used (OpenError).</summary>
    OpenFailed,

    /// <summary>The context's sequence number is exhausted (MessageLimitReachedError).</summary>
    MessageLimitReached,

    /// <summary>DeriveKeyPair found no valid scalar, or its input keying material was too short (DeriveKeyPairError).</summary>
    DeriveKeyPairFailed,

    /// <summary>A psk mode, or an unknown mode.</summary>
    UnsupportedMode,

    /// <summary>A KEM, KDF or AEAD identifier this implementation does not offer.</summary>
    UnsupportedAlgorithm,

    /// <summary>Seal or Open on a context of the export-only AEAD (0xFFFF).</summary>
    ExportOnly,
}

/// <summary>An HPKE failure. Messages never contain key material.</summary>
public sealed class HpkeException : CryptographicException
{
    public HpkeException(HpkeError error, string message)
        : base(message)
    {
        Error = error;
    }

    public HpkeException(HpkeError error, string message, Exception innerException)
        : base(message, innerException)
    {
        Error = error;
    }

    public HpkeError Error { get; }
}
