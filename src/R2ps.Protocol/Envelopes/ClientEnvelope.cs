using System.Security.Cryptography;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;

namespace R2ps.Protocol.Envelopes;

/// <summary>The addressing members of a request the client builds (PROTOCOL.md 1.1).</summary>
/// <param name="ClientId">The wallet instance.</param>
/// <param name="Kid">The device key id.</param>
/// <param name="Context">The service context, e.g. <c>hsm</c>.</param>
/// <param name="Type">The service type (1.4).</param>
/// <param name="PakeSessionId">The session the request belongs to, if any.</param>
public sealed record ClientRequest(string ClientId, string Kid, string Context, string Type, string? PakeSessionId = null);

/// <summary>A built request and what its response must echo.</summary>
/// <param name="Jws">The compact JWS to send.</param>
/// <param name="Nonce">The request nonce the response must echo.</param>
/// <param name="Enc">The request <c>enc</c> the response must echo.</param>
/// <param name="Mode">How the response's data is encrypted.</param>
public sealed record SealedClientRequest(string Jws, string Nonce, string Enc, EncryptionMode Mode);

/// <summary>How strictly the client checks a response's <c>iat</c> (PROTOCOL.md 1.2: 30 s past, 5 s future).</summary>
public sealed record ClientEnvelopeOptions
{
    public static ClientEnvelopeOptions Default { get; } = new();

    public TimeSpan MaxResponseAge { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxResponseFutureSkew { get; init; } = TimeSpan.FromSeconds(5);

    public int MaxResponseBytes { get; init; } = 1024 * 1024;
}

/// <summary>A response that fails the client's checks (signature, nonce echo, iat, decryption, shape).</summary>
public sealed class ClientEnvelopeException : Exception
{
    public ClientEnvelopeException()
    {
    }

    public ClientEnvelopeException(string message) : base(message)
    {
    }

    public ClientEnvelopeException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// The wallet side of the R2PS envelope, built as the Java reference client builds it: payload members in the order
/// ver, nonce, iat, enc, data, client_id, kid, context, type, pake_session_id; nonce = 64 lowercase hex of 32 random
/// bytes; header <c>{"typ":"JOSE","alg":"ES256"}</c>.
/// </summary>
public static class ClientEnvelope
{
    /// <summary>64 lowercase hex characters of 32 bytes from the system CSPRNG.</summary>
    public static string NewNonce() => Hex.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>A device-mode request: <c>data</c> encrypted with ECDH-ES to the server key.</summary>
    public static SealedClientRequest BuildDeviceRequest(ClientRequest request, ReadOnlySpan<byte> plaintext, IEcPrivateKey deviceKey, EcPublicKey serverKey, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(serverKey);
        return Sign(request, Jwe.EncryptEcdhEs(plaintext, serverKey), ProtocolConstants.EncDevice, EncryptionMode.Device, deviceKey, now);
    }

    /// <summary>A user-mode request: <c>data</c> encrypted with dir under the session key.</summary>
    public static SealedClientRequest BuildUserRequest(ClientRequest request, ReadOnlySpan<byte> plaintext, IEcPrivateKey deviceKey, ReadOnlySpan<byte> sessionKey, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.PakeSessionId is null) throw new ArgumentException("A user-mode request names its session.", nameof(request));
        return Sign(request, Jwe.EncryptDirect(plaintext, sessionKey), ProtocolConstants.EncUser, EncryptionMode.User, deviceKey, now);
    }

    /// <summary>Checks a device-mode response and returns its decrypted data.</summary>
    public static byte[] OpenDeviceResponse(string responseJws, SealedClientRequest sent, EcPublicKey serverKey, IEcPrivateKey deviceKey, DateTimeOffset now, ClientEnvelopeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(deviceKey);
        var jwe = OpenCommon(responseJws, sent, EncryptionMode.Device, serverKey, now, options ?? ClientEnvelopeOptions.Default);
        return Decrypt(() => jwe.DecryptEcdhEs(deviceKey));
    }

