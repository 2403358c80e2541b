using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Contracts;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Crypto.Opaque;
using R2ps.Crypto.Pin;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;
using R2ps.Sessions;
using R2ps.Store;
using R2ps.Wallet;

namespace R2ps.Worker.Tests;

/// <summary>
/// The error matrix of PROTOCOL.md 1.2 over the real path: RabbitMQ, the two worker processes, SoftHSM2 and the shared
/// SQLite store and saga table. Each case checks the status and <c>error_code</c>, and that the refusal left nothing
/// half-written — read back from the store or the saga table, or shown by a follow-up request that must still succeed
/// (e.g. the refused request's nonce, sent again correctly, is accepted: it was not burned).
/// </summary>
[Collection(WorkerClusterDefinition.Name)]
public sealed class RealPathErrorCodeTests(WorkerCluster cluster)
{
    const string Pin = "246810";
    static readonly TimeSpan ShortSession = TimeSpan.FromSeconds(3);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    ISignSessionReader Sessions => cluster.Services.GetRequiredService<ISignSessionReader>();

    // --- 1.1 step 7: iat window (30 s past, 5 s future) ---------------------------------------------------------------

    [Theory]
    [InlineData(-60)]
    [InlineData(+60)]
    public async Task A_stale_or_future_iat_is_access_denied_and_its_nonce_stays_unused(int skewSeconds)
    {
        var (wallet, _) = await cluster.RegisteredWalletWithoutPinAsync(Ct);
        var device = wallet.Wallet.Device;
        var nonce = ClientEnvelope.NewNonce();

        var skewed = await SendAsync(DeviceEnvelope(device, ServiceTypes.SessionContextEnd, [], Now + skewSeconds, nonce));
        AssertError(skewed, 403, "ACCESS_DENIED");

        // PROTOCOL.md 1.1: the iat check comes before the nonce is recorded, so the same nonce with a good iat is served.
        await AssertServedAsync(device, DeviceEnvelope(device, ServiceTypes.SessionContextEnd, [], Now, nonce), nonce);
    }

    // --- 1.1 step 4/6: unknown client, bad signature ------------------------------------------------------------------

    [Fact]
    public async Task An_unknown_client_is_access_denied_and_costs_no_audit_row()
    {
        using var stranger = new R2psDevice("never-registered-" + Guid.NewGuid().ToString("N"), "k1", SoftwareEcKey.Generate(EcCurve.P256));
        var reply = await SendAsync(DeviceEnvelope(stranger, ServiceTypes.SessionContextEnd, [], Now, ClientEnvelope.NewNonce()));

        AssertError(reply, 403, "ACCESS_DENIED");
        // Unauthenticated refusals are counted in the r2ps.service.unauthenticated_refusals metric (asserted in
        // R2ps.Service.Tests.ServiceMetricsTests, in process), never written to the audit log: issue 10 item 2.
        Assert.Empty(await cluster.AuditAsync(stranger.ClientId, Ct));
    }

    [Fact]
    public async Task A_request_signed_with_another_key_is_access_denied_and_burns_no_nonce()
    {
        var (wallet, _) = await cluster.RegisteredWalletWithoutPinAsync(Ct);
        var device = wallet.Wallet.Device;
        using var impostorKey = SoftwareEcKey.Generate(EcCurve.P256);
        var nonce = ClientEnvelope.NewNonce();

        var forged = await SendAsync(DeviceEnvelope(device, ServiceTypes.SessionContextEnd, [], Now, nonce, signer: impostorKey));
        AssertError(forged, 403, "ACCESS_DENIED");

        // Nobody can burn another client's nonces (1.1): the owner's request with that nonce is served.
        await AssertServedAsync(device, DeviceEnvelope(device, ServiceTypes.SessionContextEnd, [], Now, nonce), nonce);
    }

    // --- 1.1 steps 1–2, 11: size, JOSE, JSON, base64 --------------------------------------------------------------------

