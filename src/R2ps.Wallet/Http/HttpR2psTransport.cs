using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Hpke;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.DeviceSessions;
using R2ps.Protocol.Envelopes;

namespace R2ps.Wallet.Http;

/// <summary>Settings of <see cref="HttpR2psTransport"/>.</summary>
public sealed record HttpR2psTransportOptions
{
    /// <summary>The defaults.</summary>
    public static HttpR2psTransportOptions Default { get; } = new();

    /// <summary>Clock for the establishment <c>iat</c> and the session's expiry.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>A device session is renewed this long before the BFF would expire it (clock skew, time in flight).</summary>
    public TimeSpan RenewBeforeExpiry { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Largest answer read from the BFF.</summary>
    public int MaxResponseBytes { get; init; } = 1024 * 1024;
}

/// <summary>
/// The wallet's transport over the BFF (PROTOCOL.md 2.1–2.2): establishes the device session itself (HPKE mode_auth with
/// the device key to the pinned BFF key, then checks the confirmation), wraps each envelope in the session's JWE, unwraps
/// the reply, and passes R2PS errors through as they came. A session near its expiry is renewed before use, and one the
/// BFF refuses as unknown or expired (401 with the device-session challenge) is re-established once and the envelope
/// sent again — safe, because the BFF forwarded nothing, so the envelope's nonce is still unused.
/// </summary>
public sealed class HttpR2psTransport : IR2psTransport, IDisposable
{
    const string DeviceSessionScheme = "R2PS-DeviceSession";

    readonly HttpClient _http;
    readonly R2psDevice _device;
    readonly EcPublicKey _bffKey;
    readonly HttpR2psTransportOptions _options;
    readonly SemaphoreSlim _establishing = new(1, 1);
    EstablishedSession? _session;

    /// <summary>A transport on <paramref name="http"/> (its <c>BaseAddress</c> is the BFF) for <paramref name="device"/>.</summary>
    public HttpR2psTransport(HttpClient http, R2psDevice device, EcPublicKey bffKey, HttpR2psTransportOptions? options = null)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _device = device ?? throw new ArgumentNullException(nameof(device));
        _bffKey = bffKey ?? throw new ArgumentNullException(nameof(bffKey));
        _options = options ?? HttpR2psTransportOptions.Default;
    }

    /// <summary>The current device session's id, or null before the first call (for diagnostics and tests).</summary>
    public string? SessionId => _session?.SessionId;

    /// <summary>How many device sessions this transport has established.</summary>
    public int SessionsEstablished { get; private set; }

    /// <summary>Reads <c>GET /r2ps/v1/keys</c>: the BFF key and the server key of every context, validated.</summary>
    public static async Task<BffPublicKeys> GetKeysAsync(HttpClient http, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var response = await http.GetAsync(new Uri("r2ps/v1/keys", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        var body = await HttpReplies.ReadBodyAsync(response, 64 * 1024, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
            throw HttpReplies.ToException((int)response.StatusCode, body);
        try
        {
            var keys = R2psJson.Deserialize<ServiceKeys>(body, "keys");
            return new BffPublicKeys(
                ParseKey(keys.BffKey),
                keys.ServerKeys.ToDictionary(k => k.Key, k => ParseKey(k.Value), StringComparer.Ordinal));
        }
        catch (Exception e) when (e is R2psException or CryptographicException)
        {
            throw new R2psClientException("The BFF's keys are not valid.", e);
        }

        static EcPublicKey ParseKey(string base64) =>
            Base64Std.TryDecode(base64, out var spki) && EcPublicKey.TryFromSpki(spki, out var key)
                ? key
                : throw new CryptographicException("Not a base64 SPKI DER EC public key.");
    }

    /// <inheritdoc />
    public async Task<TransportReply> SendAsync(string requestJws, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requestJws);
        for (var attempt = 0; ; attempt++)
        {
            var session = await CurrentSessionAsync(cancellationToken).ConfigureAwait(false);
            var wrapped = Jwe.EncryptDirect(Encoding.ASCII.GetBytes(requestJws), session.Key, ("kid", session.SessionId), ("cty", "JOSE"));
            using var content = new StringContent(wrapped, Encoding.ASCII);
            content.Headers.ContentType = HttpReplies.Jose;
            using var response = await _http.PostAsync(new Uri("r2ps/v1/service", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
            var body = await HttpReplies.ReadBodyAsync(response, _options.MaxResponseBytes, cancellationToken).ConfigureAwait(false);

            if (response.StatusCode == HttpStatusCode.OK)
                return new TransportReply(200, Unwrap(session, body));
            if (response.StatusCode == HttpStatusCode.Unauthorized && IsDeviceSessionChallenge(response) && attempt == 0)
            {
                Forget(session);
                continue;
            }

            return new TransportReply((int)response.StatusCode, body);
        }
    }

    /// <summary>Establishes a new device session now (also done on first use).</summary>
    public async Task EstablishAsync(CancellationToken cancellationToken = default)
    {
        await _establishing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var fresh = await EstablishCoreAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _session, fresh)?.Dispose();
        }
        finally
        {
            _establishing.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Interlocked.Exchange(ref _session, null)?.Dispose();
        _establishing.Dispose();
    }

    async Task<EstablishedSession> CurrentSessionAsync(CancellationToken cancellationToken)
    {
        var now = _options.Time.GetUtcNow();
        if (_session is { } live && live.RenewAt > now)
            return live;
        await _establishing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_session is { } other && other.RenewAt > now)
                return other;
            var fresh = await EstablishCoreAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _session, fresh)?.Dispose();
            return fresh;
        }
        finally
        {
            _establishing.Release();
        }
    }

