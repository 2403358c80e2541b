using System.Security.Cryptography;
using System.Text;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Crypto.Opaque;
using R2ps.Crypto.Pin;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;

namespace R2ps.Wallet;

/// <summary>
/// The R2PS wallet client for one device and one context. PINs are hardened with the device key before OPAQUE
/// (PROTOCOL.md 3), so the service never sees anything it could test a PIN guess against offline. Every response is
/// checked (server signature, nonce echo, iat window) before it is decrypted. Service refusals surface as
/// <see cref="R2psClientException"/>, responses that fail the checks as <see cref="ClientEnvelopeException"/>.
/// </summary>
public sealed class R2psWallet
{
    private readonly R2psDevice _device;
    private readonly EcPublicKey _serverKey;
    private readonly IR2psTransport _transport;
    private readonly byte[] _serverIdentity;
    private readonly byte[] _clientIdentity;
    private readonly OpaqueClient _opaque;

    /// <param name="device">The device (not owned).</param>
    /// <param name="serverKey">The pinned server key of the context.</param>
    /// <param name="transport">How requests reach the service.</param>
    /// <param name="options">Context, OPAQUE identities, clock.</param>
    public R2psWallet(R2psDevice device, EcPublicKey serverKey, IR2psTransport transport, R2psWalletOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(serverKey);
        ArgumentNullException.ThrowIfNull(transport);
        _device = device;
        _serverKey = serverKey;
        _transport = transport;
        Options = options ?? R2psWalletOptions.Default;
        _serverIdentity = Encoding.UTF8.GetBytes(Options.ServerIdentity);
        _clientIdentity = Encoding.UTF8.GetBytes(device.ClientId);
        _opaque = new OpaqueClient(new OpaqueOptions { Context = Encoding.UTF8.GetBytes(Options.OpaqueContext) });
        VaultVersions = Options.VaultVersions ?? new InMemoryVaultVersions();
    }

    /// <summary>The last vault version seen per secret id, shared by every session of this wallet.</summary>
    public IVaultVersionMemory VaultVersions { get; }

    public R2psWalletOptions Options { get; }

    public R2psDevice Device => _device;

