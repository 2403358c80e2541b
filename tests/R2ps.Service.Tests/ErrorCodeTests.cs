using System.Security.Cryptography;
using System.Text;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Crypto.Opaque;
using R2ps.Crypto.Pin;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;
using R2ps.Service.Tests.Fakes;
using R2ps.Wallet;
using Microsoft.Extensions.Time.Testing;

namespace R2ps.Service.Tests;

/// <summary>Every error code of PROTOCOL.md 1.2, reached through the pipeline of 1.1, with nothing half-written.</summary>
public class ErrorCodeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Five_wrong_pins_lock_the_key_and_it_stays_locked_even_for_the_right_pin()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("135790");
        for (var attempt = 1; attempt <= 5; attempt++)
            Assert.Equal(ErrorCode.Unauthorized, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("000000", cancellationToken: Ct))).Code);

        var locked = await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("135790", cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, locked.Code);
        Assert.Equal(403, locked.HttpStatus);
        harness.Time.Advance(TimeSpan.FromMinutes(14));
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("135790", cancellationToken: Ct))).Code);
        Assert.Equal(0, harness.Sessions.Count);

        // After the lockout (15 min by default) the right PIN works again.
        harness.Time.Advance(TimeSpan.FromMinutes(2));
        using var session = await wallet.LoginAsync("135790", cancellationToken: Ct);
    }

    [Fact]
    public async Task A_pin_guessed_from_ke2_without_a_finalize_is_still_counted()
    {
        using var harness = new ServiceHarness(maxLoginFailures: 2);
        var wallet = await harness.RegisteredWalletAsync("135790");
        // Two evaluates whose finalize never comes: KE2 alone tells a client whether its guess was right.
        var opaque = new OpaqueClient();
        for (var i = 0; i < 2; i++)
        {
            var password = PinHardening.HardenPin(wallet.Device.Key, "00000" + i);
            using var login = opaque.GenerateKE1(password);
            await wallet.SendDeviceRequestAsync(ServiceTypes.Authenticate, PakeJson(PakeRequest.Evaluate, login.Ke1), cancellationToken: Ct);
        }
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("135790", cancellationToken: Ct))).Code);
    }

    [Fact]
    public async Task A_replayed_envelope_is_access_denied()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        await session.ListKeysAsync(cancellationToken: Ct);
        var replay = await harness.SendRawAsync(harness.Sent.Last());
        Assert.Equal(403, replay.Status);
        Assert.Equal("ACCESS_DENIED", ServiceHarness.ReadError(replay).ErrorCode);
    }

    [Theory]
    [InlineData(-31)]
    [InlineData(6)]
    public async Task A_stale_or_future_iat_is_access_denied_and_burns_no_nonce(int skewSeconds)
    {
        using var harness = new ServiceHarness();
        var skewed = new FakeTimeProvider(harness.Time.GetUtcNow() + TimeSpan.FromSeconds(skewSeconds));
        var wallet = harness.NewWallet(walletTime: skewed);
        var nonces = harness.Store.NonceCount;
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.EndContextAsync(Ct));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        Assert.Equal(nonces, harness.Store.NonceCount);
    }

    [Theory]
    [InlineData(-30)]
    [InlineData(5)]
    public async Task An_iat_at_the_edge_of_the_window_is_accepted(int skewSeconds)
    {
        using var harness = new ServiceHarness();
        var device = harness.NewWallet().Device;
        var sent = ClientEnvelope.BuildDeviceRequest(new ClientRequest(device.ClientId, device.Kid, ServiceHarness.Context, ServiceTypes.SessionContextEnd),
            [], device.Key, harness.ServerKey.PublicKey, harness.Time.GetUtcNow() + TimeSpan.FromSeconds(skewSeconds));
        var reply = await harness.SendRawAsync(sent.Jws);
        Assert.Equal(200, reply.Status);
    }

    [Fact]
    public async Task An_unknown_or_revoked_client_is_access_denied()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync();
        harness.Store.Revoke(wallet.Device.ClientId, wallet.Device.Kid);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("123456", cancellationToken: Ct))).Code);

        using var stranger = new R2psDevice("never-registered", "k1", SoftwareEcKey.Generate(EcCurve.P256));
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => harness.WalletFor(stranger).EndContextAsync(Ct))).Code);
        // Only the two registration requests recorded nonces.
        Assert.Equal(2, harness.Store.NonceCount);
    }

    [Fact]
    public async Task A_context_not_registered_for_the_key_is_access_denied()
    {
        using var harness = new ServiceHarness();
        var device = harness.NewWallet(contexts: ["hsm"]).Device;
        var error = await Assert.ThrowsAsync<R2psClientException>(() => harness.WalletFor(device, context: "signing").EndContextAsync(Ct));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
    }

    [Fact]
    public async Task A_request_signed_with_another_key_is_access_denied_and_burns_no_nonce()
    {
        using var harness = new ServiceHarness();
        var device = harness.NewWallet().Device;
        using var impostor = new R2psDevice(device.ClientId, device.Kid, SoftwareEcKey.Generate(EcCurve.P256));
        var error = await Assert.ThrowsAsync<R2psClientException>(() => harness.WalletFor(impostor).EndContextAsync(Ct));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        Assert.Equal(0, harness.Store.NonceCount);
    }

    [Fact]
    public async Task Another_clients_key_is_access_denied_and_never_listed()
    {
        using var harness = new ServiceHarness();
        var alice = await harness.RegisteredWalletAsync();
        var mallory = await harness.RegisteredWalletAsync();
        using var aliceSession = await alice.LoginAsync("123456", cancellationToken: Ct);
        using var mallorySession = await mallory.LoginAsync("123456", cancellationToken: Ct);
        await aliceSession.GenerateKeyAsync(EcCurve.P256, Ct);
        var kid = (await aliceSession.ListKeysAsync(cancellationToken: Ct)).Single().Kid;

        Assert.Empty(await mallorySession.ListKeysAsync(cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => mallorySession.SignAsync(kid, new byte[32], Ct))).Code);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => mallorySession.DeleteKeyAsync(kid, Ct))).Code);
        Assert.Single(await aliceSession.ListKeysAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Another_clients_session_is_access_denied()
    {
        using var harness = new ServiceHarness();
        var alice = await harness.RegisteredWalletAsync();
        var mallory = await harness.RegisteredWalletAsync();
        using var aliceSession = await alice.LoginAsync("123456", cancellationToken: Ct);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => mallory.EndSessionAsync(aliceSession.PakeSessionId, Ct))).Code);
        Assert.Empty(await aliceSession.ListKeysAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_session_past_its_ttl_is_access_denied()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync(task: "sign");
        await session.ListKeysAsync(cancellationToken: Ct);
        harness.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => session.ListKeysAsync(cancellationToken: Ct))).Code);
    }

    [Fact]
    public async Task A_finalize_after_the_login_window_is_access_denied()
    {
        using var harness = new ServiceHarness();
        var device = (await harness.RegisteredWalletAsync()).Device;
        var calls = 0;
        var slow = new InProcessTransport(async (jws, ct) =>
        {
            var reply = await harness.Transport.SendAsync(jws, ct);
            if (++calls == 1) harness.Time.Advance(TimeSpan.FromSeconds(10));
            return reply;
        });
        var error = await Assert.ThrowsAsync<R2psClientException>(() => harness.WalletFor(device, transport: slow).LoginAsync("123456", cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        Assert.Equal(0, harness.Sessions.Count);
    }

    [Fact]
    public async Task A_finalize_without_evaluate_is_illegal_state()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync();
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.SendDeviceRequestAsync(
            ServiceTypes.Authenticate, PakeJson(PakeRequest.Finalize, new byte[32]), ClientEnvelope.NewNonce(), Ct));
        Assert.Equal(ErrorCode.IllegalState, error.Code);
        Assert.Equal(409, error.HttpStatus);
    }

    [Fact]
    public async Task A_reused_registration_code_is_access_denied_and_the_record_stays()
    {
        using var harness = new ServiceHarness();
        var wallet = harness.NewWallet();
        var code = harness.Store.IssueCode(wallet.Device.ClientId, wallet.Device.Kid);
        await wallet.RegisterPinAsync("111111", code, Ct);
        var record = harness.Store.RecordOf(wallet.Device.ClientId, wallet.Device.Kid);

        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.RegisterPinAsync("222222", code, Ct))).Code);
        Assert.Equal(record, harness.Store.RecordOf(wallet.Device.ClientId, wallet.Device.Kid));
        using var session = await wallet.LoginAsync("111111", cancellationToken: Ct);
    }

    [Fact]
    public async Task A_wrong_registration_code_consumes_the_right_one()
    {
        using var harness = new ServiceHarness();
        var wallet = harness.NewWallet();
        var code = harness.Store.IssueCode(wallet.Device.ClientId, wallet.Device.Kid);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.RegisterPinAsync("111111", Base64Std.Encode(new byte[16]), Ct))).Code);
        Assert.False(harness.Store.HasCode(wallet.Device.ClientId, wallet.Device.Kid));
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.RegisterPinAsync("111111", code, Ct))).Code);
        Assert.Null(harness.Store.RecordOf(wallet.Device.ClientId, wallet.Device.Kid));
    }

    [Fact]
    public async Task An_unknown_type_is_unsupported_request_type()
    {
        using var harness = new ServiceHarness();
        var wallet = harness.NewWallet();
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.SendDeviceRequestAsync("hsm_rsa_sign", "{}"u8.ToArray(), cancellationToken: Ct));
        Assert.Equal(ErrorCode.UnsupportedRequestType, error.Code);
        Assert.Equal(415, error.HttpStatus);
    }

    [Theory]
    [InlineData("not a jws")]
    [InlineData("e30.e30.e30")]
    [InlineData("eyJ0eXAiOiJKT1NFIiwiYWxnIjoiRVMyNTYifQ.!!!.AAAA")]
    public async Task Malformed_jose_or_base64_is_illegal_request_data(string envelope)
    {
        using var harness = new ServiceHarness();
        var reply = await harness.SendRawAsync(envelope);
        Assert.Equal(400, reply.Status);
        Assert.Equal("ILLEGAL_REQUEST_DATA", ServiceHarness.ReadError(reply).ErrorCode);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"ver\":\"1.0\"}")]
    [InlineData("{\"ver\":\"1.0\",\"nonce\":\"short\",\"iat\":1,\"enc\":\"device\",\"data\":\"AA==\",\"client_id\":\"c\",\"kid\":\"k\",\"context\":\"hsm\",\"type\":\"authenticate\"}")]
    public async Task A_payload_of_the_wrong_shape_is_illegal_request_data(string payload)
    {
        using var harness = new ServiceHarness();
        var device = harness.NewWallet().Device;
        var reply = await harness.SendRawAsync(Jws.Sign(Encoding.UTF8.GetBytes(payload), device.Key, Jws.R2psHeaderJson));
        Assert.Equal("ILLEGAL_REQUEST_DATA", ServiceHarness.ReadError(reply).ErrorCode);
    }

    [Fact]
    public async Task A_header_other_than_typ_jose_es256_is_illegal_request_data()
    {
        using var harness = new ServiceHarness();
        var device = harness.NewWallet().Device;
        var payload = RequestPayload(harness, device, "AA==", ServiceTypes.SessionContextEnd);
        var reply = await harness.SendRawAsync(Jws.Sign(payload, device.Key, """{"alg":"ES256","typ":"JOSE","kid":"x"}"""));
        Assert.Equal("ILLEGAL_REQUEST_DATA", ServiceHarness.ReadError(reply).ErrorCode);
    }

    [Fact]
    public async Task Data_that_is_not_base64_of_a_jwe_is_illegal_request_data_after_the_signature()
    {
        using var harness = new ServiceHarness();
        var device = harness.NewWallet().Device;
        var reply = await harness.SendRawAsync(Jws.Sign(RequestPayload(harness, device, "%%%", ServiceTypes.SessionContextEnd), device.Key, Jws.R2psHeaderJson));
        Assert.Equal("ILLEGAL_REQUEST_DATA", ServiceHarness.ReadError(reply).ErrorCode);
        Assert.Equal(1, harness.Store.NonceCount);
    }

    [Fact]
    public async Task A_version_other_than_1_0_is_illegal_request_data()
    {
        using var harness = new ServiceHarness();
        var device = harness.NewWallet().Device;
        var payload = Encoding.UTF8.GetString(RequestPayload(harness, device, "AA==", ServiceTypes.SessionContextEnd)).Replace("\"1.0\"", "\"2.0\"", StringComparison.Ordinal);
        var reply = await harness.SendRawAsync(Jws.Sign(Encoding.UTF8.GetBytes(payload), device.Key, Jws.R2psHeaderJson));
        Assert.Equal("ILLEGAL_REQUEST_DATA", ServiceHarness.ReadError(reply).ErrorCode);
    }

    [Fact]
    public async Task An_oversized_envelope_is_illegal_request_data_before_anything_is_parsed()
    {
        using var harness = new ServiceHarness();
        var reply = await harness.SendRawAsync(new string('A', 64 * 1024 + 1));
        Assert.Equal(400, reply.Status);
        Assert.Contains("65536", ServiceHarness.ReadError(reply).ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hash_of_the_wrong_length_is_illegal_request_data()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        await session.GenerateKeyAsync(EcCurve.P256, Ct);
        var kid = (await session.ListKeysAsync(cancellationToken: Ct)).Single().Kid;
        Assert.Equal(ErrorCode.IllegalRequestData, (await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync(kid, new byte[20], Ct))).Code);
    }

    [Fact]
    public async Task The_per_curve_key_limit_is_unauthorized_and_creates_nothing()
    {
        using var harness = new ServiceHarness(new R2psServiceOptions { MaxKeysPerCurve = 1 });
        var (_, session) = await harness.LoggedInWalletAsync();
        await session.GenerateKeyAsync(EcCurve.P256, Ct);
        Assert.Equal(ErrorCode.Unauthorized, (await Assert.ThrowsAsync<R2psClientException>(() => session.GenerateKeyAsync(EcCurve.P256, Ct))).Code);
        await session.GenerateKeyAsync(EcCurve.P384, Ct);
        Assert.Equal(2, harness.Hsm.KeyCount);
        Assert.Equal(2, harness.Store.KeyCount);
    }

    [Fact]
    public async Task A_pin_change_on_an_old_session_is_illegal_state_and_keeps_the_pin()
    {
        using var harness = new ServiceHarness();
        var (wallet, session) = await harness.LoggedInWalletAsync("111111");
        harness.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(ErrorCode.IllegalState, (await Assert.ThrowsAsync<R2psClientException>(() => session.ChangePinAsync("222222", Ct))).Code);
        using var again = await wallet.LoginAsync("111111", cancellationToken: Ct);
    }

    [Fact]
    public async Task An_hsm_failure_is_server_error_with_a_generic_message()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        await session.GenerateKeyAsync(EcCurve.P256, Ct);
        var kid = (await session.ListKeysAsync(cancellationToken: Ct)).Single().Kid;
        harness.Hsm.FailNextSign = true;
        var error = await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync(kid, new byte[32], Ct));
        Assert.Equal(ErrorCode.ServerError, error.Code);
        Assert.Equal(500, error.HttpStatus);
        Assert.DoesNotContain("Simulated", error.Message, StringComparison.Ordinal);
        Assert.Equal("SERVER_ERROR", harness.Store.AuditRecords.Last().Outcome);
    }

    [Fact]
    public async Task A_database_that_is_down_is_service_unavailable_with_a_generic_message()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync("111111");
        harness.Store.BeforePut = _ => throw new SimulatedDatabaseFailure(transient: true);

        var error = await Assert.ThrowsAsync<R2psClientException>(() => session.ChangePinAsync("222222", Ct));

        Assert.Equal(ErrorCode.ServiceUnavailable, error.Code);
        Assert.Equal(503, error.HttpStatus);
        Assert.DoesNotContain("Simulated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_database_failure_that_is_not_transient_stays_server_error()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync("111111");
        harness.Store.BeforePut = _ => throw new SimulatedDatabaseFailure(transient: false);

        var error = await Assert.ThrowsAsync<R2psClientException>(() => session.ChangePinAsync("222222", Ct));

        Assert.Equal(ErrorCode.ServerError, error.Code);
        Assert.DoesNotContain("Simulated", error.Message, StringComparison.Ordinal);
    }

    /// <summary>What Npgsql throws for a refused connection (IsTransient) or, not transient, a failed constraint.</summary>
    sealed class SimulatedDatabaseFailure(bool transient) : System.Data.Common.DbException("Simulated database failure.")
    {
        public override bool IsTransient => transient;
    }

    [Fact]
    public async Task A_cancelled_request_is_service_unavailable()
    {
        using var harness = new ServiceHarness();
        var wallet = harness.NewWallet();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var processorTransport = new InProcessTransport(async (jws, _) =>
        {
            var reply = await harness.Processor.ProcessAsync(jws, cancelled.Token);
            return new TransportReply(reply.Status, reply.Body);
        });
        var error = await Assert.ThrowsAsync<R2psClientException>(() => harness.WalletFor(wallet.Device, transport: processorTransport).EndContextAsync(Ct));
        Assert.Equal(ErrorCode.ServiceUnavailable, error.Code);
    }

    private static byte[] PakeJson(string state, byte[] req) =>
        EnvelopeJson.Serialize(new PakeRequest(PakeRequest.Opaque, state, Base64Std.Encode(req)));

    private static byte[] RequestPayload(ServiceHarness harness, R2psDevice device, string data, string type) =>
        EnvelopeJson.Serialize(new ServiceRequestPayload(ProtocolConstants.Version, ClientEnvelope.NewNonce(), harness.Time.GetUtcNow().ToUnixTimeSeconds(),
            ProtocolConstants.EncDevice, data, device.ClientId, device.Kid, ServiceHarness.Context, type));
}
