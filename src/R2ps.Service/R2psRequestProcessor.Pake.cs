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
        {
            // Every evaluate is an OPRF evaluation under the key's long-lived OPRF key: together with one KE2 it lets a
            // holder of the device key test a PIN offline. So it needs a registration in progress (an unexpired code,
            // checked without consuming it) and is charged like a login attempt; a successful finalize resets.
            var registrationRequest = ReadRegistrationRequest(pake);
            if (!await _ports.RegistrationCodes.IsPendingAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false))
                throw new R2psException(ErrorCode.AccessDenied, "No registration code is pending for this key.");
            await ChargeAttemptAsync(call, cancellationToken).ConfigureAwait(false);
            return RegistrationResponse(call, registrationRequest);
        }

        // Any finalize attempt consumes the code, before anything else is looked at: one guess per code.
        var codeAccepted = await _ports.RegistrationCodes.ConsumeAsync(call.ClientId, call.Kid, pake.Authorization ?? string.Empty, cancellationToken).ConfigureAwait(false);
        if (!codeAccepted)
            throw new R2psException(ErrorCode.AccessDenied, "The registration code is wrong, used or expired.");
        // The code is spent: from here on the new PIN is written completely even if the caller gives up.
        await StoreNewRecordAsync(call, pake, CancellationToken.None).ConfigureAwait(false);
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
        {
            // An OPRF evaluation like any other: charged, so a stolen session cannot evaluate PIN guesses for free.
            var registrationRequest = ReadRegistrationRequest(pake);
            await ChargeAttemptAsync(call, cancellationToken).ConfigureAwait(false);
            var response = RegistrationResponse(call, registrationRequest);
            await MarkPinChangeEvaluatedAsync(call, session, cancellationToken).ConfigureAwait(false);
            return response;
        }
        // PROTOCOL.md 1.5: a finalize needs its evaluate in the same session. The mark is a row of the session saga,
        // so whichever worker ran the evaluate, every worker sees it.
        var mark = await _ports.Sessions.FindAsync(PakeSessionIds.PinChangeMark(_oprfSeed.Value, session.PakeSessionId), cancellationToken).ConfigureAwait(false);
        if (mark is null || !mark.IsBoundTo(call.ClientId, call.Kid, call.Context) || mark.Phase != SignSessionPhase.PendingLogin)
            throw new R2psException(ErrorCode.IllegalState, "pin_change finalize needs its evaluate in this session first.");
        // The new PIN ends every session of the key, the mark with them.
        await StoreNewRecordAsync(call, pake, cancellationToken).ConfigureAwait(false);
        return Json(new PakeResponse(Msg: ProtocolConstants.Ok));
    }

    /// <summary>
    /// Records that this session ran a pin_change evaluate: a pending entry in the session saga under an id derived
    /// from the session's with a server key (nobody else can name it, so no request can finalize or use it), bound to
    /// the same (client_id, kid, context) — so it ends with the key's sessions (new PIN, lockout, revocation) — and
    /// expiring with the pin_change window. The saga keeps only sealed values, hence the sealed one-byte payload.
    /// </summary>
    private async Task MarkPinChangeEvaluatedAsync(ServiceCall call, SignSessionView session, CancellationToken cancellationToken)
    {
        var markId = PakeSessionIds.PinChangeMark(_oprfSeed.Value, session.PakeSessionId);
        var sealedMark = await _ports.Sealer.SealAsync(new byte[] { 1 }, Sealing.PinChangeMarkAad(markId, call.ClientId, call.Kid, call.Context), cancellationToken).ConfigureAwait(false);
        await _ports.Sessions.BeginLoginAsync(
            new PendingSignSession(markId, call.ClientId, call.Kid, call.Context, sealedMark, call.Now, session.StartedAt + _options.PinChangeWindow),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Shape check before any charge: a malformed request neither counts as an attempt nor reaches OPAQUE.</summary>
    private static byte[] ReadRegistrationRequest(PakeRequest pake)
    {
        var registrationRequest = DecodeBinary(pake.Req, "req");
        if (registrationRequest.Length != OpaqueSizes.RegistrationRequest)
            throw new R2psException(ErrorCode.IllegalRequestData, $"A registration request is {OpaqueSizes.RegistrationRequest} bytes.");
        return registrationRequest;
    }

    private byte[] RegistrationResponse(ServiceCall call, byte[] registrationRequest)
    {
        using var server = NewOpaqueServer(call);
        var response = Opaque(() => server.CreateRegistrationResponse(registrationRequest, CredentialIdentifier.For(call.ClientId, call.Kid)));
        return Json(new PakeResponse(Resp: Base64Std.Encode(response)));
    }

    /// <summary>
    /// A new PIN: every session of the key ends, then the record replaces the old one, then every session ends again
    /// (one begun meanwhile from the old record), then failures are forgotten.
    /// Sessions end first, so a failure part-way leaves the old PIN with no session rather than the new PIN with old
    /// sessions alive; once that first change committed, the rest runs to the end whatever the caller does.
    /// </summary>
    private async Task StoreNewRecordAsync(ServiceCall call, PakeRequest pake, CancellationToken cancellationToken)
    {
        var recordBytes = DecodeBinary(pake.Req, "req");
        using (var record = Opaque(() => RegistrationRecord.Parse(recordBytes)))
        {
            // Parsed only to validate: length and a valid client public key.
        }
        await _ports.Sessions.EndClientSessionsAsync(call.ClientId, call.Kid, SessionEndReasons.PinChanged, cancellationToken).ConfigureAwait(false);
        await _ports.OpaqueRecords.PutAsync(call.ClientId, call.Kid, recordBytes, CancellationToken.None).ConfigureAwait(false);
        // Again, now that the new record is stored: a login evaluate that read the OLD record while the first end ran
        // may have begun its pending session since; ended here, its finalize finds nothing to activate.
        await _ports.Sessions.EndClientSessionsAsync(call.ClientId, call.Kid, SessionEndReasons.PinChanged, CancellationToken.None).ConfigureAwait(false);
        await _ports.Lockout.ResetAsync(call.ClientId, call.Kid, CancellationToken.None).ConfigureAwait(false);
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
        var ke1 = DecodeBinary(pake.Req, "req");
        if (ke1.Length != OpaqueSizes.Ke1)
            throw new R2psException(ErrorCode.IllegalRequestData, $"KE1 is {OpaqueSizes.Ke1} bytes.");

        // The attempt is charged now, not at finalize: KE2 already tells the client whether its PIN was right, so a
        // client that never sends a wrong finalize would otherwise guess for free. A successful finalize resets it.
        // One commit with the request's nonce: a replay is refused and charges nothing.
        var pending = trace.ClaimNonce();
        var charge = await _ports.Lockout.TryAddNonceAndChargeAsync(call.ClientId, call.Kid, pending.Nonce, pending.KeepUntil, cancellationToken).ConfigureAwait(false)
            ?? throw new R2psException(ErrorCode.AccessDenied, NonceUsed);
        await ApplyChargeAsync(call, charge).ConfigureAwait(false);

        // No record: RFC 9807 §10.9 fake record inside GenerateKE2, so the reply does not reveal whether a PIN is set.
        var stored = await _ports.OpaqueRecords.GetAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false);
        using var record = stored is null ? null : RegistrationRecord.Parse(stored);
        using var server = NewOpaqueServer(call);
        // Awaited: the server key's 3DH term is an HSM derive, and a busy session pool must not hold this thread.
        using var ke2 = await OpaqueAsync(() => server.GenerateKE2Async(ke1, CredentialIdentifier.For(call.ClientId, call.Kid), record, Encoding.UTF8.GetBytes(call.ClientId),
            cancellationToken)).ConfigureAwait(false);

        var pakeSessionId = PakeSessionIds.New(_oprfSeed.Value);
        trace.SessionRef = pakeSessionId;
        // The sealed state carries the hash of the record this KE2 was made from: a PIN change that completes between
        // this read and the pending login's creation cannot end a session that does not exist yet, so the finalize
        // checks the record instead.
        var state = new byte[RecordHashSize + ServerLoginState.SerializedSize];
        byte[] sealedState;
        try
        {
            RecordHash(stored, state.AsSpan(0, RecordHashSize));
            var serialized = ke2.State.Serialize();
            serialized.CopyTo(state, RecordHashSize);
            CryptographicOperations.ZeroMemory(serialized);
            sealedState = await _ports.Sealer.SealAsync(state, Sealing.LoginStateAad(pakeSessionId, call.ClientId, call.Kid, call.Context), cancellationToken).ConfigureAwait(false);
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
        // The nonce before anything else, as step 8 would have: a replay changes nothing.
        await RecordNonceAsync(trace.ClaimNonce(), cancellationToken).ConfigureAwait(false);
        var pakeSessionId = call.Request.PakeSessionId
            ?? throw new R2psException(ErrorCode.IllegalState, "authenticate finalize must name the session of its evaluate.");
        trace.SessionRef = pakeSessionId;
        // Shape checks first: a malformed finalize neither counts as a failed login nor uses up the pending login.
        var ke3 = DecodeBinary(pake.Req, "req");
        if (ke3.Length != OpaqueSizes.Ke3)
            throw new R2psException(ErrorCode.IllegalRequestData, $"KE3 is {OpaqueSizes.Ke3} bytes.");
        var taskMax = ResolveTask(pake);

        // A session that is not there: if its id carries our tag it was issued and has since expired, been swept or
        // ended — ACCESS_DENIED, the same whether or not the sweeper got to an expired login first; an id never issued
        // is a finalize without evaluate (ILLEGAL_STATE). The tag is independent of the client, so this tells nothing
        // about anyone's live sessions.
        var session = await _ports.Sessions.FindAsync(pakeSessionId, cancellationToken).ConfigureAwait(false);
        if (session is null)
        {
            throw PakeSessionIds.WasIssued(_oprfSeed.Value, pakeSessionId)
                ? new R2psException(ErrorCode.AccessDenied, UnknownSession)
                : new R2psException(ErrorCode.IllegalState, "There is no pending login for this session; run evaluate first.");
        }
        if (!session.IsBoundTo(call.ClientId, call.Kid, call.Context))
            throw new R2psException(ErrorCode.AccessDenied, UnknownSession);
        if (session.Phase != SignSessionPhase.PendingLogin || session.SealedLoginState is null)
            throw new R2psException(ErrorCode.IllegalState, "The session is not waiting for a finalize.");
        if (session.LoginExpiresAt <= call.Now)
        {
            await _ports.Sessions.CloseAsync(pakeSessionId, SessionEndReasons.Closed, cancellationToken).ConfigureAwait(false);
            throw new R2psException(ErrorCode.AccessDenied, "The login window has passed; run evaluate again.");
        }
        // No lock check here: this attempt was charged (and checked) at its evaluate, so the attempt that reached the
        // limit may still succeed.

        var state = await _ports.Sealer.OpenAsync(session.SealedLoginState, Sealing.LoginStateAad(pakeSessionId, call.ClientId, call.Kid, call.Context), cancellationToken).ConfigureAwait(false);
        byte[] sessionKey;
        try
        {
            if (state.Length != RecordHashSize + ServerLoginState.SerializedSize)
                throw new CryptographicException("A sealed login state has the wrong length.");
            if (!await IsCurrentRecordAsync(call, state, cancellationToken).ConfigureAwait(false))
            {
                // The PIN changed since the evaluate: like a session ended by the new PIN.
                await _ports.Sessions.CloseAsync(pakeSessionId, SessionEndReasons.PinChanged, CancellationToken.None).ConfigureAwait(false);
                throw new R2psException(ErrorCode.AccessDenied, UnknownSession);
            }
            sessionKey = OpaqueServer.ServerFinish(state.AsSpan(RecordHashSize), ke3);
        }
        catch (OpaqueException ex) when (ex.Reason == OpaqueError.ClientAuthenticationFailed)
        {
            // A KE3 is checked once: the pending login ends (its failure was counted at evaluate). If that count
            // locked the key, its other sessions end too, even if the caller gives up in between.
            await _ports.Sessions.CloseAsync(pakeSessionId, SessionEndReasons.Closed, cancellationToken).ConfigureAwait(false);
            if (await _ports.Lockout.GetLockedUntilAsync(call.ClientId, call.Kid, CancellationToken.None).ConfigureAwait(false) is not null)
                await _ports.Sessions.EndClientSessionsAsync(call.ClientId, call.Kid, SessionEndReasons.LockedOut, CancellationToken.None).ConfigureAwait(false);
            throw new R2psException(ErrorCode.Unauthorized, "Login failed.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(state);
        }

        try
        {
            var lifetime = Min(_options.DefaultMaxSessionDuration, taskMax ?? TimeSpan.MaxValue,
                pake.SessionDuration is { } seconds ? TimeSpan.FromSeconds(Math.Min(seconds, (long)_options.DefaultMaxSessionDuration.TotalSeconds)) : TimeSpan.MaxValue);
            // Whole seconds: the wallet is told an epoch-second expiry, and the session must not outlive it.
            var expiresAt = DateTimeOffset.FromUnixTimeSeconds((call.Now + lifetime).ToUnixTimeSeconds());
            var sealedKey = await _ports.Sealer.SealAsync(sessionKey, Sealing.SessionKeyAad(pakeSessionId, call.ClientId, call.Kid, call.Context), cancellationToken).ConfigureAwait(false);
            var outcome = await _ports.Sessions.ActivateAsync(pakeSessionId, sealedKey, pake.Task, expiresAt, cancellationToken).ConfigureAwait(false);
            switch (outcome)
            {
                case ActivationOutcome.Activated:
                    // Only a login that really became a session forgets the failures: in the commit of the request's
                    // audit record (ProcessAsync), done even if the caller gives up.
                    trace.ResetLockout = true;
                    return Json(new PakeResponse(pakeSessionId, Msg: ProtocolConstants.Ok, Task: pake.Task, SessionExpirationTime: expiresAt.ToUnixTimeSeconds()));
                case ActivationOutcome.LoginExpired:
                    throw new R2psException(ErrorCode.AccessDenied, "The login window has passed; run evaluate again.");
                case ActivationOutcome.NotPending:
                    throw new R2psException(ErrorCode.IllegalState, "The session is not waiting for a finalize.");
                default:
                    throw new R2psException(ErrorCode.AccessDenied, UnknownSession);
            }
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

    /// <summary>
    /// Charges one PIN attempt, refusing a locked key in the same atomic store operation (a separate check before the
    /// charge would let parallel requests all pass it).
    /// </summary>
    private async Task ChargeAttemptAsync(ServiceCall call, CancellationToken cancellationToken) =>
        await ApplyChargeAsync(call, await _ports.Lockout.TryChargeAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>A charge's consequences: a refused attempt is ACCESS_DENIED; the attempt that locks the key ends its sessions.</summary>
    private async Task ApplyChargeAsync(ServiceCall call, LoginCharge charge)
    {
        if (!charge.Allowed)
            throw new R2psException(ErrorCode.AccessDenied, "Too many failed logins; the key is locked for now.");
        // PROTOCOL.md 1.5: reaching the lock ends the client's sessions (this attempt itself may go on; a pending login
        // it begins is created after this). The lock is in force now, so this runs even if the caller gives up.
        if (charge.LockedUntil is not null)
            await _ports.Sessions.EndClientSessionsAsync(call.ClientId, call.Kid, SessionEndReasons.LockedOut, CancellationToken.None).ConfigureAwait(false);
    }

    private const int RecordHashSize = 32;

    /// <summary>SHA-256 of the stored record; no record (the fake-record login) hashes the empty string.</summary>
    private static void RecordHash(byte[]? record, Span<byte> destination) => SHA256.HashData(record ?? [], destination);

    /// <summary>Whether the record hash at the start of <paramref name="loginState"/> is the stored record's now.</summary>
    private async Task<bool> IsCurrentRecordAsync(ServiceCall call, byte[] loginState, CancellationToken cancellationToken)
    {
        var current = await _ports.OpaqueRecords.GetAsync(call.ClientId, call.Kid, cancellationToken).ConfigureAwait(false);
        Span<byte> actual = stackalloc byte[RecordHashSize];
        RecordHash(current, actual);
        return CryptographicOperations.FixedTimeEquals(actual, loginState.AsSpan(0, RecordHashSize));
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
        catch (OpaqueException ex) when (IsMalformed(ex))
        {
            throw Malformed(ex);
        }
    }

    private static async Task<T> OpaqueAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (OpaqueException ex) when (IsMalformed(ex))
        {
            throw Malformed(ex);
        }
    }

    private static bool IsMalformed(OpaqueException ex) =>
        ex.Reason is OpaqueError.InvalidLength or OpaqueError.InvalidPoint or OpaqueError.InvalidScalar or OpaqueError.InvalidInput;

    private static R2psException Malformed(OpaqueException ex) =>
        new(ErrorCode.IllegalRequestData, $"The OPAQUE message is malformed: {ex.Message}", ex);

    private static TimeSpan Min(TimeSpan a, TimeSpan b, TimeSpan c) => a < b ? (a < c ? a : c) : (b < c ? b : c);
}
