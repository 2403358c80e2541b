using System.Text;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;

namespace R2ps.Protocol.Envelopes;

/// <summary>
/// An R2PS request whose JSON shape is valid but whose signature is not checked yet. <see cref="Payload"/> may be read
/// only to pick the key to verify with (client_id, kid) and for the cheap checks before the signature; nothing in it is
/// trusted before <see cref="ServerEnvelope.VerifySignature"/> succeeds.
/// </summary>
public sealed class UnverifiedRequest
{
    internal UnverifiedRequest(JwsCompact jws, ServiceRequestPayload payload)
    {
        Jws = jws;
        Payload = payload;
    }

    internal JwsCompact Jws { get; }

    public ServiceRequestPayload Payload { get; }

    /// <summary>How <c>data</c> is encrypted, decided by <c>type</c> (PROTOCOL.md 1.3), not by <c>enc</c>.</summary>
    public EncryptionMode Mode => ServiceTypes.ModeOf(Payload.Type, Payload.PakeSessionId is not null);
}

/// <summary>
/// The service side of the R2PS envelope (PROTOCOL.md 1.1–1.3): parse without trusting, verify with the registered
/// device key, decrypt <c>data</c> by mode, and build the signed response or the plain error body. JOSE failures become
/// <see cref="R2psException"/>: structure → ILLEGAL_REQUEST_DATA, signature or decryption under the wrong key → ACCESS_DENIED.
/// </summary>
public static class ServerEnvelope
{
    /// <summary>
    /// Size limit first (UTF-8 bytes), then the compact JWS structure with exactly the header
    /// <c>{"typ":"JOSE","alg":"ES256"}</c>, then the payload's JSON shape and member formats. Everything → ILLEGAL_REQUEST_DATA.
    /// </summary>
    public static UnverifiedRequest Parse(string envelope, int maxEnvelopeBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEnvelopeBytes, 64);
        if (envelope is null || envelope.Length == 0)
            throw new R2psException(ErrorCode.IllegalRequestData, "The request is empty.");
        // Length first: a char is at least one UTF-8 byte, so this rejects huge inputs without scanning them.
        if (envelope.Length > maxEnvelopeBytes || Encoding.UTF8.GetByteCount(envelope) > maxEnvelopeBytes)
            throw new R2psException(ErrorCode.IllegalRequestData, $"The request exceeds {maxEnvelopeBytes} bytes.");

        JwsCompact jws;
        try
        {
            jws = JwsCompact.Parse(envelope, new JoseLimits { MaxCompactLength = maxEnvelopeBytes });
            jws.RequireHeader(Jws.R2psHeaderMembers);
        }
        catch (JoseException ex)
        {
            throw new R2psException(ErrorCode.IllegalRequestData, $"The request is not an R2PS JWS: {ex.Message}", ex);
        }

