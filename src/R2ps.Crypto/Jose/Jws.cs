using System.Security.Cryptography;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Jose;

/// <summary>Options for <see cref="Jws.Verify"/>.</summary>
public sealed record JwsVerificationOptions
{
    public static JwsVerificationOptions Default { get; } = new();

    /// <summary>R2PS envelopes (PROTOCOL.md 1.1/1.2): the header members must be exactly typ "JOSE" and alg "ES256".</summary>
    public static JwsVerificationOptions R2ps { get; } = new() { RequiredHeader = Jws.R2psHeaderMembers };

    public JoseLimits Limits { get; init; } = JoseLimits.Default;

    /// <summary>When set, the protected header must have exactly these string members (see <see cref="JoseHeader.HasExactly"/>).</summary>
    public IReadOnlyDictionary<string, string>? RequiredHeader { get; init; }
}

/// <summary>
/// Compact JWS with ECDSA (RFC 7515, RFC 7518 §3.4): ES256/P-256, ES384/P-384, ES512/P-521 and nothing else; the
/// algorithm must belong to the key's curve. Private keys are <see cref="IEcPrivateKey"/>, so an HSM can sign.
/// jose-jwt signs and verifies (<see cref="JoseEngine"/>), after our strict parsing and header checks.
/// </summary>
public static class Jws
{
    /// <summary>The exact header bytes R2PS signs with (PROTOCOL.md 1.1), as the Java reference (Nimbus) writes them.</summary>
    public const string R2psHeaderJson = """{"typ":"JOSE","alg":"ES256"}""";

    /// <summary>The R2PS header as members, for verification (member order is not significant there).</summary>
    public static IReadOnlyDictionary<string, string> R2psHeaderMembers { get; } =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["typ"] = "JOSE", ["alg"] = "ES256" }.AsReadOnly();

    /// <summary>Signs with the header <c>{"typ":"JOSE","alg":…}</c>, alg from the key's curve; for P-256 the bytes are <see cref="R2psHeaderJson"/>.</summary>
    public static string Sign(ReadOnlySpan<byte> payload, IEcPrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var alg = JoseAlgorithms.JwsAlgorithmFor(key.PublicKey.Curve);
        return Sign(payload, key, $$"""{"typ":"JOSE","alg":"{{alg.Name()}}"}""");
    }

    /// <summary>
    /// Signs with exactly these header bytes (UTF-8 of <paramref name="protectedHeaderJson"/>). The header must pass
    /// the same strict checks as on verification and name the alg of the key's curve.
    /// </summary>
    public static string Sign(ReadOnlySpan<byte> payload, IEcPrivateKey key, string protectedHeaderJson)
    {
        var (alg, signingInput) = SigningInput(payload, key, protectedHeaderJson);
        // jose-jwt signs (hash, then the key's SignHash through the adapter). We build the signing input ourselves
        // because JWT.Encode serializes its own header dictionary ({"alg":…} first), while R2PS signs exactly the
        // given header bytes (PROTOCOL.md 1.1: {"typ":"JOSE","alg":"ES256"}, as the Java reference writes them).
        byte[] signature;
        using (var signer = new EcdsaKeyAdapter(key))
        {
            signature = JoseEngine.Sign(alg, CompactSerialization.Ascii(signingInput), signer);
        }
        return signingInput + "." + Base64Url.Encode(signature);
    }

    /// <summary>
    /// <see cref="Sign(ReadOnlySpan{byte}, IEcPrivateKey, string)"/> for a key that signs asynchronously (an HSM key, whose
    /// session pool may be busy): the same header checks, signing input and signature, but the wait for the key does not
    /// hold a thread. jose-jwt's signer is synchronous, so here the two steps it takes — hash the signing input with the
    /// alg's SHA-2 (RFC 7518 §3.4), have the key sign the hash as raw R‖S — are taken directly; what comes out verifies
    /// with jose-jwt like any other (the tests check it). Any other key signs through jose-jwt as above.
    /// </summary>
    public static Task<string> SignAsync(ReadOnlyMemory<byte> payload, IEcPrivateKey key, string protectedHeaderJson, CancellationToken cancellationToken)
    {
        if (key is not IAsyncEcPrivateKey asyncKey)
            return Task.FromResult(Sign(payload.Span, key, protectedHeaderJson));

        var (alg, signingInput) = SigningInput(payload.Span, key, protectedHeaderJson);
        var input = CompactSerialization.Ascii(signingInput);
        var hash = alg switch
        {
            JwsAlgorithm.ES256 => SHA256.HashData(input),
            JwsAlgorithm.ES384 => SHA384.HashData(input),
            _ => SHA512.HashData(input),
        };
        return SignedAsync(signingInput, hash, asyncKey, cancellationToken);
    }

    /// <summary>The header's strict checks (it must name the alg of the key's curve), then header.payload to sign.</summary>
    private static (JwsAlgorithm Alg, string SigningInput) SigningInput(ReadOnlySpan<byte> payload, IEcPrivateKey key, string protectedHeaderJson)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(protectedHeaderJson);
        var header = JoseHeader.FromUtf8(System.Text.Encoding.UTF8.GetBytes(protectedHeaderJson));
        var alg = JwsCompact.ReadAlgorithm(header);
        if (!ReferenceEquals(alg.Curve(), key.PublicKey.Curve))
            throw new JoseException(JoseError.AlgorithmKeyMismatch, $"{alg.Name()} cannot be used with a {key.PublicKey.Curve.Name} key.");
        return (alg, header.Segment + "." + Base64Url.Encode(payload));
    }

    private static async Task<string> SignedAsync(string signingInput, byte[] hash, IAsyncEcPrivateKey key, CancellationToken cancellationToken)
    {
        var signature = await key.SignHashAsync(hash, cancellationToken).ConfigureAwait(false);
        if (signature.Length != 2 * key.PublicKey.Curve.FieldSize)
            throw new CryptographicException("The signing key returned a signature that is not raw R‖S of the curve's size.");
        return signingInput + "." + Base64Url.Encode(signature);
    }

    /// <summary>Parses, checks the header, verifies the signature under <paramref name="key"/>, and returns the payload.</summary>
    public static byte[] Verify(string compact, EcPublicKey key, JwsVerificationOptions? options = null)
    {
        options ??= JwsVerificationOptions.Default;
        var jws = JwsCompact.Parse(compact, options.Limits);
        if (options.RequiredHeader is not null) jws.RequireHeader(options.RequiredHeader);
        return jws.Verify(key);
    }
}

