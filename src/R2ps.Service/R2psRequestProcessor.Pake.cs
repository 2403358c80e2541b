using System.Security.Cryptography;
using System.Text;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Opaque;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;
using R2ps.Service.Ports;

namespace R2ps.Service;

/// <summary>The OPAQUE flows of PROTOCOL.md 1.4/1.5: pin_registration, authenticate, pin_change.</summary>
public sealed partial class R2psRequestProcessor
{
    private async Task<byte[]> PinRegistrationAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var pake = ReadPake(plaintext);
        if (pake.State == PakeRequest.Evaluate)
            return RegistrationResponse(call, pake);

        // Any finalize attempt consumes the code, before anything else is looked at: one guess per code.
        var codeAccepted = await _ports.RegistrationCodes.ConsumeAsync(call.ClientId, call.Kid, pake.Authorization ?? string.Empty, cancellationToken).ConfigureAwait(false);
        if (!codeAccepted)
            throw new R2psException(ErrorCode.AccessDenied, "The registration code is wrong, used or expired.");
        await StoreNewRecordAsync(call, pake, cancellationToken).ConfigureAwait(false);
        return Json(new PakeResponse(Msg: ProtocolConstants.Ok));
    }

    private async Task<byte[]> PinChangeAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var session = call.Session!;
        if (session.StartedAt + _options.PinChangeWindow <= call.Now)
            throw new R2psException(ErrorCode.IllegalState, "pin_change needs a session that logged in moments ago; log in again.");
        var pake = ReadPake(plaintext);
        if (pake.Authorization is not null)
            throw new R2psException(ErrorCode.IllegalRequestData, "pin_change takes no authorization.");
        if (pake.State == PakeRequest.Evaluate)
            return RegistrationResponse(call, pake);
        await StoreNewRecordAsync(call, pake, cancellationToken).ConfigureAwait(false);
        return Json(new PakeResponse(Msg: ProtocolConstants.Ok));
    }

    private byte[] RegistrationResponse(ServiceCall call, PakeRequest pake)
    {
        var registrationRequest = DecodeBinary(pake.Req, "req");
        if (registrationRequest.Length != OpaqueSizes.RegistrationRequest)
            throw new R2psException(ErrorCode.IllegalRequestData, $"A registration request is {OpaqueSizes.RegistrationRequest} bytes.");
        using var server = NewOpaqueServer(call);
        var response = Opaque(() => server.CreateRegistrationResponse(registrationRequest, Encoding.UTF8.GetBytes(call.Kid)));
        return Json(new PakeResponse(Resp: Base64Std.Encode(response)));
    }

    /// <summary>A new PIN: the record replaces the old one, failures are forgotten, and every session of the key ends.</summary>
    private async Task StoreNewRecordAsync(ServiceCall call, PakeRequest pake, CancellationToken cancellationToken)
    {
        var recordBytes = DecodeBinary(pake.Req, "req");
        using (var record = Opaque(() => RegistrationRecord.Parse(recordBytes)))
        {
            // Parsed only to validate: length and a valid client public key.
        }
        await _ports.OpaqueRecords.PutAsync(call.ClientId, call.Kid, recordBytes, cancellationToken).ConfigureAwait(false);
        await _ports.Lockout.ResetAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false);
        await _ports.Sessions.EndClientSessionsAsync(call.ClientId, call.Kid, SessionEndReasons.PinChanged, cancellationToken).ConfigureAwait(false);
    }

    private Task<byte[]> AuthenticateAsync(ServiceCall call, byte[] plaintext, AuditTrace trace, CancellationToken cancellationToken)
    {
        var pake = ReadPake(plaintext);
        return pake.State == PakeRequest.Evaluate
            ? LoginEvaluateAsync(call, pake, trace, cancellationToken)
            : LoginFinalizeAsync(call, pake, trace, cancellationToken);
    }

    private async Task<byte[]> LoginEvaluateAsync(ServiceCall call, PakeRequest pake, AuditTrace trace, CancellationToken cancellationToken)
    {
        await RefuseIfLockedAsync(call, cancellationToken).ConfigureAwait(false);
        var ke1 = DecodeBinary(pake.Req, "req");
        if (ke1.Length != OpaqueSizes.Ke1)
            throw new R2psException(ErrorCode.IllegalRequestData, $"KE1 is {OpaqueSizes.Ke1} bytes.");

        // The attempt is charged now, not at finalize: KE2 already tells the client whether its PIN was right, so a
        // client that never sends a wrong finalize would otherwise guess for free. A successful finalize resets it.
        await _ports.Lockout.RecordFailureAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false);

        // No record: RFC 9807 §10.9 fake record inside GenerateKE2, so the reply does not reveal whether a PIN is set.
        var stored = await _ports.OpaqueRecords.GetAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false);
        using var record = stored is null ? null : RegistrationRecord.Parse(stored);
        using var server = NewOpaqueServer(call);
        using var ke2 = Opaque(() => server.GenerateKE2(ke1, Encoding.UTF8.GetBytes(call.Kid), record, Encoding.UTF8.GetBytes(call.ClientId)));

        var pakeSessionId = Hex.Encode(RandomNumberGenerator.GetBytes(EnvelopeRules.PakeSessionIdLength / 2));
        trace.SessionRef = pakeSessionId;
        var state = ke2.State.Serialize();
        byte[] sealedState;
        try
        {
            sealedState = _ports.Sealer.Seal(state, Sealing.LoginStateAad(pakeSessionId, call.ClientId, call.Kid, call.Context));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(state);
        }
        await _ports.Sessions.BeginLoginAsync(
            new PendingSignSession(pakeSessionId, call.ClientId, call.Kid, call.Context, sealedState, call.Now, call.Now + _options.LoginWindow),
            cancellationToken).ConfigureAwait(false);
        return Json(new PakeResponse(PakeSessionId: pakeSessionId, Resp: Base64Std.Encode(ke2.Ke2)));
    }

    private async Task<byte[]> LoginFinalizeAsync(ServiceCall call, PakeRequest pake, AuditTrace trace, CancellationToken cancellationToken)
    {
        var pakeSessionId = call.Request.PakeSessionId
            ?? throw new R2psException(ErrorCode.IllegalState, "authenticate finalize must name the session of its evaluate.");
        trace.SessionRef = pakeSessionId;
        // Shape checks first: a malformed finalize neither counts as a failed login nor uses up the pending login.
        var ke3 = DecodeBinary(pake.Req, "req");
        if (ke3.Length != OpaqueSizes.Ke3)
            throw new R2psException(ErrorCode.IllegalRequestData, $"KE3 is {OpaqueSizes.Ke3} bytes.");
        var taskMax = ResolveTask(pake);

        var session = await _ports.Sessions.FindAsync(pakeSessionId, cancellationToken).ConfigureAwait(false)
            ?? throw new R2psException(ErrorCode.IllegalState, "There is no pending login for this session; run evaluate first.");
        if (!session.IsBoundTo(call.ClientId, call.Kid, call.Context))
            throw new R2psException(ErrorCode.AccessDenied, "The session is unknown, ended or expired.");
        if (session.Phase != SignSessionPhase.PendingLogin || session.SealedLoginState is null)
            throw new R2psException(ErrorCode.IllegalState, "The session is not waiting for a finalize.");
        if (session.LoginExpiresAt <= call.Now)
        {
            await _ports.Sessions.CloseAsync(pakeSessionId, SessionEndReasons.Closed, cancellationToken).ConfigureAwait(false);
            throw new R2psException(ErrorCode.AccessDenied, "The login window has passed; run evaluate again.");
        }
        // No lock check here: this attempt was charged (and checked) at its evaluate, so the attempt that reached the
        // limit may still succeed.

        var state = _ports.Sealer.Open(session.SealedLoginState, Sealing.LoginStateAad(pakeSessionId, call.ClientId, call.Kid, call.Context));
        byte[] sessionKey;
        try
        {
            sessionKey = OpaqueServer.ServerFinish(state, ke3);
        }
        catch (OpaqueException ex) when (ex.Reason == OpaqueError.ClientAuthenticationFailed)
        {
            // A KE3 is checked once: the pending login ends (its failure was counted at evaluate). If that count
            // locked the key, its other sessions end too.
            await _ports.Sessions.CloseAsync(pakeSessionId, SessionEndReasons.Closed, cancellationToken).ConfigureAwait(false);
            if (await _ports.Lockout.GetLockedUntilAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false) is not null)
                await _ports.Sessions.EndClientSessionsAsync(call.ClientId, call.Kid, SessionEndReasons.LockedOut, cancellationToken).ConfigureAwait(false);
            throw new R2psException(ErrorCode.Unauthorized, "Login failed.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(state);
        }

        try
        {
            await _ports.Lockout.ResetAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false);
            var lifetime = Min(_options.DefaultMaxSessionDuration, taskMax ?? TimeSpan.MaxValue,
                pake.SessionDuration is { } seconds ? TimeSpan.FromSeconds(Math.Min(seconds, (long)_options.DefaultMaxSessionDuration.TotalSeconds)) : TimeSpan.MaxValue);
            // Whole seconds: the wallet is told an epoch-second expiry, and the session must not outlive it.
            var expiresAt = DateTimeOffset.FromUnixTimeSeconds((call.Now + lifetime).ToUnixTimeSeconds());
            var sealedKey = _ports.Sealer.Seal(sessionKey, Sealing.SessionKeyAad(pakeSessionId, call.ClientId, call.Kid, call.Context));
            var outcome = await _ports.Sessions.ActivateAsync(pakeSessionId, sealedKey, pake.Task, expiresAt, cancellationToken).ConfigureAwait(false);
            return outcome switch
            {
                ActivationOutcome.Activated => Json(new PakeResponse(pakeSessionId, Msg: ProtocolConstants.Ok, Task: pake.Task, SessionExpirationTime: expiresAt.ToUnixTimeSeconds())),
                ActivationOutcome.LoginExpired => throw new R2psException(ErrorCode.AccessDenied, "The login window has passed; run evaluate again."),
                ActivationOutcome.NotPending => throw new R2psException(ErrorCode.IllegalState, "The session is not waiting for a finalize."),
                _ => throw new R2psException(ErrorCode.IllegalState, "There is no pending login for this session; run evaluate first."),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sessionKey);
        }
    }

    private TimeSpan? ResolveTask(PakeRequest pake)
    {
        if (pake.SessionDuration is { } duration && duration <= 0)
            throw new R2psException(ErrorCode.IllegalRequestData, "session_duration must be a positive number of seconds.");
        if (pake.Task is null) return null;
        return _options.Tasks.TryGetValue(pake.Task, out var max)
            ? max
            : throw new R2psException(ErrorCode.IllegalRequestData, "The task is not one this service knows.");
    }

    private async Task RefuseIfLockedAsync(ServiceCall call, CancellationToken cancellationToken)
    {
        if (await _ports.Lockout.GetLockedUntilAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false) is not null)
            throw new R2psException(ErrorCode.AccessDenied, "Too many failed logins; the key is locked for now.");
    }

    private OpaqueServer NewOpaqueServer(ServiceCall call) => new(call.ServerKey, _oprfSeed.Value, _serverIdentity, _opaqueOptions);

    private static PakeRequest ReadPake(byte[] plaintext)
    {
        var pake = R2psJson.Deserialize<PakeRequest>(plaintext, "PAKE request");
        if (!string.Equals(pake.Protocol, PakeRequest.Opaque, StringComparison.Ordinal))
            throw new R2psException(ErrorCode.IllegalRequestData, "protocol must be \"opaque\".");
        if (pake.State is not (PakeRequest.Evaluate or PakeRequest.Finalize))
            throw new R2psException(ErrorCode.IllegalRequestData, "state must be \"evaluate\" or \"finalize\".");
        return pake;
    }

    private static T Opaque<T>(Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (OpaqueException ex) when (ex.Reason is OpaqueError.InvalidLength or OpaqueError.InvalidPoint or OpaqueError.InvalidScalar or OpaqueError.InvalidInput)
        {
            throw new R2psException(ErrorCode.IllegalRequestData, $"The OPAQUE message is malformed: {ex.Message}", ex);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b, TimeSpan c) => a < b ? (a < c ? a : c) : (b < c ? b : c);
}