        var payload = R2psJson.Deserialize<ServiceRequestPayload>(jws.GetUnverifiedPayload(), "request payload");
        CheckShape(payload);
        return new UnverifiedRequest(jws, payload);
    }

    /// <summary>Verifies the request's signature with the registered device key; any failure is ACCESS_DENIED.</summary>
    public static void VerifySignature(UnverifiedRequest request, EcPublicKey deviceKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(deviceKey);
        try
        {
            request.Jws.Verify(deviceKey);
        }
        catch (JoseException ex)
        {
            throw new R2psException(ErrorCode.AccessDenied, "The request signature does not verify.", ex);
        }
    }

    /// <summary>Device mode: <c>data</c> is an ECDH-ES/A256GCM JWE to the server key.</summary>
    public static byte[] DecryptDeviceData(ServiceRequestPayload payload, IEcPrivateKey serverKey)
    {
        ArgumentNullException.ThrowIfNull(serverKey);
        var jwe = ParseDeviceData(payload);
        return Decrypt(() => jwe.DecryptEcdhEs(serverKey));
    }

    /// <summary>The device-mode <c>data</c> JWE, its header held to PROTOCOL.md 1.3.</summary>
    private static JweCompact ParseDeviceData(ServiceRequestPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var jwe = ParseData(payload.Data);
        // PROTOCOL.md 1.3: epk, cty, enc, alg and nothing else — no kid, and no apu/apv (the KDF's PartyU/PartyV are empty).
        foreach (var name in jwe.Header.MemberNames)
        {
            if (!DeviceRequestHeaderMembers.Contains(name))
                throw new R2psException(ErrorCode.IllegalRequestData, $"The request data's JWE header must not carry \"{name}\".");
        }
        return jwe;
    }

    /// <summary>
    /// <see cref="DecryptDeviceData"/> that awaits the server key's ECDH (an HSM key on a busy session pool does not hold a
    /// thread meanwhile): the same header checks and error mapping.
    /// </summary>
    public static async Task<byte[]> DecryptDeviceDataAsync(ServiceRequestPayload payload, IEcPrivateKey serverKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverKey);
        var jwe = ParseDeviceData(payload);
        try
        {
            return await jwe.DecryptEcdhEsAsync(serverKey, JweEncryption.A256GCM, cancellationToken).ConfigureAwait(false);
        }
        catch (JoseException ex)
        {
            throw Map(ex);
        }
    }

    private static readonly HashSet<string> DeviceRequestHeaderMembers = new(StringComparer.Ordinal) { "epk", "cty", "enc", "alg" };

    /// <summary>User mode: <c>data</c> is a dir/A256GCM JWE under the 32-byte session key.</summary>
    public static byte[] DecryptUserData(ServiceRequestPayload payload, ReadOnlySpan<byte> sessionKey)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var jwe = ParseData(payload.Data);
        try
        {
            return jwe.DecryptDirect(sessionKey);
        }
        catch (JoseException ex)
        {
            throw Map(ex);
        }
    }

    /// <summary>A signed response whose <c>data</c> is encrypted with ECDH-ES to the device key.</summary>
    public static string SealDeviceResponse(ServiceRequestPayload request, ReadOnlySpan<byte> plaintext, EcPublicKey deviceKey, IEcPrivateKey serverKey, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(deviceKey);
        var jwe = Jwe.EncryptEcdhEs(plaintext, deviceKey);
        return SignResponse(request, jwe, serverKey, now);
    }

    /// <summary>A signed response whose <c>data</c> is encrypted with dir under the session key.</summary>
    public static string SealUserResponse(ServiceRequestPayload request, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> sessionKey, IEcPrivateKey serverKey, DateTimeOffset now)
    {
        var jwe = Jwe.EncryptDirect(plaintext, sessionKey);
        return SignResponse(request, jwe, serverKey, now);
    }

    /// <summary>
    /// <see cref="SealUserResponse"/> that awaits the server key's signature (<see cref="Jws.SignAsync"/>): with the key in
    /// an HSM whose session pool is busy, the request waits without holding a thread.
    /// </summary>
    public static Task<string> SealUserResponseAsync(ServiceRequestPayload request, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> sessionKey,
        IEcPrivateKey serverKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var jwe = Jwe.EncryptDirect(plaintext, sessionKey);
        return SignResponseAsync(request, jwe, serverKey, now, cancellationToken);
    }

    /// <summary><see cref="SealDeviceResponse"/> that awaits the server key's signature, as <see cref="SealUserResponseAsync"/>.</summary>
    public static Task<string> SealDeviceResponseAsync(ServiceRequestPayload request, ReadOnlySpan<byte> plaintext, EcPublicKey deviceKey,
        IEcPrivateKey serverKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deviceKey);
        var jwe = Jwe.EncryptEcdhEs(plaintext, deviceKey);
        return SignResponseAsync(request, jwe, serverKey, now, cancellationToken);
    }

    /// <summary>The unsigned error body of PROTOCOL.md 1.2.</summary>
    public static string ErrorBody(ErrorCode code, string message) =>
        Encoding.UTF8.GetString(EnvelopeJson.Serialize(new ErrorBody(code.ToWire(), message)));

    private static string SignResponse(ServiceRequestPayload request, string compactJwe, IEcPrivateKey serverKey, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(serverKey);
        return Jws.Sign(ResponsePayload(request, compactJwe, now), serverKey, Jws.R2psHeaderJson);
    }

    private static Task<string> SignResponseAsync(ServiceRequestPayload request, string compactJwe, IEcPrivateKey serverKey, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(serverKey);
        return Jws.SignAsync(ResponsePayload(request, compactJwe, now), serverKey, Jws.R2psHeaderJson, cancellationToken);
    }

    /// <summary>The response's JWS payload (PROTOCOL.md 1.2): the request's nonce and enc, the time, the wrapped JWE.</summary>
    private static byte[] ResponsePayload(ServiceRequestPayload request, string compactJwe, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        return EnvelopeJson.Serialize(new ServiceResponsePayload(ProtocolConstants.Version, request.Nonce, now.ToUnixTimeSeconds(), request.Enc,
            EnvelopeData.Wrap(compactJwe)));
    }

    private static void CheckShape(ServiceRequestPayload p)
    {
        if (!EnvelopeRules.IsNonce(p.Nonce))
            throw new R2psException(ErrorCode.IllegalRequestData, $"nonce must be {EnvelopeRules.MinNonceLength}–{EnvelopeRules.MaxNonceLength} hex or base64url characters.");
        if (p.Enc is not (ProtocolConstants.EncDevice or ProtocolConstants.EncUser))
            throw new R2psException(ErrorCode.IllegalRequestData, "enc must be \"device\" or \"user\".");
        if (!EnvelopeRules.IsIdentifier(p.ClientId)) throw Bad("client_id");
        if (!EnvelopeRules.IsIdentifier(p.Kid)) throw Bad("kid");
        if (!EnvelopeRules.IsIdentifier(p.Context)) throw Bad("context");
        if (!EnvelopeRules.IsIdentifier(p.Type)) throw Bad("type");
        if (p.Data.Length == 0) throw Bad("data");
        if (p.PakeSessionId is not null && !EnvelopeRules.IsPakeSessionId(p.PakeSessionId))
            throw new R2psException(ErrorCode.IllegalRequestData, "pake_session_id must be 64 lowercase hex characters.");
    }

    private static R2psException Bad(string member) =>
        new(ErrorCode.IllegalRequestData, $"{member} must be 1–{EnvelopeRules.MaxIdentifierLength} printable ASCII characters.");

    private static JweCompact ParseData(string data)
    {
        var compact = EnvelopeData.Unwrap(data);
        try
        {
            return JweCompact.Parse(compact);
        }
        catch (JoseException ex)
        {
            throw new R2psException(ErrorCode.IllegalRequestData, $"The request data is not a usable JWE: {ex.Message}", ex);
        }
    }

    private static byte[] Decrypt(Func<byte[]> decrypt)
    {
        try
        {
            return decrypt();
        }
        catch (JoseException ex)
        {
            throw Map(ex);
        }
    }

    // A tag that does not verify means the data was not made with a key this client shares with us: an access
    // failure, not a formatting one. Everything else (wrong alg, bad epk, …) is malformed input.
    private static R2psException Map(JoseException ex) => ex.Reason == JoseError.DecryptionFailed
        ? new R2psException(ErrorCode.AccessDenied, "The request data does not decrypt.", ex)
        : new R2psException(ErrorCode.IllegalRequestData, $"The request data is not a usable JWE: {ex.Message}", ex);
}