/// <summary>
/// A structurally valid compact JWS whose signature is not yet checked. R2PS needs the payload (client_id, kid) to
/// pick the verification key, hence <see cref="GetUnverifiedPayload"/>; nothing read from it may be trusted before
/// <see cref="Verify"/> succeeds.
/// </summary>
public sealed class JwsCompact
{
    private readonly string _compact;
    private readonly byte[] _payload;
    private readonly byte[] _signature;

    private JwsCompact(JoseHeader header, JwsAlgorithm algorithm, string compact, byte[] payload, byte[] signature)
    {
        Header = header;
        Algorithm = algorithm;
        _compact = compact;
        _payload = payload;
        _signature = signature;
    }

    public JoseHeader Header { get; }

    public JwsAlgorithm Algorithm { get; }

    /// <summary>
    /// Checks size, the three segments, canonical base64url everywhere, and the header: strict JSON, an ES256/ES384/ES512
    /// <c>alg</c> (so <c>none</c>, HMAC and RSA fail here), no <c>crit</c> and no <c>b64</c>.
    /// </summary>
    public static JwsCompact Parse(string compact, JoseLimits? limits = null)
    {
        limits ??= JoseLimits.Default;
        var segments = CompactSerialization.Split(compact, 3, limits, "JWS");
        var header = JoseHeader.Parse(segments[0], limits);
        var algorithm = ReadAlgorithm(header);
        var payload = CompactSerialization.Decode(segments[1], "JWS payload");
        var signature = CompactSerialization.Decode(segments[2], "JWS signature");
        return new JwsCompact(header, algorithm, compact, payload, signature);
    }

    /// <summary>Throws <see cref="JoseError.UnexpectedHeader"/> unless the header has exactly these members.</summary>
    public void RequireHeader(IReadOnlyDictionary<string, string> expected)
    {
        if (!Header.HasExactly(expected))
            throw new JoseException(JoseError.UnexpectedHeader, "The JWS protected header is not the required one.");
    }

    /// <summary>A copy of the payload, NOT authenticated: only for selecting the key to verify with.</summary>
    public byte[] GetUnverifiedPayload() => (byte[])_payload.Clone();

    /// <summary>Verifies under <paramref name="key"/> and returns a copy of the payload.</summary>
    public byte[] Verify(EcPublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var curve = Algorithm.Curve();
        // An alg must not be able to choose how the key is used: ES384 over a P-256 key is refused, not attempted.
        if (!ReferenceEquals(curve, key.Curve))
            throw new JoseException(JoseError.AlgorithmKeyMismatch, $"{Algorithm.Name()} does not match the {key.Curve.Name} verification key.");
        if (_signature.Length != 2 * curve.FieldSize)
            throw new JoseException(JoseError.InvalidSignature, $"An {Algorithm.Name()} signature is {2 * curve.FieldSize} bytes, not {_signature.Length}.");

        // The signing input is the text received up to the second dot (RFC 7515 §5.2), ASCII as Parse checked; jose-jwt
        // verifies the signature over it. Its JWT.Decode would split, decode and re-encode the same segments again.
        var signingInput = System.Text.Encoding.ASCII.GetBytes(_compact, 0, _compact.LastIndexOf('.'));
        if (!key.WithVerifier(ecdsa => JoseEngine.Verify(Algorithm, signingInput, _signature, ecdsa)))
            throw new JoseException(JoseError.InvalidSignature, "The JWS signature does not verify.");
        return (byte[])_payload.Clone();
    }

    internal static JwsAlgorithm ReadAlgorithm(JoseHeader header)
    {
        // crit lists extensions the recipient must understand; we understand none, so any crit is fatal (RFC 7515 §4.1.11).
        if (header.Contains("crit"))
            throw new JoseException(JoseError.UnsupportedHeaderParameter, "The JWS header has a 'crit' parameter; no extensions are supported.");
        // b64 (RFC 7797) is only valid with crit, but jose-jwt honours it without: {"b64":false} would make it return the
        // payload segment's text instead of its decoding, under the same signature. So it is refused here, before jose-jwt.
        if (header.Contains("b64"))
            throw new JoseException(JoseError.UnsupportedHeaderParameter, "The JWS header has a 'b64' parameter; unencoded payloads are not supported.");
        var name = header.GetString("alg")
            ?? throw new JoseException(JoseError.InvalidHeader, "The JWS header has no 'alg'.");
        if (!JoseAlgorithms.TryParseJws(name, out var algorithm))
            throw new JoseException(JoseError.UnsupportedAlgorithm, $"JWS alg '{JoseHeader.Printable(name)}' is not accepted; only ES256, ES384 and ES512 are.");
        return algorithm;
    }
}