    void Forget(EstablishedSession session)
    {
        // Only if no other call replaced it meanwhile. It is not disposed here: a concurrent call may still use its key.
        Interlocked.CompareExchange(ref _session, null, session);
    }

    async Task<EstablishedSession> EstablishCoreAsync(CancellationToken cancellationToken)
    {
        var now = _options.Time.GetUtcNow();
        var nonce = ClientEnvelope.NewNonce();
        var hello = R2psJson.Serialize(new DeviceSessionHello(_device.ClientId, _device.Kid, now.ToUnixTimeSeconds(), nonce));
        using var sealedHello = DeviceSessionHpke.Seal(_bffKey, _device.Key, hello);
        var request = new DeviceSessionRequest(_device.ClientId, _device.Kid, Base64Url.Encode(sealedHello.Enc), Base64Url.Encode(sealedHello.Ciphertext));
        using var content = new ByteArrayContent(R2psJson.Serialize(request));
        content.Headers.ContentType = HttpReplies.Json;
        using var response = await _http.PostAsync(new Uri("r2ps/v1/device-sessions", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        var body = await HttpReplies.ReadBodyAsync(response, 64 * 1024, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
            throw HttpReplies.ToException((int)response.StatusCode, body);

        DeviceSessionCreated created;
        try
        {
            created = R2psJson.Deserialize<DeviceSessionCreated>(body, "device session");
        }
        catch (R2psException e)
        {
            throw new R2psClientException("The BFF's device-session answer is malformed.", e);
        }

        if (!Hex.IsLowerHex(created.SessionId, 32) || created.ExpiresIn <= 0)
            throw new R2psClientException("The BFF's device-session answer is malformed.");
        var key = sealedHello.SessionKey.ToArray();
        try
        {
            VerifyConfirmation(created, nonce, key);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(key);
            throw;
        }

        SessionsEstablished++;
        var renewAt = now + TimeSpan.FromSeconds(created.ExpiresIn) - _options.RenewBeforeExpiry;
        return new EstablishedSession(created.SessionId, key, renewAt);
    }

    // PROTOCOL.md 2.1: {"alg":"dir","enc":"A256GCM","kid":session_id} over {"session_id","nonce"} — only the holder of the
    // BFF key could have derived the device-session key, so this proves we talk to the pinned BFF.
    static void VerifyConfirmation(DeviceSessionCreated created, string nonce, byte[] key)
    {
        try
        {
            var jwe = JweCompact.Parse(created.Confirmation);
            var expected = new Dictionary<string, string>(StringComparer.Ordinal) { ["alg"] = "dir", ["enc"] = "A256GCM", ["kid"] = created.SessionId };
            if (!jwe.Header.HasExactly(expected))
                throw new R2psClientException("The device-session confirmation has an unexpected header.");
            var confirmation = R2psJson.Deserialize<DeviceSessionConfirmation>(jwe.DecryptDirect(key), "confirmation");
            if (!string.Equals(confirmation.SessionId, created.SessionId, StringComparison.Ordinal)
                || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(confirmation.Nonce), Encoding.ASCII.GetBytes(nonce)))
                throw new R2psClientException("The device-session confirmation does not match the request.");
        }
        catch (Exception e) when (e is JoseException or R2psException)
        {
            throw new R2psClientException("The device-session confirmation does not verify: not the pinned BFF.", e);
        }
    }

    static string Unwrap(EstablishedSession session, string body)
    {
        try
        {
            var jwe = JweCompact.Parse(body, new JoseLimits { MaxCompactLength = Math.Max(JoseLimits.DefaultMaxCompactLength, body.Length) });
            var expected = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["alg"] = "dir", ["enc"] = "A256GCM", ["kid"] = session.SessionId, ["cty"] = "JOSE",
            };
            if (!jwe.Header.HasExactly(expected))
                throw new R2psClientException("The BFF's answer has an unexpected JWE header.");
            return Encoding.ASCII.GetString(jwe.DecryptDirect(session.Key));
        }
        catch (JoseException e)
        {
            throw new R2psClientException("The BFF's answer does not open under the device-session key.", e);
        }
    }

    static bool IsDeviceSessionChallenge(HttpResponseMessage response) =>
        response.Headers.WwwAuthenticate.Any(h => string.Equals(h.Scheme, DeviceSessionScheme, StringComparison.OrdinalIgnoreCase));

    sealed class EstablishedSession(string sessionId, byte[] key, DateTimeOffset renewAt) : IDisposable
    {
        public string SessionId { get; } = sessionId;

        public byte[] Key { get; } = key;

        public DateTimeOffset RenewAt { get; } = renewAt;

        public void Dispose() => CryptographicOperations.ZeroMemory(Key);
    }
}

/// <summary>The keys a wallet pins (PROTOCOL.md 2): the BFF key and one server key per context.</summary>
/// <param name="BffKey">The BFF's P-256 key.</param>
/// <param name="ServerKeys">Server key per context.</param>
public sealed record BffPublicKeys(EcPublicKey BffKey, IReadOnlyDictionary<string, EcPublicKey> ServerKeys);
