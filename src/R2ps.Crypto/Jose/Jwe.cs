using System.Buffers;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Jose;

/// <summary>
/// Compact JWE (RFC 7516) with the two key-management modes R2PS uses, both with AES-GCM content encryption and an
/// empty encrypted-key segment: <c>dir</c> (a shared 32-byte key) and <c>ECDH-ES</c> direct key agreement
/// (RFC 7518 §4.6, Concat KDF). Every message gets a fresh random 96-bit IV; the AAD is the ASCII of the
/// protected-header segment. jose-jwt does the key agreement and AES-GCM (<see cref="JoseEngine"/>); the header bytes
/// and every check of received input are ours.
/// </summary>
public static class Jwe
{
    /// <summary>The <c>cty</c> R2PS puts in ECDH-ES headers (PROTOCOL.md 1.3).</summary>
    public const string OctetStreamContentType = "application/octet-stream";

    internal const int IvSize = 12;
    internal const int TagSize = 16;

    // Members that steer processing are set by this class, never by extra header members.
    private static readonly HashSet<string> ReservedMembers = new(StringComparer.Ordinal) { "alg", "enc", "zip", "crit", "epk", "apu", "apv" };

    // Header values are ours or the caller's (kid, cty); minimal escaping keeps them readable ("+" stays "+").
    // The output is a JOSE header, never HTML, so the HTML-sensitive characters need no escaping.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>
    /// <c>dir</c> + A256GCM under a 32-byte key. Header member order is fixed, matching PROTOCOL.md byte for byte:
    /// without extra members <c>{"enc":"A256GCM","alg":"dir"}</c> (1.3, the order the Java reference emits);
    /// with extra members <c>{"alg":"dir","enc":"A256GCM",</c> then the extra members in the order given <c>}</c>
    /// (2.1 <c>kid</c>; 2.2 <c>kid</c>, <c>cty</c>). Extra members are strings and may not be alg, enc, zip, crit, epk, apu or apv.
    /// </summary>
    public static string EncryptDirect(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> key, params ReadOnlySpan<(string Name, string Value)> extraHeaderMembers)
    {
        const JweEncryption encryption = JweEncryption.A256GCM;
        if (key.Length != encryption.KeySize())
            throw new JoseException(JoseError.InvalidKey, $"A {encryption.Name()} key is {encryption.KeySize()} bytes, not {key.Length}.");
        CheckExtraMembers(extraHeaderMembers);

        var nimbusOrder = extraHeaderMembers.IsEmpty;
        var header = WriteHeader(writer =>
        {
            if (nimbusOrder)
            {
                writer.WriteString("enc", encryption.Name());
                writer.WriteString("alg", JweAlgorithm.Direct.Name());
            }
            else
            {
                writer.WriteString("alg", JweAlgorithm.Direct.Name());
                writer.WriteString("enc", encryption.Name());
            }
        }, extraHeaderMembers);
        // dir: the shared key is the content key (RFC 7518 §4.5); jose-jwt's AES-GCM takes it as an array we own.
        var cek = key.ToArray();
        try
        {
            return Seal(header, plaintext, cek, encryption);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cek);
        }
    }

    /// <summary>
    /// <c>ECDH-ES</c> + A256GCM to <paramref name="recipient"/> with a fresh ephemeral key on its curve. Header (PROTOCOL.md 1.3):
    /// <c>{"epk":{"kty":"EC","crv":…,"x":…,"y":…},"cty":"application/octet-stream","enc":"A256GCM","alg":"ECDH-ES"}</c>;
    /// non-empty party infos add <c>apu</c>/<c>apv</c> right after <c>epk</c>; a null <paramref name="contentType"/> omits <c>cty</c>.
    /// </summary>
    public static string EncryptEcdhEs(
        ReadOnlySpan<byte> plaintext,
        EcPublicKey recipient,
        string? contentType = OctetStreamContentType,
        ReadOnlySpan<byte> partyUInfo = default,
        ReadOnlySpan<byte> partyVInfo = default)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        const JweEncryption encryption = JweEncryption.A256GCM;
        var apu = partyUInfo.IsEmpty ? null : Base64Url.Encode(partyUInfo);
        var apv = partyVInfo.IsEmpty ? null : Base64Url.Encode(partyVInfo);

        // jose-jwt makes the ephemeral key and derives the content key (ECDH, Concat KDF over enc, apu, apv) and
        // puts the epk into this dictionary; we then write the header bytes in PROTOCOL.md's member order, which
        // JWT.Encode would not keep (it emits alg, epk, enc, … in its own order).
        var agreementHeader = new Dictionary<string, object>(StringComparer.Ordinal) { ["enc"] = encryption.Name() };
        if (apu is not null) agreementHeader["apu"] = apu;
        if (apv is not null) agreementHeader["apv"] = apv;
        var cek = recipient.WithAgreementKey(recipientKey => JoseEngine.AgreeEcdhEs(encryption.KeySize() * 8, recipientKey, agreementHeader));
        try
        {
            var epk = EphemeralKeyMembers(agreementHeader, recipient.Curve);
            var header = WriteHeader(writer =>
            {
                writer.WriteStartObject("epk");
                writer.WriteString("kty", "EC");
                writer.WriteString("crv", epk.Crv);
                writer.WriteString("x", epk.X);
                writer.WriteString("y", epk.Y);
                writer.WriteEndObject();
                if (apu is not null) writer.WriteString("apu", apu);
                if (apv is not null) writer.WriteString("apv", apv);
                if (contentType is not null) writer.WriteString("cty", contentType);
                writer.WriteString("enc", encryption.Name());
                writer.WriteString("alg", JweAlgorithm.EcdhEs.Name());
            }, []);
            return Seal(header, plaintext, cek, encryption);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cek);
        }
    }

    /// <summary>The epk jose-jwt wrote: kty EC on the recipient's curve, x and y as base64url strings.</summary>
    private static (string Crv, string X, string Y) EphemeralKeyMembers(Dictionary<string, object> header, Ec.EcCurve curve)
    {
        if (header.TryGetValue("epk", out var value) && value is IDictionary<string, object> epk
            && epk.TryGetValue("kty", out var kty) && kty is "EC"
            && epk.TryGetValue("crv", out var crv) && crv is string crvText && string.Equals(crvText, curve.Name, StringComparison.Ordinal)
            && epk.TryGetValue("x", out var x) && x is string xText
            && epk.TryGetValue("y", out var y) && y is string yText)
            return (crvText, xText, yText);
        throw new CryptographicException("The ECDH-ES key agreement produced no ephemeral key on the recipient's curve.");
    }

    /// <summary>Parses and decrypts a <c>dir</c> JWE; <paramref name="encryption"/> is the only <c>enc</c> accepted.</summary>
    public static byte[] DecryptDirect(string compact, ReadOnlySpan<byte> key, JweEncryption encryption = JweEncryption.A256GCM, JoseLimits? limits = null) =>
        JweCompact.Parse(compact, limits).DecryptDirect(key, encryption);

    /// <summary>Parses and decrypts an <c>ECDH-ES</c> JWE with the recipient's private key (software or HSM).</summary>
    public static byte[] DecryptEcdhEs(string compact, IEcPrivateKey recipient, JweEncryption encryption = JweEncryption.A256GCM, JoseLimits? limits = null) =>
        JweCompact.Parse(compact, limits).DecryptEcdhEs(recipient, encryption);

    private static void CheckExtraMembers(ReadOnlySpan<(string Name, string Value)> members)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in members)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("A header member needs a name.", nameof(members));
            ArgumentNullException.ThrowIfNull(value, nameof(members));
            if (ReservedMembers.Contains(name)) throw new ArgumentException($"Header member '{name}' is set by the JWE itself.", nameof(members));
            if (!seen.Add(name)) throw new ArgumentException($"Header member '{name}' is given twice.", nameof(members));
        }
    }

    private static byte[] WriteHeader(Action<Utf8JsonWriter> writeFixedMembers, ReadOnlySpan<(string Name, string Value)> extraMembers)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writeFixedMembers(writer);
            foreach (var (name, value) in extraMembers) writer.WriteString(name, value);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static string Seal(byte[] headerUtf8, ReadOnlySpan<byte> plaintext, byte[] cek, JweEncryption encryption)
    {
        var headerSegment = Base64Url.Encode(headerUtf8);
        // jose-jwt's AES-GCM: a fresh random 96-bit IV, a 128-bit tag, the header segment's ASCII as AAD.
        var (iv, ciphertext, tag) = JoseEngine.Encrypt(encryption, CompactSerialization.Ascii(headerSegment), plaintext.ToArray(), cek);
        if (iv.Length != IvSize || tag.Length != TagSize)
            throw new CryptographicException("The AES-GCM encryption returned an IV or tag of an unexpected size.");
        return string.Join('.', headerSegment, string.Empty, Base64Url.Encode(iv), Base64Url.Encode(ciphertext), Base64Url.Encode(tag));
    }
}

