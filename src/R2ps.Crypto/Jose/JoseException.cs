using System.Security.Cryptography;

namespace R2ps.Crypto.Jose;

/// <summary>Why a JOSE object was rejected. Callers map these to protocol errors (e.g. ILLEGAL_REQUEST_DATA vs ACCESS_DENIED).</summary>
public enum JoseError
{
    /// <summary>The compact serialization is longer than <see cref="JoseLimits.MaxCompactLength"/>.</summary>
    InputTooLarge,

    /// <summary>Wrong number of segments, or an empty segment where a value is required.</summary>
    MalformedCompact,

    /// <summary>A segment (or a base64url header value) is not canonical base64url without padding.</summary>
    InvalidBase64Url,

    /// <summary>The protected header is not a JSON object of the expected shape (bad JSON, wrong member types, missing alg/enc).</summary>
    InvalidHeader,

    /// <summary>A JSON object in the protected header names the same member twice.</summary>
    DuplicateHeaderMember,

    /// <summary>The header uses a parameter this implementation must not ignore (<c>crit</c>, <c>zip</c>) or one that does not belong to the algorithm.</summary>
    UnsupportedHeaderParameter,

    /// <summary>The header is well formed but not the one the caller requires (e.g. R2PS <c>{"typ":"JOSE","alg":"ES256"}</c>).</summary>
    UnexpectedHeader,

    /// <summary>The <c>alg</c> is not one this operation accepts (<c>none</c>, HMAC, RSA, or a JWE alg other than the requested one).</summary>
    UnsupportedAlgorithm,

    /// <summary>The <c>alg</c> does not belong to the key's curve (alg confusion).</summary>
    AlgorithmKeyMismatch,

    /// <summary>The JWE <c>enc</c> is not the content encryption the caller expects.</summary>
    UnsupportedEncryption,

    /// <summary>The signature has the wrong length or does not verify.</summary>
    InvalidSignature,

    /// <summary>The ECDH-ES <c>epk</c> is malformed, on another curve, or not a point of the recipient's curve.</summary>
    InvalidEphemeralKey,

    /// <summary>The encrypted-key segment is not empty although the algorithm (dir, ECDH-ES) has no encrypted key.</summary>
    UnexpectedEncryptedKey,

    /// <summary>The initialization vector is not 96 bits.</summary>
    InvalidIv,

    /// <summary>The authentication tag is not 128 bits.</summary>
    InvalidTag,

    /// <summary>The content key has the wrong length for the content encryption.</summary>
    InvalidKey,

    /// <summary>AES-GCM authentication failed: wrong key, or a modified header, IV, ciphertext or tag.</summary>
    DecryptionFailed,
}

/// <summary>
/// The one exception JOSE processing throws for bad input. A <see cref="CryptographicException"/> so that callers
/// catching that still see it. Messages describe the structural fault only, never key material or plaintext.
/// </summary>
public sealed class JoseException : CryptographicException
{
    public JoseException(JoseError reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public JoseException(JoseError reason, string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public JoseError Reason { get; }
}
