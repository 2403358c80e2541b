using System.Text;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Crypto.Opaque;
using R2ps.Crypto.Pin;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;
using R2ps.Service.Ports;
using R2ps.Wallet;

namespace R2ps.Service.Tests;

/// <summary>One test per attack found in the security review of the service core (PROTOCOL.md 1.1–1.5).</summary>
public class AttackRegressionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_registration_evaluate_without_a_pending_code_is_access_denied_and_evaluates_nothing()
    {
        // A stolen device key plus unlimited registration evaluates would be an OPRF oracle for offline PIN guessing.
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("135790");
        var error = await Assert.ThrowsAsync<R2psClientException>(() => SendRegistrationEvaluateAsync(wallet, "000000"));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        Assert.Equal(0, harness.Store.FailuresOf(wallet.Device.ClientId, wallet.Device.Kid));
    }

    [Fact]
    public async Task Registration_evaluates_are_charged_and_stop_at_the_lockout()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("135790");
        // A pending code (a PIN reset in progress) must not open an unlimited oracle either.
        harness.Store.IssueCode(wallet.Device.ClientId, wallet.Device.Kid);
        for (var i = 0; i < 5; i++) await SendRegistrationEvaluateAsync(wallet, "00000" + i);

        var error = await Assert.ThrowsAsync<R2psClientException>(() => SendRegistrationEvaluateAsync(wallet, "000009"));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("135790", cancellationToken: Ct))).Code);
        Assert.True(harness.Store.HasCode(wallet.Device.ClientId, wallet.Device.Kid));
    }

    [Fact]
    public async Task A_successful_registration_resets_the_charged_evaluates()
    {
        using var harness = new ServiceHarness();
        var wallet = harness.NewWallet();
        await wallet.RegisterPinAsync("135790", harness.Store.IssueCode(wallet.Device.ClientId, wallet.Device.Kid), Ct);
        Assert.Equal(0, harness.Store.FailuresOf(wallet.Device.ClientId, wallet.Device.Kid));
    }

    [Fact]
    public async Task Pin_change_evaluates_are_charged_and_stop_at_the_lockout()
    {
        using var harness = new ServiceHarness();
        var (wallet, session) = await harness.LoggedInWalletAsync("135790");
        for (var i = 0; i < 5; i++) await session.SendAsync(ServiceTypes.PinChange, RegistrationEvaluate(wallet, "00000" + i), Ct);

        var error = await Assert.ThrowsAsync<R2psClientException>(() => session.SendAsync(ServiceTypes.PinChange, RegistrationEvaluate(wallet, "000009"), Ct));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        // The login reset the count; the five evaluates were charged, the refused sixth was not.
        Assert.Equal(5, harness.Store.FailuresOf(wallet.Device.ClientId, wallet.Device.Kid));
    }

    [Fact]
    public async Task Parallel_login_evaluates_get_no_more_than_the_lockout_threshold()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("135790");
        var attempts = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            try
            {
                await wallet.SendDeviceRequestAsync(ServiceTypes.Authenticate, LoginEvaluate(wallet, "1000" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture)), cancellationToken: Ct);
                return true;
            }
            catch (R2psClientException ex) when (ex.Code == ErrorCode.AccessDenied)
            {
                return false;
            }
        }, Ct));
        var results = await Task.WhenAll(attempts);
        Assert.Equal(5, results.Count(allowed => allowed));
    }

    [Fact]
    public async Task A_new_pin_that_fails_to_be_stored_leaves_no_old_session_alive()
    {
        using var harness = new ServiceHarness();
        var (wallet, other) = await harness.LoggedInWalletAsync("111111");
        using var session = await wallet.LoginAsync("111111", cancellationToken: Ct);
        var record = harness.Store.RecordOf(wallet.Device.ClientId, wallet.Device.Kid);
        harness.Store.BeforePut = _ => throw new InvalidOperationException("Simulated store outage.");

        Assert.Equal(ErrorCode.ServerError, (await Assert.ThrowsAsync<R2psClientException>(() => session.ChangePinAsync("222222", Ct))).Code);
        // Sessions ended first: the old PIN stays, but no session of the old PIN survives the attempt.
        Assert.Equal(record, harness.Store.RecordOf(wallet.Device.ClientId, wallet.Device.Kid));
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => other.ListKeysAsync(cancellationToken: Ct))).Code);
    }

    [Fact]
    public async Task A_caller_giving_up_after_the_sessions_ended_still_gets_the_whole_new_pin()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("111111");
        using var cancel = new CancellationTokenSource();
        var cancelling = new InProcessTransport(async (jws, _) =>
        {
            var reply = await harness.Processor.ProcessAsync(jws, cancel.Token);
            return new TransportReply(reply.Status, reply.Body);
        });
        var client = harness.WalletFor(wallet.Device, transport: cancelling);
        using var session = await client.LoginAsync("111111", cancellationToken: Ct);
        harness.Sessions.AfterEndClientSessions = cancel.Cancel;
        harness.Store.BeforeReset = ct => Assert.False(ct.CanBeCanceled);

        // The caller's token is cancelled right after the first state change; the record and the reset still happen.
        await session.ChangePinAsync("222222", Ct);
        harness.Sessions.AfterEndClientSessions = null;
        using var again = await wallet.LoginAsync("222222", cancellationToken: Ct);
    }

    [Fact]
    public async Task A_login_evaluated_on_the_old_record_during_a_pin_change_cannot_finalize_afterwards()
    {
        // PROTOCOL.md 1.5: a session ends on a new PIN. An authenticate evaluate that read the OLD record after the
        // change ended the key's sessions, but before the new record was stored, must not finalize into a session.
        using var harness = new ServiceHarness();
        var (wallet, session) = await harness.LoggedInWalletAsync("111111");
        var password = PinHardening.HardenPin(wallet.Device.Key, "111111");
        var client = new OpaqueClient(new OpaqueOptions { Context = Encoding.UTF8.GetBytes(wallet.Options.OpaqueContext) });
        using var login = client.GenerateKE1(password);
        string? pakeSessionId = null;
        byte[]? ke2 = null;
        harness.Store.BeforePut = _ =>
        {
            harness.Store.BeforePut = null;
            var evaluated = R2psJson.Deserialize<PakeResponse>(wallet.SendDeviceRequestAsync(ServiceTypes.Authenticate,
                PakeJson(PakeRequest.Evaluate, login.Ke1), cancellationToken: Ct).GetAwaiter().GetResult(), "PAKE response");
            pakeSessionId = evaluated.PakeSessionId;
            ke2 = Base64Std.Decode(evaluated.Resp!);
        };

        await session.ChangePinAsync("222222", Ct);

        Assert.NotNull(pakeSessionId);
        Assert.Null(harness.Sessions.Get(pakeSessionId)); // ended after the new record was stored
        Assert.Contains((pakeSessionId, SessionEndReasons.PinChanged), harness.Sessions.Ended);
        // The old PIN's KE3 is right for the KE2 it got, but there is no pending login left to activate.
        using var finish = client.GenerateKE3(login, ke2!, Encoding.UTF8.GetBytes(wallet.Options.ServerIdentity),
            Encoding.UTF8.GetBytes(wallet.Device.ClientId));
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.SendDeviceRequestAsync(
            ServiceTypes.Authenticate, PakeJson(PakeRequest.Finalize, finish.Ke3), pakeSessionId, Ct));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        using var again = await wallet.LoginAsync("222222", cancellationToken: Ct);
    }

    [Fact]
    public async Task A_login_that_fails_to_activate_keeps_its_attempt_charged()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("135790");
        // The login window closes between the KE3 check and the activation: no session, so no reset either.
        harness.Sessions.BeforeActivate = () => harness.Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("135790", cancellationToken: Ct))).Code);
        Assert.Equal(1, harness.Store.FailuresOf(wallet.Device.ClientId, wallet.Device.Kid));
    }

    [Fact]
    public async Task A_finalize_after_the_pending_login_was_swept_is_access_denied_like_an_unswept_one()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("135790");
        var evaluated = R2psJson.Deserialize<PakeResponse>(
            await wallet.SendDeviceRequestAsync(ServiceTypes.Authenticate, LoginEvaluate(wallet, "135790"), cancellationToken: Ct), "PAKE response");
        var pakeSessionId = evaluated.PakeSessionId!;
        harness.Time.Advance(TimeSpan.FromSeconds(10));
        await harness.Sessions.CloseAsync(pakeSessionId, "login-expired", Ct); // the sweeper removed it

        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.SendDeviceRequestAsync(
            ServiceTypes.Authenticate, PakeJson(PakeRequest.Finalize, new byte[OpaqueSizes.Ke3]), pakeSessionId, Ct));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
    }

    [Fact]
    public async Task An_identifier_longer_than_the_store_accepts_is_illegal_request_data_not_server_error()
    {
        using var harness = new ServiceHarness();
        using var device = new R2psDevice(new string('c', EnvelopeRules.MaxIdentifierLength + 1), "k1", SoftwareEcKey.Generate(EcCurve.P256));
        var error = await Assert.ThrowsAsync<R2psClientException>(() => harness.WalletFor(device).EndContextAsync(Ct));
        Assert.Equal(ErrorCode.IllegalRequestData, error.Code);
        Assert.Equal(256, EnvelopeRules.MaxIdentifierLength);
    }

    [Theory]
    [InlineData("")]
    [InlineData("02")]
    [InlineData("046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296")] // uncompressed prefix
    [InlineData("036B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296")] // uppercase hex
    [InlineData("036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2")] // 32 bytes
    public async Task An_hsm_kid_that_is_not_a_compressed_point_is_illegal_request_data(string kid)
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        Assert.Equal(ErrorCode.IllegalRequestData, (await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync(kid, new byte[32], Ct))).Code);
        Assert.Equal(ErrorCode.IllegalRequestData, (await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync(new string('a', 300), new byte[32], Ct))).Code);
    }

    [Fact]
    public async Task Parallel_keygens_never_pass_the_per_curve_limit_and_leave_no_orphan_key()
    {
        using var harness = new ServiceHarness(new R2psServiceOptions { MaxKeysPerCurve = 2 });
        var (_, session) = await harness.LoggedInWalletAsync();
        var keygens = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            try
            {
                await session.GenerateKeyAsync(EcCurve.P256, Ct);
                return true;
            }
            catch (R2psClientException ex) when (ex.Code == ErrorCode.Unauthorized)
            {
                return false;
            }
        }, Ct));
        var results = await Task.WhenAll(keygens);
        Assert.Equal(2, results.Count(created => created));
        Assert.Equal(2, harness.Store.KeyCount);
        Assert.Equal(2, harness.Hsm.KeyCount);
    }

    [Fact]
    public async Task A_device_session_end_with_white_space_around_the_id_is_illegal_request_data()
    {
        using var harness = new ServiceHarness();
        var (wallet, session) = await harness.LoggedInWalletAsync();
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.SendDeviceRequestAsync(
            ServiceTypes.SessionEnd, Encoding.ASCII.GetBytes(" " + session.PakeSessionId + "\n"), cancellationToken: Ct));
        Assert.Equal(ErrorCode.IllegalRequestData, error.Code);
        await session.ListKeysAsync(cancellationToken: Ct);
    }

    [Fact]
    public void Sealing_aad_length_prefixes_count_utf8_bytes()
    {
        // "é" is one character but two UTF-8 bytes: the prefix must say 2.
        var aad = Encoding.UTF8.GetString(Sealing.SessionKeyAad("é", "c", "k", "x"));
        Assert.Equal("19:r2ps/session-key/v1;2:é;1:c;1:k;1:x;", aad);
    }

    private static async Task SendRegistrationEvaluateAsync(R2psWallet wallet, string pin) =>
        await wallet.SendDeviceRequestAsync(ServiceTypes.PinRegistration, RegistrationEvaluate(wallet, pin), cancellationToken: Ct);

    private static byte[] RegistrationEvaluate(R2psWallet wallet, string pin)
    {
        var password = PinHardening.HardenPin(wallet.Device.Key, pin);
        using var state = new OpaqueClient().CreateRegistrationRequest(password);
        return PakeJson(PakeRequest.Evaluate, state.Request);
    }

    private static byte[] LoginEvaluate(R2psWallet wallet, string pin)
    {
        var password = PinHardening.HardenPin(wallet.Device.Key, pin);
        using var login = new OpaqueClient().GenerateKE1(password);
        return PakeJson(PakeRequest.Evaluate, login.Ke1);
    }

    private static byte[] PakeJson(string state, byte[] req) =>
        EnvelopeJson.Serialize(new PakeRequest(PakeRequest.Opaque, state, Base64Std.Encode(req)));
}