/// <summary>
/// A structurally valid compact JWE, not yet decrypted. The BFF reads <c>kid</c> from <see cref="Header"/> to find the
/// session key; the header is authenticated only once a decrypt succeeds (it is the AAD).
/// </summary>
public sealed class JweCompact
{
    private readonly string _compact;

    private JweCompact(string compact, JoseHeader header, JweAlgorithm algorithm, JweEncryption encryption)
    {
        _compact = compact;
        Header = header;
        Algorithm = algorithm;
        Encryption = encryption;
    }

    public JoseHeader Header { get; }

    public JweAlgorithm Algorithm { get; }

    public JweEncryption Encryption { get; }

    /// <summary>
    /// Checks size, the five segments, canonical base64url, the header (strict JSON; alg dir or ECDH-ES; enc A128GCM or
    /// A256GCM; no crit or zip; no epk/apu/apv with dir), an empty encrypted key, a 96-bit IV and a 128-bit tag.
    /// </summary>
    public static JweCompact Parse(string compact, JoseLimits? limits = null)
    {
        limits ??= JoseLimits.Default;
        var segments = CompactSerialization.Split(compact, 5, limits, "JWE");
        var header = JoseHeader.Parse(segments[0], limits);

        foreach (var unsupported in (ReadOnlySpan<string>)["crit", "zip"])
        {
            if (header.Contains(unsupported))
                throw new JoseException(JoseError.UnsupportedHeaderParameter, $"The JWE header has '{unsupported}', which is not supported.");
        }

        var algName = header.GetString("alg") ?? throw new JoseException(JoseError.InvalidHeader, "The JWE header has no 'alg'.");
        var algorithm = algName switch
        {
            "dir" => JweAlgorithm.Direct,
            "ECDH-ES" => JweAlgorithm.EcdhEs,
            _ => throw new JoseException(JoseError.UnsupportedAlgorithm, $"JWE alg '{JoseHeader.Printable(algName)}' is not accepted; only dir and ECDH-ES are."),
        };
        var encName = header.GetString("enc") ?? throw new JoseException(JoseError.InvalidHeader, "The JWE header has no 'enc'.");
        if (!JoseAlgorithms.TryParseEncryption(encName, out var encryption))
            throw new JoseException(JoseError.UnsupportedEncryption, $"JWE enc '{JoseHeader.Printable(encName)}' is not accepted; only A128GCM and A256GCM are.");
        if (algorithm == JweAlgorithm.Direct)
        {
            foreach (var agreementOnly in (ReadOnlySpan<string>)["epk", "apu", "apv"])
            {
                if (header.Contains(agreementOnly))
                    throw new JoseException(JoseError.UnsupportedHeaderParameter, $"A dir JWE header must not have '{agreementOnly}'.");
            }
        }

        // dir and ECDH-ES have no encrypted key (RFC 7516 §5.1 step 5 / RFC 7518 §4.5, §4.6): the segment must be empty.
        if (segments[1].Length != 0)
            throw new JoseException(JoseError.UnexpectedEncryptedKey, $"A {algorithm.Name()} JWE must have an empty encrypted-key segment.");
        var iv = CompactSerialization.Decode(segments[2], "JWE initialization vector");
        if (iv.Length != Jwe.IvSize)
            throw new JoseException(JoseError.InvalidIv, $"The AES-GCM IV is {Jwe.IvSize} bytes, not {iv.Length}.");
        _ = CompactSerialization.Decode(segments[3], "JWE ciphertext");
        var tag = CompactSerialization.Decode(segments[4], "JWE authentication tag");
        if (tag.Length != Jwe.TagSize)
            throw new JoseException(JoseError.InvalidTag, $"The AES-GCM tag is {Jwe.TagSize} bytes, not {tag.Length}.");
        return new JweCompact(compact, header, algorithm, encryption);
    }

