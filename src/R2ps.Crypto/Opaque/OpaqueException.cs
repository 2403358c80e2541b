using System.Security.Cryptography;

namespace R2ps.Crypto.Opaque;

/// <summary>Why an OPRF/OPAQUE operation refused its input. Messages never carry secret values.</summary>
public enum OpaqueError
{
    /// <summary>A message or field has the wrong length.</summary>
    InvalidLength,

    /// <summary>A group element is not a valid compressed P-256 point (off the curve, x ≥ p, bad prefix or the identity).</summary>
    InvalidPoint,

    /// <summary>A scalar is zero or not below the group order.</summary>
    InvalidScalar,

    /// <summary>An argument is unusable (e.g. an empty or oversized identity, a wrong-size seed).</summary>
    InvalidInput,

    /// <summary>RFC 9497 DeriveKeyPair found no non-zero scalar in 256 attempts.</summary>
    DeriveKeyPairFailed,

    /// <summary>The client could not open its envelope (wrong password or a tampered response).</summary>
    EnvelopeRecoveryFailed,

    /// <summary>The client rejected the server MAC in KE2.</summary>
    ServerAuthenticationFailed,

    /// <summary>The server rejected KE3. Deliberately one reason for every way KE3 can be wrong.</summary>
    ClientAuthenticationFailed,
}

/// <summary>A typed OPRF/OPAQUE failure; <see cref="Reason"/> says which check refused the input.</summary>
public sealed class OpaqueException : CryptographicException
{
    public OpaqueException(OpaqueError reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public OpaqueException()
        : this(OpaqueError.InvalidInput, "OPAQUE input rejected.")
    {
    }

    public OpaqueException(string message)
        : this(OpaqueError.InvalidInput, message)
    {
    }

    public OpaqueException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = OpaqueError.InvalidInput;
    }

    public OpaqueError Reason { get; }
}