    [Fact]
    public async Task An_oversized_envelope_is_illegal_request_data_and_burns_no_nonce()
    {
        var (wallet, _) = await cluster.RegisteredWalletWithoutPinAsync(Ct);
        var device = wallet.Wallet.Device;
        var nonce = ClientEnvelope.NewNonce();
        // A correctly signed envelope whose data makes it larger than the 64 KiB limit.
        var oversized = DeviceEnvelope(device, ServiceTypes.SessionContextEnd, new byte[48 * 1024], Now, nonce);
        Assert.True(Encoding.UTF8.GetByteCount(oversized) > ProtocolConstants.DefaultMaxEnvelopeBytes);

        var reply = await SendAsync(oversized);
        AssertError(reply, 400, "ILLEGAL_REQUEST_DATA");

        // The size check comes first: nothing of it was read, so its nonce is still unused.
        await AssertServedAsync(device, DeviceEnvelope(device, ServiceTypes.SessionContextEnd, [], Now, nonce), nonce);
    }

    [Theory]
    [InlineData("not a jws")]
    [InlineData("e30.e30.e30")]
    [InlineData("eyJ0eXAiOiJKT1NFIiwiYWxnIjoiRVMyNTYifQ.!!!.AAAA")]
    [InlineData("eyJ0eXAiOiJKT1NFIiwiYWxnIjoiRVMyNTYifQ.eyJ2ZXIiOiIxLjAi.AAAA")]
    public async Task Malformed_jose_base64_or_json_is_illegal_request_data(string envelope)
    {
        // Not JWS; a header other than {"typ":"JOSE","alg":"ES256"}; a payload that is not base64url; truncated JSON.
        var reply = await SendAsync(envelope);
        AssertError(reply, 400, "ILLEGAL_REQUEST_DATA");
    }

    [Fact]
    public async Task A_signed_payload_that_is_not_json_is_illegal_request_data()
    {
        var (wallet, _) = await cluster.RegisteredWalletWithoutPinAsync(Ct);
        var device = wallet.Wallet.Device;
        var reply = await SendAsync(Jws.Sign("{\"ver\":\"1.0\",\"nonce\":"u8, device.Key, Jws.R2psHeaderJson));
        AssertError(reply, 400, "ILLEGAL_REQUEST_DATA");
    }

    [Theory]
    [InlineData("%%%")]
    [InlineData("bm90LmEuandl")] // base64 of "not.a.jwe"
    public async Task Data_that_is_not_base64_of_a_compact_jwe_is_illegal_request_data_and_starts_no_login(string data)
    {
        var (wallet, code) = await cluster.RegisteredWalletWithoutPinAsync(Ct);
        var device = wallet.Wallet.Device;
        var reply = await SendAsync(DeviceEnvelope(device, ServiceTypes.Authenticate, [], Now, ClientEnvelope.NewNonce(), data: data));

        AssertError(reply, 400, "ILLEGAL_REQUEST_DATA");
        Assert.Empty(await Sessions.FindByClientAsync(device.ClientId, device.Kid, Ct));
        // Nothing was charged or consumed: the registration code still works and the first login succeeds.
        await wallet.Wallet.RegisterPinAsync(Pin, code, Ct);
        using var session = await wallet.Wallet.LoginAsync(Pin, cancellationToken: Ct);
    }

    // --- 1.1 step 9: type ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task An_unknown_type_is_unsupported_request_type_and_touches_nothing()
    {
        var (wallet, _) = await cluster.RegisteredWalletWithoutPinAsync(Ct);
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.Wallet.SendDeviceRequestAsync("hsm_rsa_sign", "{}"u8.ToArray(), cancellationToken: Ct));

