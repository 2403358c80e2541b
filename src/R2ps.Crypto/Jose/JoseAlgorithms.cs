using R2ps.Crypto.Ec;

namespace R2ps.Crypto.Jose;

/// <summary>The JWS algorithms this implementation signs and verifies: ECDSA only (RFC 7518 §3.4).</summary>
public enum JwsAlgorithm
{
    ES256,
    ES384,
    ES512,
}

/// <summary>JWE content encryption (RFC 7518 §5.3). A256GCM is the R2PS one; A128GCM exists for the RFC 7520 §5.6 example.</summary>
public enum JweEncryption
{
    A128GCM,
    A256GCM,
}

/// <summary>JWE key management (RFC 7518 §4.5 and §4.6 direct key agreement).</summary>
public enum JweAlgorithm
{
    /// <summary><c>dir</c>: the shared symmetric key is the content key.</summary>
    Direct,

    /// <summary><c>ECDH-ES</c>: the content key is the Concat KDF output of an ephemeral-static ECDH.</summary>
    EcdhEs,
}

/// <summary>Names and parameters of the supported JOSE algorithms.</summary>
public static class JoseAlgorithms
{
    public static string Name(this JwsAlgorithm alg) => alg switch
    {
        JwsAlgorithm.ES256 => "ES256",
        JwsAlgorithm.ES384 => "ES384",
        JwsAlgorithm.ES512 => "ES512",
        _ => throw new ArgumentOutOfRangeException(nameof(alg)),
    };

    public static string Name(this JweEncryption enc) => enc switch
    {
        JweEncryption.A128GCM => "A128GCM",
        JweEncryption.A256GCM => "A256GCM",
        _ => throw new ArgumentOutOfRangeException(nameof(enc)),
    };

    public static string Name(this JweAlgorithm alg) => alg switch
    {
        JweAlgorithm.Direct => "dir",
        JweAlgorithm.EcdhEs => "ECDH-ES",
        _ => throw new ArgumentOutOfRangeException(nameof(alg)),
    };

    /// <summary>The one curve each ES algorithm is defined for (RFC 7518 §3.4); binding them prevents alg confusion.</summary>
    public static EcCurve Curve(this JwsAlgorithm alg) => alg switch
    {
        JwsAlgorithm.ES256 => EcCurve.P256,
        JwsAlgorithm.ES384 => EcCurve.P384,
        JwsAlgorithm.ES512 => EcCurve.P521,
        _ => throw new ArgumentOutOfRangeException(nameof(alg)),
    };

    public static JwsAlgorithm JwsAlgorithmFor(EcCurve curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        if (ReferenceEquals(curve, EcCurve.P256)) return JwsAlgorithm.ES256;
        if (ReferenceEquals(curve, EcCurve.P384)) return JwsAlgorithm.ES384;
        if (ReferenceEquals(curve, EcCurve.P521)) return JwsAlgorithm.ES512;
        throw new ArgumentOutOfRangeException(nameof(curve), "No JWS algorithm for this curve.");
    }

    /// <summary>Content key bytes of the encryption (16 or 32).</summary>
    public static int KeySize(this JweEncryption enc) => enc switch
    {
        JweEncryption.A128GCM => 16,
        JweEncryption.A256GCM => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(enc)),
    };

    /// <summary>Exact, case-sensitive match (RFC 7515 §4.1.1: alg values are case-sensitive).</summary>
    public static bool TryParseJws(string? name, out JwsAlgorithm alg)
    {
        foreach (var candidate in (ReadOnlySpan<JwsAlgorithm>)[JwsAlgorithm.ES256, JwsAlgorithm.ES384, JwsAlgorithm.ES512])
        {
            if (string.Equals(candidate.Name(), name, StringComparison.Ordinal))
            {
                alg = candidate;
                return true;
            }
        }
        alg = default;
        return false;
    }

    public static bool TryParseEncryption(string? name, out JweEncryption enc)
    {
        foreach (var candidate in (ReadOnlySpan<JweEncryption>)[JweEncryption.A128GCM, JweEncryption.A256GCM])
        {
            if (string.Equals(candidate.Name(), name, StringComparison.Ordinal))
            {
                enc = candidate;
                return true;
            }
        }
        enc = default;
        return false;
    }
}
