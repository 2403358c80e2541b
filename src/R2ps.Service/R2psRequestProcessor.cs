using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Crypto.Opaque;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Service.Ports;

namespace R2ps.Service;

/// <summary>
/// The HSM service core: one R2PS request envelope in, one <see cref="ServiceReply"/> out. Validates in the exact order
/// of PROTOCOL.md 1.1 (cheap, unauthenticated checks first; state changes only after the signature verified), runs the
/// handler of the service type, and answers with a signed response or the plain error body. Never throws to the
/// caller: an unexpected fault becomes SERVER_ERROR with a generic message. Every authenticated request is audited; a
/// refusal before the signature verified is counted in <see cref="R2psServiceMetrics"/> instead.
/// </summary>
public sealed partial class R2psRequestProcessor
{
    private const string GenericFailure = "The service could not complete the request.";
    private const string NotAuthorized = "The request is not authorized for this client.";
    private const string UnknownSession = "The session is unknown, ended or expired.";
    private const string NonceUsed = "The request nonce was already used.";

    private readonly R2psServiceOptions _options;
    private readonly R2psServicePorts _ports;
    private readonly OprfSeed _oprfSeed;
    private readonly TimeProvider _time;
    private readonly ILogger<R2psRequestProcessor> _logger;
    private readonly byte[] _serverIdentity;
    private readonly OpaqueOptions _opaqueOptions;
    private readonly string _workerId;
    private readonly R2psServiceMetrics? _metrics;
    private readonly SessionKeyCache _sessionKeys;

    public R2psRequestProcessor(IOptions<R2psServiceOptions> options, R2psServicePorts ports, OprfSeed oprfSeed, TimeProvider time, ILogger<R2psRequestProcessor> logger,
        R2psServiceMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(oprfSeed);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        var validation = new R2psServiceOptionsValidator().Validate(null, _options);
        if (validation.Failed) throw new OptionsValidationException(R2psServiceOptions.SectionName, typeof(R2psServiceOptions), validation.Failures);
        _ports = ports;
        _oprfSeed = oprfSeed;
        _time = time;
        _logger = logger;
        _serverIdentity = Encoding.UTF8.GetBytes(_options.ServerIdentity);
        _opaqueOptions = new OpaqueOptions { Context = Encoding.UTF8.GetBytes(_options.OpaqueContext) };
        _workerId = _options.ResolvedWorkerId;
        _metrics = metrics;
        _sessionKeys = new SessionKeyCache(_options.SessionKeyCacheCapacity);
    }

    /// <summary>Handles one envelope. Never throws (cancellation of <paramref name="cancellationToken"/> answers 503).</summary>
    public async Task<ServiceReply> ProcessAsync(string envelope, CancellationToken cancellationToken)
    {
        var trace = new AuditTrace();
        var started = Stopwatch.GetTimestamp();
        using var activity = R2psServiceActivity.StartRequest();
        ServiceReply reply;
        try
        {
            reply = await HandleAsync(envelope, trace, cancellationToken).ConfigureAwait(false);
        }
        catch (R2psException ex)
        {
            // R2psException messages are written to be shown: no keys, PINs or plaintext.
            reply = Error(ex.Code, ex.Message);
            LogRefusal(ex.Code, trace.Type);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            reply = Error(ErrorCode.ServiceUnavailable, "The request was cancelled before it completed.");
        }
        catch (Exception ex) when (DatabaseUnavailable.Is(ex))
        {
            // The database is down or restarting (seen in `r2ps faults postgres-restart`): like a broker that is down, the
            // request can be retried as it is, so the client gets 503, not the 500 of a fault in the service.
            LogDatabaseUnavailable(ex, trace.Type ?? "?");
            reply = Error(ErrorCode.ServiceUnavailable, DatabaseUnavailable.Message);
        }
#pragma warning disable CA1031 // The contract: nothing escapes to the caller; the fault is logged, the client sees a generic 500.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFault(ex, trace.Type ?? "?");
            reply = Error(ErrorCode.ServerError, GenericFailure);
        }