    /// <summary>Decrypts a <c>dir</c> JWE whose <c>enc</c> is <paramref name="encryption"/>; the key must have that enc's length.</summary>
    public byte[] DecryptDirect(ReadOnlySpan<byte> key, JweEncryption encryption = JweEncryption.A256GCM)
    {
        RequireModes(JweAlgorithm.Direct, encryption);
        if (key.Length != encryption.KeySize())
            throw new JoseException(JoseError.InvalidKey, $"A {encryption.Name()} key is {encryption.KeySize()} bytes, not {key.Length}.");
        var cek = key.ToArray();
        try
        {
            return JoseEngine.Decrypt(_compact, cek, JweAlgorithm.Direct, encryption);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cek);
        }
    }

    /// <summary>
    /// Decrypts an <c>ECDH-ES</c> JWE: the <c>epk</c> is validated as a point of the recipient's curve before the
    /// private key touches it (invalid-curve attacks), then Z → Concat KDF (AlgorithmID = enc, apu/apv if present) → AES-GCM.
    /// </summary>
    public byte[] DecryptEcdhEs(IEcPrivateKey recipient, JweEncryption encryption = JweEncryption.A256GCM)
    {
        RequireEcdhEsInput(recipient, encryption);

        // jose-jwt does Z → Concat KDF (AlgorithmID = enc, apu/apv) → AES-GCM; Z comes from the recipient key
        // (possibly in the HSM) through the adapter, after the epk passed our checks above.
        using var agreement = new EcdhKeyAdapter(recipient);
        return JoseEngine.Decrypt(_compact, agreement, JweAlgorithm.EcdhEs, encryption);
    }

    /// <summary>
    /// <see cref="DecryptEcdhEs"/> for a recipient key that agrees asynchronously (an HSM key on a bounded session pool):
    /// the same checks, in the same order, then Z is derived without holding a thread, and jose-jwt does the rest with a
    /// key that answers for exactly this epk (<see cref="PrecomputedAgreementKey"/>). Any other key decrypts as above.
    /// </summary>
    public async Task<byte[]> DecryptEcdhEsAsync(IEcPrivateKey recipient, JweEncryption encryption, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (recipient is not IAsyncEcPrivateKey asyncRecipient)
            return DecryptEcdhEs(recipient, encryption);
        var epk = RequireEcdhEsInput(recipient, encryption);

        var z = await asyncRecipient.DeriveSharedSecretAsync(epk, cancellationToken).ConfigureAwait(false);
        try
        {
            using var agreement = new EcdhKeyAdapter(new PrecomputedAgreementKey(recipient, epk, z));
            return JoseEngine.Decrypt(_compact, agreement, JweAlgorithm.EcdhEs, encryption);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(z);
        }
    }

    /// <summary>Mode, a valid epk on the recipient's curve (before the private key touches it), canonical apu/apv; the epk.</summary>
    private EcPublicKey RequireEcdhEsInput(IEcPrivateKey recipient, JweEncryption encryption)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        RequireModes(JweAlgorithm.EcdhEs, encryption);
        var epk = RequireValidEphemeralKey(recipient.PublicKey.Curve);
        RequireOptionalBase64Url("apu");
        RequireOptionalBase64Url("apv");
        return epk;
    }

    private void RequireModes(JweAlgorithm algorithm, JweEncryption encryption)
    {
        // The caller, not the sender, decides the mode: a dir JWE offered where ECDH-ES is expected is refused.
        if (Algorithm != algorithm)
            throw new JoseException(JoseError.UnsupportedAlgorithm, $"Expected JWE alg {algorithm.Name()}, got {Algorithm.Name()}.");
        if (Encryption != encryption)
            throw new JoseException(JoseError.UnsupportedEncryption, $"Expected JWE enc {encryption.Name()}, got {Encryption.Name()}.");
    }

    private EcPublicKey RequireValidEphemeralKey(Ec.EcCurve curve)
    {
        if (!Header.TryGetMember("epk", out var epk) || epk.ValueKind != JsonValueKind.Object)
            throw new JoseException(JoseError.InvalidEphemeralKey, "The ECDH-ES header has no 'epk' object.");

        // Exactly the public EC JWK members; a 'd' would mean the sender leaked its private key, anything else is noise.
        string? kty = null, crv = null, x = null, y = null;
        var count = 0;
        foreach (var member in epk.EnumerateObject())
        {
            count++;
            if (member.Value.ValueKind != JsonValueKind.String)
                throw new JoseException(JoseError.InvalidEphemeralKey, "Every 'epk' member must be a string.");
            switch (member.Name)
            {
                case "kty": kty = member.Value.GetString(); break;
                case "crv": crv = member.Value.GetString(); break;
                case "x": x = member.Value.GetString(); break;
                case "y": y = member.Value.GetString(); break;
                default:
                    throw new JoseException(JoseError.InvalidEphemeralKey, $"The 'epk' has an unexpected member '{JoseHeader.Printable(member.Name)}'; only kty, crv, x and y are allowed.");
            }
        }
        if (count != 4 || kty is null || crv is null || x is null || y is null)
            throw new JoseException(JoseError.InvalidEphemeralKey, "The 'epk' must have kty, crv, x and y.");
        if (!string.Equals(kty, "EC", StringComparison.Ordinal))
            throw new JoseException(JoseError.InvalidEphemeralKey, "The 'epk' kty must be EC.");
        if (!string.Equals(crv, curve.Name, StringComparison.Ordinal))
            throw new JoseException(JoseError.InvalidEphemeralKey, $"The 'epk' is on curve '{JoseHeader.Printable(crv)}', the recipient key on {curve.Name}.");
        if (!Base64Url.TryDecode(x, out var xBytes) || !Base64Url.TryDecode(y, out var yBytes)
            || xBytes.Length != curve.FieldSize || yBytes.Length != curve.FieldSize)
            throw new JoseException(JoseError.InvalidEphemeralKey, $"The 'epk' coordinates must be {curve.FieldSize}-byte canonical base64url.");
        // The on-curve check (and x, y below the field prime; not infinity) happens here, before any ECDH.
        if (!EcPublicKey.TryFromSec1(curve, [0x04, .. xBytes, .. yBytes], out var point))
            throw new JoseException(JoseError.InvalidEphemeralKey, $"The 'epk' is not a point on {curve.Name}.");
        return point;
    }

    private void RequireOptionalBase64Url(string name)
    {
        var text = Header.GetString(name);
        if (text is not null && !Base64Url.TryDecode(text, out _))
            throw new JoseException(JoseError.InvalidBase64Url, $"The header member '{name}' is not canonical base64url.");
    }
}
