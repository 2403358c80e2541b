using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using R2ps.Bff.Broker;
using R2ps.Bff.Endpoints;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Hpke;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.DeviceSessions;
using R2ps.Protocol.Envelopes;

namespace R2ps.Bff.Sessions;

/// <summary>
/// PROTOCOL.md 2.1 and 2.2 on the BFF's side: establish a device session (HPKE mode_auth open with the BFF key, the
/// sender authenticated as the registered device key), and open / seal the JWE that wraps each envelope.
/// Failures are <see cref="R2psException"/>s with the codes 2.1 gives.
/// </summary>
public sealed class DeviceSessionService(
    BffKeys keys, ServiceDirectory directory, DeviceSessionStore store, TimeProvider time, IOptions<BffOptions> options, BffRateLimits limits)
{
    /// <summary>The <c>cty</c> of the wrapping JWE (PROTOCOL.md 2.2).</summary>
    public const string WrappedContentType = "JOSE";

    /// <summary>The 65-byte uncompressed P-256 point of <c>enc</c>.</summary>
    const int EncLength = 65;

    /// <summary>Sealed <c>{"client_id","kid","iat","nonce"}</c> is small; this bounds the HPKE work on junk.</summary>
    const int MaxCiphertextLength = 2048;

    /// <summary>Establishes a device session from the request body; the 201 body.</summary>
    public async Task<DeviceSessionCreated> EstablishAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var request = R2psJson.Deserialize<DeviceSessionRequest>(body.Span, "device-session request");
        if (!EnvelopeRules.IsIdentifier(request.ClientId) || !EnvelopeRules.IsIdentifier(request.Kid))
            throw new R2psException(ErrorCode.IllegalRequestData, "client_id and kid must be 1–256 printable ASCII characters without spaces.");
        if (!Base64Url.TryDecode(request.Enc, out var enc) || enc.Length != EncLength || enc[0] != 0x04)
            throw new R2psException(ErrorCode.IllegalRequestData, "enc must be base64url of a 65-byte uncompressed P-256 point.");
        if (!Base64Url.TryDecode(request.Ct, out var ciphertext) || ciphertext.Length is < 16 or > MaxCiphertextLength)
            throw new R2psException(ErrorCode.IllegalRequestData, $"ct must be base64url of 16–{MaxCiphertextLength} bytes.");

        // Limited per client_id once the body's shape is checked (cheap), before the device-key lookup (a broker round
        // trip) and the HPKE open (two ECDH operations).
        limits.AcquireForClient(request.ClientId);
        var registration = await directory.FindDeviceKeyAsync(request.ClientId, request.Kid, cancellationToken).ConfigureAwait(false)
            ?? throw new R2psException(ErrorCode.Unauthorized, "The device could not be authenticated.");
        if (!EcPublicKey.TryFromSpki(registration.PublicKeySpki, out var deviceKey))
            throw new R2psException(ErrorCode.ServerError, "The registered device key is unusable.");

        DeviceSessionOpened opened;
        try
        {
            opened = DeviceSessionHpke.Open(enc, ciphertext, keys.Key, deviceKey);
        }
        catch (HpkeException e) when (e.Error == HpkeError.InvalidEncapsulatedKey)
        {
            throw new R2psException(ErrorCode.IllegalRequestData, "enc is not a valid P-256 point.", e);
        }
        catch (HpkeException e) when (e.Error == HpkeError.OpenFailed)
        {
            throw new R2psException(ErrorCode.Unauthorized, "The device could not be authenticated.", e);
        }

        using (opened)
        {
            // Authenticated from here on: the ciphertext opened under the registered device key.
            var hello = R2psJson.Deserialize<DeviceSessionHello>(opened.Plaintext, "device-session hello");
            if (!string.Equals(hello.ClientId, request.ClientId, StringComparison.Ordinal) || !string.Equals(hello.Kid, request.Kid, StringComparison.Ordinal))
                throw new R2psException(ErrorCode.Unauthorized, "The device could not be authenticated.");
            if (!EnvelopeRules.IsNonce(hello.Nonce))
                throw new R2psException(ErrorCode.IllegalRequestData, "nonce must be 32–128 characters of [0-9A-Za-z_-].");

            var settings = options.Value;
            var now = time.GetUtcNow();
            var iat = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(hello.Iat, 0, 253402300799));
            if (iat < now - settings.IatPastWindow || iat > now + settings.IatFutureWindow)
                throw new R2psException(ErrorCode.AccessDenied, "iat is outside the accepted window.");
            if (!await store.TryRecordNonceAsync(request.ClientId, hello.Nonce, now + settings.IatPastWindow + settings.IatFutureWindow, cancellationToken)
                    .ConfigureAwait(false))
                throw new R2psException(ErrorCode.AccessDenied, "The nonce was used before.");

            var sessionKey = opened.SessionKey.ToArray();
            try
            {
                var (sessionId, expiresAt) = await store.CreateAsync(request.ClientId, request.Kid, sessionKey, cancellationToken).ConfigureAwait(false);
                var confirmation = Jwe.EncryptDirect(R2psJson.Serialize(new DeviceSessionConfirmation(sessionId, hello.Nonce)), sessionKey, ("kid", sessionId));
                var expiresIn = (long)Math.Floor((expiresAt - now).TotalSeconds);
                return new DeviceSessionCreated(sessionId, expiresIn, confirmation);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(sessionKey);
            }
        }
    }

    /// <summary>
    /// Opens the wrapping JWE of PROTOCOL.md 2.2: structure and exact header (400), a live session (401 with
    /// <see cref="DeviceSessionRejectedException"/>), decryption under its key (401), the inner envelope's shape (400) and
    /// its binding to the session's <c>client_id</c>/<c>kid</c> (403 ACCESS_DENIED — 2.2 names no code for it).
    /// The caller owns (and disposes) the returned session.
    /// </summary>
    public async Task<(DeviceSession Session, string Envelope, string Context)> OpenCallAsync(string body, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        JweCompact jwe;
        string? sessionId;
        try
        {
            jwe = JweCompact.Parse(body, new JoseLimits { MaxCompactLength = settings.MaxBodyBytes });
            // Inside the same catch: a kid that is not a JSON string is malformed input (400), not a fault.
            sessionId = jwe.Header.GetString("kid");
        }
        catch (JoseException e)
        {
            throw new R2psException(ErrorCode.IllegalRequestData, $"The body is not a device-session JWE: {e.Message}", e);
        }

        if (sessionId is null || !jwe.Header.HasExactly(WrapHeader(sessionId)))
            throw new R2psException(ErrorCode.IllegalRequestData, "The JWE header must be exactly {\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":session_id,\"cty\":\"JOSE\"}.");

        var session = await store.FindAsync(sessionId, cancellationToken).ConfigureAwait(false)
            ?? throw new DeviceSessionRejectedException();
        try
        {
            byte[] plaintext;
            try
            {
                plaintext = jwe.DecryptDirect(session.Key);
            }
            catch (JoseException e)
            {
                throw new R2psException(ErrorCode.Unauthorized, "The request does not open under the device-session key.", e);
            }

            string envelope;
            try
            {
                envelope = new UTF8Encoding(false, true).GetString(plaintext);
            }
            catch (DecoderFallbackException e)
            {
                throw new R2psException(ErrorCode.IllegalRequestData, "The wrapped envelope is not text.", e);
            }

            // Unverified on purpose: the worker verifies the signature; here only the binding to the session is checked.
            var payload = ServerEnvelope.Parse(envelope, settings.MaxEnvelopeBytes).Payload;
            if (!string.Equals(payload.ClientId, session.ClientId, StringComparison.Ordinal) || !string.Equals(payload.Kid, session.Kid, StringComparison.Ordinal))
                throw new R2psException(ErrorCode.AccessDenied, "The envelope belongs to another client than the device session.");
            return (session, envelope, payload.Context);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Wraps an R2PS response JWS for the wallet (PROTOCOL.md 2.2).</summary>
    public static string WrapResponse(DeviceSession session, string responseJws)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(responseJws);
        return Jwe.EncryptDirect(Encoding.ASCII.GetBytes(responseJws), session.Key, ("kid", session.SessionId), ("cty", WrappedContentType));
    }

    static Dictionary<string, string> WrapHeader(string sessionId) => new(StringComparer.Ordinal)
    {
        ["alg"] = "dir",
        ["enc"] = "A256GCM",
        ["kid"] = sessionId,
        ["cty"] = WrappedContentType,
    };
}

/// <summary>Unknown or expired device session (PROTOCOL.md 2.2: 401 UNAUTHORIZED); the wallet should establish a new one.</summary>
public sealed class DeviceSessionRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DeviceSessionRejectedException() : base("The device session is unknown or expired.") { }

    /// <summary>Creates the exception with a message.</summary>
    public DeviceSessionRejectedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public DeviceSessionRejectedException(string message, Exception innerException) : base(message, innerException) { }
}