        Assert.Equal((ErrorCode.UnsupportedRequestType, 415), (error.Code, error.HttpStatus));
        Assert.Empty(await Sessions.FindByClientAsync(wallet.ClientId, wallet.Wallet.Device.Kid, Ct));
        var audit = Assert.Single(await cluster.AuditAsync(wallet.ClientId, Ct));
        Assert.Equal(("hsm_rsa_sign", "UNSUPPORTED_REQUEST_TYPE"), (audit.RequestType, audit.ErrorCode));
    }

    // --- 1.4 / 1.5: OPAQUE steps out of order, late, or with a used code -----------------------------------------------

    [Fact]
    public async Task A_finalize_without_evaluate_is_illegal_state_and_creates_no_session()
    {
        var wallet = await cluster.RegisteredWalletAsync(Pin, Ct);
        var neverIssued = ClientEnvelope.NewNonce(); // 64 lowercase hex, the shape of a pake_session_id
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.Wallet.SendDeviceRequestAsync(ServiceTypes.Authenticate,
            Pake(PakeRequest.Finalize, new byte[OpaqueSizes.Ke3]), neverIssued, Ct));

        Assert.Equal((ErrorCode.IllegalState, 409), (error.Code, error.HttpStatus));
        Assert.Null(await Sessions.FindAsync(neverIssued, Ct));
        Assert.Empty(await Sessions.FindByClientAsync(wallet.ClientId, wallet.Wallet.Device.Kid, Ct));
        using var session = await wallet.Wallet.LoginAsync(Pin, cancellationToken: Ct);
    }

    [Fact]
    public async Task A_finalize_after_the_login_window_is_access_denied_and_the_next_login_succeeds()
    {
        var wallet = await cluster.RegisteredWalletAsync(Pin, Ct);
        var device = wallet.Wallet.Device;
        var opaque = new OpaqueClient(new OpaqueOptions { Context = Encoding.UTF8.GetBytes(ProtocolConstants.OpaqueContext) });
        var password = PinHardening.HardenPin(device.Key, Pin);
        using var login = opaque.GenerateKE1(password);
        CryptographicOperations.ZeroMemory(password);
        var evaluated = R2psJson.Deserialize<PakeResponse>(
            await wallet.Wallet.SendDeviceRequestAsync(ServiceTypes.Authenticate, Pake(PakeRequest.Evaluate, login.Ke1), cancellationToken: Ct), "PAKE response");
        var pakeSessionId = evaluated.PakeSessionId;
        Assert.NotNull(pakeSessionId);
        Assert.NotNull(evaluated.Resp);
        // The right PIN: the KE3 below is valid, so only the window can refuse it.
        using var result = opaque.GenerateKE3(login, Base64Std.Decode(evaluated.Resp),
            Encoding.UTF8.GetBytes(ProtocolConstants.DefaultServerIdentity), Encoding.UTF8.GetBytes(device.ClientId));
        Assert.Equal(SignSessionPhase.PendingLogin, (await Sessions.FindAsync(pakeSessionId, Ct))?.Phase);

        await Task.Delay(WorkerCluster.LoginWindow + TimeSpan.FromMilliseconds(500), Ct);
        var late = await Assert.ThrowsAsync<R2psClientException>(() => wallet.Wallet.SendDeviceRequestAsync(ServiceTypes.Authenticate,
            Pake(PakeRequest.Finalize, result.Ke3), pakeSessionId, Ct));

        Assert.Equal((ErrorCode.AccessDenied, 403), (late.Code, late.HttpStatus));
        Assert.Null(await Sessions.FindAsync(pakeSessionId, Ct));
        using var session = await wallet.Wallet.LoginAsync(Pin, cancellationToken: Ct);
        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_reused_registration_code_is_access_denied_and_the_record_stays()
    {
        var (wallet, code) = await cluster.RegisteredWalletWithoutPinAsync(Ct);
        var device = wallet.Wallet.Device;
        // Two evaluates while the code is pending (both allowed), so a second, different record exists for the replay.
        var first = await RegistrationRecordAsync(wallet.Wallet, Pin);
        var second = await RegistrationRecordAsync(wallet.Wallet, "999999");

        await wallet.Wallet.SendDeviceRequestAsync(ServiceTypes.PinRegistration, Pake(PakeRequest.Finalize, first, code), cancellationToken: Ct);
        var records = cluster.Services.GetRequiredService<IOpaqueRecordStore>();
        Assert.Equal(first, await records.GetAsync(device.ClientId, device.Kid, Ct));

        var reused = await Assert.ThrowsAsync<R2psClientException>(() => wallet.Wallet.SendDeviceRequestAsync(ServiceTypes.PinRegistration,
            Pake(PakeRequest.Finalize, second, code), cancellationToken: Ct));

        Assert.Equal((ErrorCode.AccessDenied, 403), (reused.Code, reused.HttpStatus));
        Assert.Equal(first, await records.GetAsync(device.ClientId, device.Kid, Ct));
        using var session = await wallet.Wallet.LoginAsync(Pin, cancellationToken: Ct);
    }

    // --- 1.4: HSM keys belong to their creator ---------------------------------------------------------------------------

    [Fact]
    public async Task Another_clients_hsm_key_is_access_denied_for_sign_ecdh_and_delete_and_keeps_working_for_its_owner()
    {
        var alice = await cluster.RegisteredWalletAsync(Pin, Ct);
        var mallory = await cluster.RegisteredWalletAsync(Pin, Ct);
        using var aliceSession = await alice.Wallet.LoginAsync(Pin, cancellationToken: Ct);
        using var mallorySession = await mallory.Wallet.LoginAsync(Pin, cancellationToken: Ct);
        await aliceSession.GenerateKeyAsync(EcCurve.P256, Ct);
        var key = Assert.Single(await aliceSession.ListKeysAsync(cancellationToken: Ct));
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var peerSpki = peer.PublicKey.ExportSubjectPublicKeyInfo();
        var hash = SHA256.HashData("not mallory's to sign"u8);

        var sign = await Assert.ThrowsAsync<R2psClientException>(() => mallorySession.SignAsync(key.Kid, hash, Ct));
        var ecdh = await Assert.ThrowsAsync<R2psClientException>(() => mallorySession.EcdhAsync(key.Kid, peerSpki, Ct));
        var delete = await Assert.ThrowsAsync<R2psClientException>(() => mallorySession.DeleteKeyAsync(key.Kid, Ct));

        Assert.All(new[] { sign, ecdh, delete }, e => Assert.Equal((ErrorCode.AccessDenied, 403), (e.Code, e.HttpStatus)));
        Assert.Empty(await mallorySession.ListKeysAsync(cancellationToken: Ct));
        // The key is untouched: still listed in the store for its owner, and it still signs and agrees for her.
        Assert.NotNull(await cluster.Services.GetRequiredService<IHsmKeyStore>().FindAsync(alice.ClientId, key.Kid, Ct));
        var publicKey = EcPublicKey.FromSpki(Base64Std.Decode(key.PublicKey));
        using (var verifier = ECDsa.Create(publicKey.ToDotNet()))
            Assert.True(verifier.VerifyHash(hash, await aliceSession.SignAsync(key.Kid, hash, Ct), DSASignatureFormat.Rfc3279DerSequence));
        using (var owner = ECDiffieHellman.Create(publicKey.ToDotNet()))
            Assert.Equal(peer.DeriveRawSecretAgreement(owner.PublicKey), await aliceSession.EcdhAsync(key.Kid, peerSpki, Ct));
    }

    [Fact]
    public async Task The_per_curve_key_limit_is_unauthorized_and_creates_nothing()
    {
        var wallet = await cluster.RegisteredWalletAsync(Pin, Ct);
        using var session = await wallet.Wallet.LoginAsync(Pin, cancellationToken: Ct);
        for (var i = 0; i < WorkerCluster.MaxKeysPerCurve; i++)
            await session.GenerateKeyAsync(EcCurve.P256, Ct);

        var over = await Assert.ThrowsAsync<R2psClientException>(() => session.GenerateKeyAsync(EcCurve.P256, Ct));

        Assert.Equal((ErrorCode.Unauthorized, 401), (over.Code, over.HttpStatus));
        var stored = await cluster.Services.GetRequiredService<IHsmKeyStore>().ListAsync(wallet.ClientId, null, Ct);
        Assert.Equal(WorkerCluster.MaxKeysPerCurve, stored.Count);
        // The limit is per curve: another curve still works.
        Assert.Equal("P-384", await session.GenerateKeyAsync(EcCurve.P384, Ct));
    }

    // --- 1.5: ended sessions ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_closed_session_is_access_denied_its_saga_row_is_gone_and_its_keys_stay()
    {
        var wallet = await cluster.RegisteredWalletAsync(Pin, Ct);
        using var session = await wallet.Wallet.LoginAsync(Pin, cancellationToken: Ct);
        await session.GenerateKeyAsync(EcCurve.P256, Ct);
        var kid = Assert.Single(await session.ListKeysAsync(cancellationToken: Ct)).Kid;
        await session.CloseAsync(Ct);

        var denied = await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync(kid, new byte[32], Ct));

        Assert.Equal((ErrorCode.AccessDenied, 403), (denied.Code, denied.HttpStatus));
        Assert.Null(await Sessions.FindAsync(session.PakeSessionId, Ct));
        using var next = await wallet.Wallet.LoginAsync(Pin, cancellationToken: Ct);
        Assert.Equal(kid, Assert.Single(await next.ListKeysAsync(cancellationToken: Ct)).Kid);
    }

    [Fact]
    public async Task A_session_past_its_session_duration_is_access_denied_and_the_key_stays()
    {
        var wallet = await cluster.RegisteredWalletAsync(Pin, Ct);
        using var owner = await wallet.Wallet.LoginAsync(Pin, cancellationToken: Ct);
        await owner.GenerateKeyAsync(EcCurve.P256, Ct);
        var kid = Assert.Single(await owner.ListKeysAsync(cancellationToken: Ct)).Kid;

        // The expiry is a whole epoch second (1.4 session_expiration_time), so a 3 s session lives at least 2 s: time for
        // one request on it, even on a loaded machine.
        using var session = await wallet.Wallet.LoginAsync(Pin, duration: ShortSession, cancellationToken: Ct);
        Assert.True(session.ExpiresAt <= DateTimeOffset.UtcNow + ShortSession, $"The session expires at {session.ExpiresAt:O}, later than asked.");
        Assert.NotEmpty(await session.SignAsync(kid, new byte[32], Ct));
        var wait = session.ExpiresAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, Ct);

        var denied = await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync(kid, new byte[32], Ct));

        Assert.Equal((ErrorCode.AccessDenied, 403), (denied.Code, denied.HttpStatus));
        Assert.NotEmpty(await owner.SignAsync(kid, new byte[32], Ct));
    }

    // --- helpers -----------------------------------------------------------------------------------------------------------

    static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    Task<R2psReply> SendAsync(string envelope) => cluster.Client.SendAsync(WorkerCluster.Context, envelope, Ct);

    /// <summary>
    /// A device-mode request built field by field (what <see cref="ClientEnvelope"/> does, but with the nonce, iat, data
    /// and signing key chosen by the test, so it can send what a correct wallet never would).
    /// </summary>
    string DeviceEnvelope(R2psDevice device, string type, byte[] plaintext, long iat, string nonce, IEcPrivateKey? signer = null, string? data = null)
    {
        var payload = new ServiceRequestPayload(ProtocolConstants.Version, nonce, iat, ProtocolConstants.EncDevice,
            data ?? EnvelopeData.Wrap(Jwe.EncryptEcdhEs(plaintext, cluster.ServerKey)), device.ClientId, device.Kid, WorkerCluster.Context, type);
        return Jws.Sign(EnvelopeJson.Serialize(payload), signer ?? device.Key, Jws.R2psHeaderJson);
    }

    /// <summary>Sends a well-formed device request and checks the whole response as a wallet does (signature, nonce echo, "OK").</summary>
    async Task AssertServedAsync(R2psDevice device, string envelope, string nonce)
    {
        var reply = await SendAsync(envelope);
        Assert.True(reply.Status == 200, $"Expected 200, got {reply.Status}: {reply.Body}");
        var sent = new SealedClientRequest(envelope, nonce, ProtocolConstants.EncDevice, EncryptionMode.Device);
        Assert.Equal("OK"u8.ToArray(), ClientEnvelope.OpenDeviceResponse(reply.Body, sent, cluster.ServerKey, device.Key, DateTimeOffset.UtcNow));
    }

    static void AssertError(R2psReply reply, int status, string errorCode)
    {
        var body = JsonDocument.Parse(reply.Body).RootElement;
        Assert.Equal((status, errorCode), (reply.Status, body.GetProperty("error_code").GetString()));
    }

    static byte[] Pake(string state, byte[] req, string? authorization = null) =>
        EnvelopeJson.Serialize(new PakeRequest(PakeRequest.Opaque, state, Base64Std.Encode(req), authorization));

    /// <summary>A pin_registration evaluate through the workers and the record the wallet would upload for <paramref name="pin"/>.</summary>
    static async Task<byte[]> RegistrationRecordAsync(R2psWallet wallet, string pin)
    {
        var opaque = new OpaqueClient(new OpaqueOptions { Context = Encoding.UTF8.GetBytes(ProtocolConstants.OpaqueContext) });
        var password = PinHardening.HardenPin(wallet.Device.Key, pin);
        using var state = opaque.CreateRegistrationRequest(password);
        CryptographicOperations.ZeroMemory(password);
        var evaluated = R2psJson.Deserialize<PakeResponse>(
            await wallet.SendDeviceRequestAsync(ServiceTypes.PinRegistration, Pake(PakeRequest.Evaluate, state.Request), cancellationToken: Ct), "PAKE response");
        Assert.NotNull(evaluated.Resp);
        using var result = opaque.FinalizeRegistrationRequest(state, Base64Std.Decode(evaluated.Resp),
            Encoding.UTF8.GetBytes(ProtocolConstants.DefaultServerIdentity), Encoding.UTF8.GetBytes(wallet.Device.ClientId));
        return [.. result.Record];
    }
}
