using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using Lib = Jose;

namespace R2ps.Crypto.Jose;

/// <summary>
/// jose-jwt (namespace <c>Jose</c>) as the JOSE engine: it signs and verifies ES256/384/512, does the ECDH-ES key
/// agreement with its Concat KDF, and AES-GCM. Our strict checks (<see cref="JwsCompact.Parse"/>,
/// <see cref="JweCompact.Parse"/>) always run first, so jose-jwt only ever sees input we already accept.
/// </summary>
internal static class JoseEngine
{
    /// <summary>
    /// Our own settings, never the library's mutable global <c>JWT.DefaultSettings</c>; every algorithm R2PS does not
    /// use is deregistered, so even a check of ours that missed something cannot reach none, HMAC, RSA, AES-CBC or zip.
    /// </summary>
    internal static Lib.JwtSettings Settings { get; } = CreateSettings();

    /// <summary>Signs the JWS signing input with <paramref name="key"/> (jose-jwt hashes, the key signs the hash).</summary>
    public static byte[] Sign(JwsAlgorithm algorithm, byte[] signingInput, ECDsa key)
    {
        try
        {
            return Settings.Jws(algorithm.Name()).Sign(signingInput, key);
        }
        catch (Lib.JoseException e) when (e.InnerException is not null)
        {
            // jose-jwt wraps the key's CryptographicException; callers (HSM fault handling) expect the key's own exception.
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    /// <summary>
    /// Whether <paramref name="signature"/> (raw R‖S) is <paramref name="algorithm"/>'s signature of
    /// <paramref name="signingInput"/> under <paramref name="publicKey"/> (jose-jwt hashes, the key verifies the hash). Both
    /// come from a compact JWS we already parsed strictly.
    /// </summary>
    public static bool Verify(JwsAlgorithm algorithm, byte[] signingInput, byte[] signature, ECDsa publicKey)
    {
        try
        {
            return Settings.Jws(algorithm.Name()).Verify(signature, signingInput, publicKey);
        }
        catch (Lib.JoseException)
        {
            return false;
        }
    }

    /// <summary>AES-GCM content encryption with a fresh 96-bit IV: returns IV, ciphertext and tag.</summary>
    public static (byte[] Iv, byte[] Ciphertext, byte[] Tag) Encrypt(JweEncryption encryption, byte[] aad, byte[] plaintext, byte[] cek)
    {
        var parts = Settings.Jwe(encryption.Name()).Encrypt(aad, plaintext, cek);
        return (parts[0], parts[1], parts[2]);
    }

    /// <summary>
    /// Direct ECDH-ES key agreement to <paramref name="recipient"/>: jose-jwt makes the ephemeral key, writes it to
    /// <paramref name="header"/>["epk"] and derives the content key from the header's enc, apu and apv.
    /// </summary>
    public static byte[] AgreeEcdhEs(int keySizeBits, ECDiffieHellman recipient, IDictionary<string, object> header) =>
        Settings.Jwa(JweAlgorithm.EcdhEs.Name()).WrapNewKey(keySizeBits, recipient, header)[0];

    /// <summary>
    /// The recipient side of ECDH-ES without the content decryption: the content key for a header (epk, enc, apu,
    /// apv). For the start-up self-test and the RFC 7518 App. C tests, which check the derived key itself.
    /// </summary>
    public static byte[] DeriveEcdhEsKey(int keySizeBits, ECDiffieHellman recipient, IDictionary<string, object> header) =>
        Settings.Jwa(JweAlgorithm.EcdhEs.Name()).Unwrap([], recipient, keySizeBits, header);

    /// <summary>Decrypts a compact JWE (already strictly parsed) whose alg and enc must be these.</summary>
    public static byte[] Decrypt(string compact, object key, JweAlgorithm algorithm, JweEncryption encryption)
    {
        try
        {
            return Lib.JWT.DecodeBytes(compact, key, algorithm.Name(), encryption.Name(), Settings);
        }
        catch (Lib.JoseException e)
        {
            throw new JoseException(JoseError.DecryptionFailed, "The JWE does not decrypt: wrong key, or a modified header, IV, ciphertext or tag.", e);
        }
    }

    private static Lib.JwtSettings CreateSettings()
    {
        var settings = new Lib.JwtSettings();
        foreach (var alg in Enum.GetValues<Lib.JwsAlgorithm>())
        {
            if (alg is not (Lib.JwsAlgorithm.ES256 or Lib.JwsAlgorithm.ES384 or Lib.JwsAlgorithm.ES512)) settings.DeregisterJws(alg);
        }
        foreach (var alg in Enum.GetValues<Lib.JweAlgorithm>())
        {
            if (alg is not (Lib.JweAlgorithm.DIR or Lib.JweAlgorithm.ECDH_ES)) settings.DeregisterJwa(alg);
        }
        foreach (var enc in Enum.GetValues<Lib.JweEncryption>())
        {
            if (enc is not (Lib.JweEncryption.A128GCM or Lib.JweEncryption.A256GCM)) settings.DeregisterJwe(enc);
        }
        foreach (var zip in Enum.GetValues<Lib.JweCompression>()) settings.DeregisterCompression(zip);
        return settings;
    }
}