        // A read-only request's nonce is settled now, in the same commit as its audit record: the answer (or the
        // refusal it produced) stands only if the nonce was new.
        var audited = false;
        if (trace.PendingNonce is { } pending)
            (reply, audited) = await SettleNonceAsync(trace, pending, reply).ConfigureAwait(false);

        var outcome = OutcomeOf(reply);
        var serviceType = R2psServiceMetrics.ServiceTypeOf(trace.Type);
        _metrics?.RecordRequest(serviceType, outcome, Stopwatch.GetElapsedTime(started));
        R2psServiceActivity.Complete(activity, serviceType, reply.Status, outcome);
        // Authenticated requests are audited; a refusal before the signature verified is only counted (issue 10 item 2):
        // anyone can send those, and a row each would let a stranger turn requests into database writes.
        if (!trace.Authenticated)
            _metrics?.RecordUnauthenticatedRefusal(serviceType, outcome);
        else if (!audited)
            await AuditAsync(trace, reply, outcome).ConfigureAwait(false);
        return reply;
    }

    private async Task<ServiceReply> HandleAsync(string envelope, AuditTrace trace, CancellationToken cancellationToken)
    {
        // A caller that already gave up (the broker's request timed out) gets no state changes on its behalf.
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();

        // 1–2: size, then JWS structure, exact header and payload shape.
        var unverified = ServerEnvelope.Parse(envelope, _options.MaxEnvelopeBytes);
        var request = unverified.Payload;
        trace.Read(request);

        // 3: version.
        if (!string.Equals(request.Ver, ProtocolConstants.Version, StringComparison.Ordinal))
            throw new R2psException(ErrorCode.IllegalRequestData, $"ver must be \"{ProtocolConstants.Version}\".");

        // 4: (client_id, kid) → the registered device key; revoked looks unknown. Same message as a bad signature,
        // so nobody learns which client ids exist.
        var device = await _ports.Clients.FindAsync(request.ClientId, request.Kid, cancellationToken).ConfigureAwait(false)
            ?? throw new R2psException(ErrorCode.AccessDenied, NotAuthorized);

        // 5: context registered for the key and served by this worker.
        var serverKey = device.AllowsContext(request.Context) ? _ports.ServerKeys.Find(request.Context) : null;
        if (serverKey is null) throw new R2psException(ErrorCode.AccessDenied, NotAuthorized);

        // 6: signature.
        ServerEnvelope.VerifySignature(unverified, device.DeviceKey);
        trace.Authenticated = true;

        // 7: iat window.
        var nowSeconds = now.ToUnixTimeSeconds();
        if (request.Iat < nowSeconds - (long)_options.IatPastWindow.TotalSeconds)
            throw new R2psException(ErrorCode.AccessDenied, "The request iat is too old.");
        if (request.Iat > nowSeconds + (long)_options.IatFutureWindow.TotalSeconds)
            throw new R2psException(ErrorCode.AccessDenied, "The request iat is in the future.");

        // 8: nonce, recorded only now that the signature verified (nobody can burn another client's nonces). For a type
        // whose handler only reads, it is recorded after the handler instead, in one commit with the audit record
        // (SettleNonceAsync): nothing is released before it is durable and a replay still gets only this refusal, first,
        // whatever steps 9–12 would have said; what a replay can cost is a discarded HSM operation, not a second effect.
        // authenticate's handler records it itself before its first write, once it has read evaluate or finalize from
        // the data: an evaluate in one commit with its lockout charge, so a replay charges nothing (ClaimNonce). If the
        // handler fails before that, it is settled at the end like a read-only type's.
        var nonce = new PendingNonce(request.ClientId, request.Nonce, now + _options.NonceRetention);
        if (ReadOnlyTypes.Contains(request.Type) || request.Type == ServiceTypes.Authenticate)
            trace.PendingNonce = nonce;
        else
            await RecordNonceAsync(nonce, cancellationToken).ConfigureAwait(false);

        // 9: type.
        if (!ServiceTypes.IsKnown(request.Type))
            throw new R2psException(ErrorCode.UnsupportedRequestType, "The request type is not supported.");

        using var call = new ServiceCall(request, device, serverKey, now, unverified.Mode);

        // 10: session lookup and binding (user mode).
        if (call.Mode == EncryptionMode.User)
        {
            await BindSessionAsync(call, cancellationToken).ConfigureAwait(false);
            trace.SessionRef = request.PakeSessionId;
        }

        // 11: decrypt data.
        var plaintext = call.Mode == EncryptionMode.Device
            ? await ServerEnvelope.DecryptDeviceDataAsync(request, serverKey, cancellationToken).ConfigureAwait(false)
            : ServerEnvelope.DecryptUserData(request, call.SessionKey);

        // 12: handler.
        byte[] response;
        try
        {
            response = await DispatchAsync(call, plaintext, trace, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }

        try
        {
            // Awaited: the server key is an HSM key, and a busy session pool must not hold this thread.
            var body = await (call.Mode == EncryptionMode.Device
                ? ServerEnvelope.SealDeviceResponseAsync(request, response, device.DeviceKey, serverKey, _time.GetUtcNow(), CancellationToken.None)
                : ServerEnvelope.SealUserResponseAsync(request, response, call.SessionKey, serverKey, _time.GetUtcNow(), CancellationToken.None)).ConfigureAwait(false);
            return new ServiceReply(200, body);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(response);
        }
    }

    private async Task BindSessionAsync(ServiceCall call, CancellationToken cancellationToken)
    {
        var request = call.Request;
        var pakeSessionId = request.PakeSessionId
            ?? throw new R2psException(ErrorCode.IllegalRequestData, $"A {request.Type} request needs pake_session_id.");
        var session = await _ports.Sessions.FindAsync(pakeSessionId, cancellationToken).ConfigureAwait(false);
        // Unknown, ended, pending, expired and foreign sessions are refused alike.
        if (session is null
            || !session.IsBoundTo(call.ClientId, call.Kid, call.Context)
            || session.Phase != SignSessionPhase.Active
            || session.ExpiresAt is not { } expiresAt
            || expiresAt <= call.Now)
            throw new R2psException(ErrorCode.AccessDenied, UnknownSession);
        var sealedKey = session.SealedSessionKey
            ?? throw new InvalidOperationException("An active session has no sealed session key.");
        var aad = Sealing.SessionKeyAad(pakeSessionId, call.ClientId, call.Kid, call.Context);
        if (!_sessionKeys.TryGet(aad, sealedKey, call.Now, out var key))
        {
            using (R2psServiceActivity.StartHsm("unseal"))
                key = await _ports.Sealer.OpenAsync(sealedKey, aad, cancellationToken).ConfigureAwait(false);
            if (key.Length != OpaqueSizes.Hash)
            {
                CryptographicOperations.ZeroMemory(key);
                throw new CryptographicException("A sealed session key has the wrong length.");
            }
            _sessionKeys.Add(aad, sealedKey, key, expiresAt, call.Now);
        }
        call.Bind(session, key);
    }

    private Task<byte[]> DispatchAsync(ServiceCall call, byte[] plaintext, AuditTrace trace, CancellationToken cancellationToken) => call.Request.Type switch
    {
        ServiceTypes.PinRegistration => PinRegistrationAsync(call, plaintext, cancellationToken),
        ServiceTypes.Authenticate => AuthenticateAsync(call, plaintext, trace, cancellationToken),
        ServiceTypes.PinChange => PinChangeAsync(call, plaintext, cancellationToken),
        ServiceTypes.HsmEcKeygen => KeygenAsync(call, plaintext, cancellationToken),
        ServiceTypes.HsmListKeys => ListKeysAsync(call, plaintext, cancellationToken),
        ServiceTypes.HsmEcdsa => EcdsaAsync(call, plaintext, cancellationToken),
        ServiceTypes.HsmEcdh => EcdhAsync(call, plaintext, cancellationToken),
        ServiceTypes.HsmEcDeleteKey => DeleteKeyAsync(call, plaintext, cancellationToken),
        ServiceTypes.SessionEnd => SessionEndAsync(call, plaintext, trace, cancellationToken),
        ServiceTypes.SessionContextEnd => SessionContextEndAsync(call, cancellationToken),
        ServiceTypes.SecretStore => SecretStoreAsync(call, plaintext, cancellationToken),
        ServiceTypes.SecretRetrieve => SecretRetrieveAsync(call, plaintext, cancellationToken),
        ServiceTypes.SecretList => SecretListAsync(call, plaintext, cancellationToken),
        ServiceTypes.SecretDelete => SecretDeleteAsync(call, plaintext, cancellationToken),
        ServiceTypes.AuditLog => AuditLogAsync(call, plaintext, cancellationToken),
        _ => throw new R2psException(ErrorCode.UnsupportedRequestType, "The request type is not supported."),
    };

    /// <summary>Records the request's nonce now; a nonce already used is the replay refusal.</summary>
    private async Task RecordNonceAsync(PendingNonce nonce, CancellationToken cancellationToken)
    {
        if (!await _ports.Nonces.TryAddAsync(nonce.ClientId, nonce.Nonce, nonce.KeepUntil, cancellationToken).ConfigureAwait(false))
            throw new R2psException(ErrorCode.AccessDenied, NonceUsed);
    }

    private static ServiceReply Error(ErrorCode code, string message) => new(code.HttpStatus(), ServerEnvelope.ErrorBody(code, message));

    /// <summary>
    /// The types whose handler changes nothing (PROTOCOL.md 1.4 and 4): running one for a replay and discarding its
    /// answer leaves no trace but the refusal's audit record.
    /// </summary>
    private static readonly HashSet<string> ReadOnlyTypes = new(StringComparer.Ordinal)
    {
        ServiceTypes.HsmEcdsa, ServiceTypes.HsmEcdh, ServiceTypes.HsmListKeys,
        ServiceTypes.SecretRetrieve, ServiceTypes.SecretList, ServiceTypes.AuditLog,
    };

    /// <summary>
    /// Records the deferred nonce with the request's audit record in one commit: <paramref name="reply"/> if the nonce was
    /// new, the replay refusal if not. A failed commit wrote neither: the answer is withheld (503 or 500) and audited
    /// on its own, as any other failure.
    /// </summary>
    private async Task<(ServiceReply Reply, bool Audited)> SettleNonceAsync(AuditTrace trace, PendingNonce pending, ServiceReply reply)
    {
        var replayed = Error(ErrorCode.AccessDenied, NonceUsed);
        var whenNew = Record(trace, reply, OutcomeOf(reply));
        var whenReplayed = Record(trace, replayed, ErrorCode.AccessDenied.ToWire());
        try
        {
            // Not the request's token: its outcome is recorded even when the caller gave up (as AuditAsync does).
            bool recorded;
            if (_ports.Ledger is { } ledger)
            {
                recorded = await ledger.TryAddNonceWithAuditAsync(pending.ClientId, pending.Nonce, pending.KeepUntil, whenNew, whenReplayed, CancellationToken.None)
                    .ConfigureAwait(false);
            }
            else
            {
                recorded = await _ports.Nonces.TryAddAsync(pending.ClientId, pending.Nonce, pending.KeepUntil, CancellationToken.None).ConfigureAwait(false);
                await AppendAuditAsync(recorded ? whenNew : whenReplayed).ConfigureAwait(false);
            }
            if (!recorded) LogRefusal(ErrorCode.AccessDenied, trace.Type);
            return (recorded ? reply : replayed, true);
        }
        catch (Exception ex) when (DatabaseUnavailable.Is(ex))
        {
            LogDatabaseUnavailable(ex, trace.Type ?? "?");
            return (Error(ErrorCode.ServiceUnavailable, DatabaseUnavailable.Message), false);
        }
#pragma warning disable CA1031 // As in ProcessAsync: nothing escapes; without its nonce recorded the answer is not released.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFault(ex, trace.Type ?? "?");
            return (Error(ErrorCode.ServerError, GenericFailure), false);
        }
    }

    private AuditRecord Record(AuditTrace trace, ServiceReply reply, string outcome) =>
        new(_time.GetUtcNow(), _workerId, trace.ClientId, trace.Kid, trace.Context, trace.Type,
            trace.SessionRef is { Length: >= 16 } s ? s[..16] : null, trace.Authenticated, reply.Status, outcome);

    private static string OutcomeOf(ServiceReply reply) => reply.Status == 200 ? ProtocolConstants.Ok : ReadErrorCode(reply.Body);

    private Task AuditAsync(AuditTrace trace, ServiceReply reply, string outcome) =>
        AppendAuditAsync(Record(trace, reply, outcome), trace.ResetLockout ? (trace.ClientId!, trace.Kid!) : null);

    /// <summary>
    /// Appends the audit record; for a login that became a session, in one commit with the lockout's reset. The answer
    /// stands whatever happens here: if that commit fails, the failures stay counted until the next successful login
    /// (stricter, never looser).
    /// </summary>
    private async Task AppendAuditAsync(AuditRecord record, (string ClientId, string Kid)? resetLockoutOf = null)
    {
        try
        {
            // Not the request's token: a cancelled request is still audited (and a login's reset done: its session exists).
            if (resetLockoutOf is { } key)
                await _ports.Lockout.ResetWithAuditAsync(key.ClientId, key.Kid, record, CancellationToken.None).ConfigureAwait(false);
            else
                await _ports.Audit.AppendAsync(record, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // An audit failure must not change the answer of a request that already ran; it is logged loudly.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogAuditFailure(ex);
        }
    }

    private static string ReadErrorCode(string body)
    {
        try
        {
            return R2psJson.Deserialize<ErrorBody>(body, "error body").ErrorCode;
        }
        catch (R2psException)
        {
            return "?";
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "R2PS request refused: {Code} (type {Type})")]
    private partial void LogRefusal(ErrorCode code, string? type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "R2PS request answered 503: the database is unavailable (type {Type})")]
    private partial void LogDatabaseUnavailable(Exception exception, string type);

    [LoggerMessage(Level = LogLevel.Error, Message = "R2PS request failed unexpectedly (type {Type})")]
    private partial void LogFault(Exception exception, string type);

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending to the audit log failed")]
    private partial void LogAuditFailure(Exception exception);

    private sealed record PendingNonce(string ClientId, string Nonce, DateTimeOffset KeepUntil);

    /// <summary>What the audit record says about a request, filled in as the pipeline learns it.</summary>
    private sealed class AuditTrace
    {
        public string? ClientId { get; private set; }

        public string? Kid { get; private set; }

        public string? Context { get; private set; }

        public string? Type { get; private set; }

        public string? SessionRef { get; set; }

        public bool Authenticated { get; set; }

        /// <summary>
        /// The nonce not recorded yet: a read-only request's, recorded with its audit record once the answer is known, or
        /// an authenticate's until its handler claims it (<see cref="ClaimNonce"/>).
        /// </summary>
        public PendingNonce? PendingNonce { get; set; }

        /// <summary>A login became a session: its audit record goes with the lockout's reset.</summary>
        public bool ResetLockout { get; set; }

        /// <summary>Takes the pending nonce for the handler to record now: it is no longer settled at the end.</summary>
        public PendingNonce ClaimNonce()
        {
            var pending = PendingNonce ?? throw new InvalidOperationException("The request's nonce was recorded already.");
            PendingNonce = null;
            return pending;
        }

        public void Read(ServiceRequestPayload request)
        {
            ClientId = request.ClientId;
            Kid = request.Kid;
            Context = request.Context;
            Type = request.Type;
            SessionRef = request.PakeSessionId;
        }
    }
}