    /// <summary><c>pin_registration</c> evaluate + finalize with the one-time code from the administrator.</summary>
    public async Task RegisterPinAsync(string pin, string registrationCode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registrationCode);
        await RegisterRecordAsync(pin, registrationCode, (type, pake, ct) => SendDeviceJsonAsync(type, pake, null, ct), ServiceTypes.PinRegistration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>authenticate</c> evaluate + finalize. A wrong PIN is reported to the service (a finalize that cannot verify),
    /// which answers UNAUTHORIZED and counts it. Returns the active session; dispose it to zero the session key.
    /// </summary>
    public async Task<SignSession> LoginAsync(string pin, string? task = null, TimeSpan? duration = null, CancellationToken cancellationToken = default)
    {
        var password = PinHardening.HardenPin(_device.Key, pin);
        try
        {
            using var state = _opaque.GenerateKE1(password);
            var evaluated = await SendDeviceJsonAsync(ServiceTypes.Authenticate,
                new PakeRequest(PakeRequest.Opaque, PakeRequest.Evaluate, Base64Std.Encode(state.Ke1)), null, cancellationToken).ConfigureAwait(false);
            var reply = ReadPakeResponse(evaluated);
            if (reply.PakeSessionId is null || !EnvelopeRules.IsPakeSessionId(reply.PakeSessionId) || reply.Resp is null || !Base64Std.TryDecode(reply.Resp, out var ke2))
                throw new ClientEnvelopeException("The authenticate evaluate response lacks a session id or KE2.");

            ClientLoginResult? result = null;
            try
            {
                result = _opaque.GenerateKE3(state, ke2, _serverIdentity, _clientIdentity);
            }
            catch (OpaqueException ex) when (ex.Reason is OpaqueError.EnvelopeRecoveryFailed or OpaqueError.ServerAuthenticationFailed)
            {
                // Wrong PIN (or a KE2 that does not verify): finish the login with a KE3 that cannot verify, so the
                // service ends the pending login now and gives its verdict.
            }

            using (result)
            {
                var ke3 = result?.Ke3 ?? RandomNumberGenerator.GetBytes(OpaqueSizes.Ke3);
                var finalized = await SendDeviceJsonAsync(ServiceTypes.Authenticate,
                    new PakeRequest(PakeRequest.Opaque, PakeRequest.Finalize, Base64Std.Encode(ke3), Task: task,
                        SessionDuration: duration is { } d ? (long)Math.Ceiling(d.TotalSeconds) : null),
                    reply.PakeSessionId, cancellationToken).ConfigureAwait(false);
                if (result is null)
                    throw new R2psClientException(ErrorCode.Unauthorized, 401, "Login failed.");
                var done = ReadPakeResponse(finalized);
                if (!string.Equals(done.PakeSessionId, reply.PakeSessionId, StringComparison.Ordinal) || done.SessionExpirationTime is not { } expiry)
                    throw new ClientEnvelopeException("The authenticate finalize response does not confirm the session.");
                var vaultKey = SecretVault.DeriveVaultKey(result.ExportKey);
                try
                {
                    return new SignSession(this, reply.PakeSessionId, result.SessionKey, DateTimeOffset.FromUnixTimeSeconds(expiry), done.Task, vaultKey);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(vaultKey);
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    /// <summary>
    /// Picks up a session this wallet logged into earlier — in another process, from state it kept (a CLI between
    /// commands) — by its id, 32-byte session key and expiry. The key is copied; nothing is sent.
    /// </summary>
    public SignSession ResumeSession(string pakeSessionId, ReadOnlySpan<byte> sessionKey, DateTimeOffset expiresAt)
    {
        if (pakeSessionId is null || !EnvelopeRules.IsPakeSessionId(pakeSessionId))
            throw new ArgumentException("Not a PAKE session id.", nameof(pakeSessionId));
        if (sessionKey.Length != 32)
            throw new ArgumentException("A session key is 32 bytes.", nameof(sessionKey));
        var key = sessionKey.ToArray();
        try
        {
            return new SignSession(this, pakeSessionId, key, expiresAt, task: null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Logs in with <paramref name="currentPin"/> and sets <paramref name="newPin"/>; every session of the key ends.</summary>
    public async Task ChangePinAsync(string currentPin, string newPin, CancellationToken cancellationToken = default)
    {
        using var session = await LoginAsync(currentPin, cancellationToken: cancellationToken).ConfigureAwait(false);
        await session.ChangePinAsync(newPin, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>session_end</c>, device form: ends the named session of this key and context.</summary>
    public async Task EndSessionAsync(string pakeSessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pakeSessionId);
        var reply = await SendDeviceRequestAsync(ServiceTypes.SessionEnd, Encoding.ASCII.GetBytes(pakeSessionId), null, cancellationToken).ConfigureAwait(false);
        ExpectOk(reply);
    }

    /// <summary><c>session_context_end</c>: ends every session of this key in this context.</summary>
    public async Task EndContextAsync(CancellationToken cancellationToken = default)
    {
        var reply = await SendDeviceRequestAsync(ServiceTypes.SessionContextEnd, ReadOnlyMemory<byte>.Empty, null, cancellationToken).ConfigureAwait(false);
        ExpectOk(reply);
    }

    /// <summary>Any device-mode request (data encrypted to the server key): the decrypted response data.</summary>
    public async Task<byte[]> SendDeviceRequestAsync(string type, ReadOnlyMemory<byte> plaintext, string? pakeSessionId = null, CancellationToken cancellationToken = default)
    {
        var sent = ClientEnvelope.BuildDeviceRequest(Address(type, pakeSessionId), plaintext.Span, _device.Key, _serverKey, Options.Time.GetUtcNow());
        var body = await ExchangeAsync(sent, cancellationToken).ConfigureAwait(false);
        return ClientEnvelope.OpenDeviceResponse(body, sent, _serverKey, _device.Key, Options.Time.GetUtcNow(), Options.Envelope);
    }

    internal async Task<byte[]> SendUserRequestAsync(string type, ReadOnlyMemory<byte> plaintext, string pakeSessionId, byte[] sessionKey, CancellationToken cancellationToken)
    {
        var sent = ClientEnvelope.BuildUserRequest(Address(type, pakeSessionId), plaintext.Span, _device.Key, sessionKey, Options.Time.GetUtcNow());
        var body = await ExchangeAsync(sent, cancellationToken).ConfigureAwait(false);
        return ClientEnvelope.OpenUserResponse(body, sent, _serverKey, sessionKey, Options.Time.GetUtcNow(), Options.Envelope);
    }

    /// <summary>Registration evaluate + finalize, shared by pin_registration and pin_change.</summary>
    internal async Task RegisterRecordAsync(string pin, string? authorization, Func<string, PakeRequest, CancellationToken, Task<byte[]>> send, string type, CancellationToken cancellationToken)
    {
        var password = PinHardening.HardenPin(_device.Key, pin);
        try
        {
            using var state = _opaque.CreateRegistrationRequest(password);
            var evaluated = ReadPakeResponse(await send(type, new PakeRequest(PakeRequest.Opaque, PakeRequest.Evaluate, Base64Std.Encode(state.Request)), cancellationToken).ConfigureAwait(false));
            if (evaluated.Resp is null || !Base64Std.TryDecode(evaluated.Resp, out var response))
                throw new ClientEnvelopeException("The registration evaluate response lacks resp.");
            using var result = _opaque.FinalizeRegistrationRequest(state, response, _serverIdentity, _clientIdentity);
            var finalized = ReadPakeResponse(await send(type, new PakeRequest(PakeRequest.Opaque, PakeRequest.Finalize, Base64Std.Encode(result.Record), authorization), cancellationToken).ConfigureAwait(false));
            if (!string.Equals(finalized.Msg, ProtocolConstants.Ok, StringComparison.Ordinal))
                throw new ClientEnvelopeException("The registration finalize response is not OK.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    internal static void ExpectOk(byte[] reply)
    {
        if (!reply.AsSpan().SequenceEqual("OK"u8)) throw new ClientEnvelopeException("The response is not OK.");
    }

    private Task<byte[]> SendDeviceJsonAsync(string type, PakeRequest pake, string? pakeSessionId, CancellationToken cancellationToken) =>
        SendDeviceRequestAsync(type, EnvelopeJson.Serialize(pake), pakeSessionId, cancellationToken);

    private ClientRequest Address(string type, string? pakeSessionId) => new(_device.ClientId, _device.Kid, Options.Context, type, pakeSessionId);

    private async Task<string> ExchangeAsync(SealedClientRequest sent, CancellationToken cancellationToken)
    {
        var reply = await _transport.SendAsync(sent.Jws, cancellationToken).ConfigureAwait(false);
        if (reply.Status == 200) return reply.Body;
        throw ToException(reply);
    }

    private static R2psClientException ToException(TransportReply reply)
    {
        try
        {
            var error = R2psJson.Deserialize<ErrorBody>(reply.Body, "error body");
            return ErrorCodes.TryFromWire(error.ErrorCode, out var code)
                ? new R2psClientException(code, reply.Status, error.ErrorMessage)
                : new R2psClientException(ErrorCode.ServerError, reply.Status, $"The service answered {reply.Status} with an unknown error code.");
        }
        catch (R2psException)
        {
            return new R2psClientException(ErrorCode.ServerError, reply.Status, $"The service answered {reply.Status} without an R2PS error body.");
        }
    }

    internal static PakeResponse ReadPakeResponse(byte[] data)
    {
        try
        {
            return R2psJson.Deserialize<PakeResponse>(data, "PAKE response");
        }
        catch (R2psException ex)
        {
            throw new ClientEnvelopeException(ex.Message, ex);
        }
    }
}