    /// <summary>Checks a user-mode response and returns its decrypted data.</summary>
    public static byte[] OpenUserResponse(string responseJws, SealedClientRequest sent, EcPublicKey serverKey, ReadOnlySpan<byte> sessionKey, DateTimeOffset now, ClientEnvelopeOptions? options = null)
    {
        var jwe = OpenCommon(responseJws, sent, EncryptionMode.User, serverKey, now, options ?? ClientEnvelopeOptions.Default);
        try
        {
            return jwe.DecryptDirect(sessionKey);
        }
        catch (JoseException ex)
        {
            throw new ClientEnvelopeException($"The response data does not decrypt: {ex.Message}", ex);
        }
    }

    private static SealedClientRequest Sign(ClientRequest request, string compactJwe, string enc, EncryptionMode mode, IEcPrivateKey deviceKey, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(deviceKey);
        var nonce = NewNonce();
        var payload = new ServiceRequestPayload(
            ProtocolConstants.Version, nonce, now.ToUnixTimeSeconds(), enc, EnvelopeData.Wrap(compactJwe),
            request.ClientId, request.Kid, request.Context, request.Type, request.PakeSessionId);
        var jws = Jws.Sign(EnvelopeJson.Serialize(payload), deviceKey, Jws.R2psHeaderJson);
        return new SealedClientRequest(jws, nonce, enc, mode);
    }

    /// <summary>
    /// Every check of a response short of decrypting it (server signature, ver, nonce and enc echo, iat window): the
    /// response's JWE, for callers that hold the key elsewhere.
    /// </summary>
    public static JweCompact ReadResponse(string responseJws, SealedClientRequest sent, EcPublicKey serverKey, DateTimeOffset now, ClientEnvelopeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sent);
        return OpenCommon(responseJws, sent, sent.Mode, serverKey, now, options ?? ClientEnvelopeOptions.Default);
    }

    private static JweCompact OpenCommon(string responseJws, SealedClientRequest sent, EncryptionMode expectedMode, EcPublicKey serverKey, DateTimeOffset now, ClientEnvelopeOptions options)
    {
        ArgumentNullException.ThrowIfNull(sent);
        ArgumentNullException.ThrowIfNull(serverKey);
        if (sent.Mode != expectedMode) throw new ArgumentException($"The request was sent in {sent.Mode} mode.", nameof(sent));
        if (string.IsNullOrEmpty(responseJws) || responseJws.Length > options.MaxResponseBytes)
            throw new ClientEnvelopeException("The response is empty or too large.");

        byte[] payloadBytes;
        try
        {
            payloadBytes = Jws.Verify(responseJws, serverKey, JwsVerificationOptions.R2ps with { Limits = new JoseLimits { MaxCompactLength = options.MaxResponseBytes } });
        }
        catch (JoseException ex)
        {
            throw new ClientEnvelopeException($"The response is not signed by the server key: {ex.Message}", ex);
        }

        ServiceResponsePayload payload;
        try
        {
            payload = R2psJson.Deserialize<ServiceResponsePayload>(payloadBytes, "response payload");
        }
        catch (R2psException ex)
        {
            throw new ClientEnvelopeException(ex.Message, ex);
        }
        if (!string.Equals(payload.Ver, ProtocolConstants.Version, StringComparison.Ordinal))
            throw new ClientEnvelopeException("The response has an unknown ver.");
        // Nonces are not secret; the echo binds the response to this request (no replay of an older response).
        if (!string.Equals(payload.Nonce, sent.Nonce, StringComparison.Ordinal))
            throw new ClientEnvelopeException("The response does not echo the request nonce.");
        if (!string.Equals(payload.Enc, sent.Enc, StringComparison.Ordinal))
            throw new ClientEnvelopeException("The response does not echo the request enc.");
        var nowSeconds = now.ToUnixTimeSeconds();
        if (payload.Iat < nowSeconds - (long)options.MaxResponseAge.TotalSeconds || payload.Iat > nowSeconds + (long)options.MaxResponseFutureSkew.TotalSeconds)
            throw new ClientEnvelopeException("The response iat is outside the accepted window.");

        try
        {
            return JweCompact.Parse(EnvelopeData.Unwrap(payload.Data));
        }
        catch (Exception ex) when (ex is JoseException or R2psException)
        {
            throw new ClientEnvelopeException($"The response data is not a usable JWE: {ex.Message}", ex);
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
            throw new ClientEnvelopeException($"The response data does not decrypt: {ex.Message}", ex);
        }
    }
}
