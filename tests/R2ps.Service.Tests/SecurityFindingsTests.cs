using System.Text;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Opaque;
using R2ps.Crypto.Pin;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;
using R2ps.Service.Ports;
using R2ps.Wallet;

namespace R2ps.Service.Tests;

/// <summary>Regressions for the security findings of issue 10 (PROTOCOL.md 1.2, 1.5), one or more per finding.</summary>
public class SecurityFindingsTests
{
    private const string SharedKid = "wallet-hsm-key-1";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // ---- Finding 1: the credential identifier is (client_id, kid), not kid alone ----

    [Fact]
    public void The_credential_identifier_is_the_length_prefixed_client_id_then_the_length_prefixed_kid()
    {
        // PROTOCOL.md 1.5: I2OSP(len(client_id),2) ‖ client_id ‖ I2OSP(len(kid),2) ‖ kid, lengths in UTF-8 bytes.
        Assert.Equal("0003616263" + "0003c3a978", Hex.Encode(CredentialIdentifier.For("abc", "éx")));
        // The prefixes keep the split unambiguous: ("ab","c") and ("a","bc") differ.
        Assert.NotEqual(CredentialIdentifier.For("ab", "c"), CredentialIdentifier.For("a", "bc"));
    }

    [Fact]
    public async Task Two_clients_with_the_same_kid_get_different_oprf_evaluations_of_the_same_blinded_element()
    {
        using var harness = new ServiceHarness();
        var alice = harness.NewWallet(kid: SharedKid);
        var bob = harness.NewWallet(kid: SharedKid);
        harness.Store.IssueCode(alice.Device.ClientId, SharedKid);
        harness.Store.IssueCode(bob.Device.ClientId, SharedKid);
        var blinded = RegistrationRequest(alice, "135790");

        var forAlice = await RegistrationEvaluateAsync(alice, blinded);
        var forBob = await RegistrationEvaluateAsync(bob, blinded);

        Assert.NotEqual(Hex.Encode(forAlice.AsSpan(0, OpaqueSizes.Element)), Hex.Encode(forBob.AsSpan(0, OpaqueSizes.Element)));
    }

    [Fact]
    public async Task A_client_holding_another_clients_device_key_and_kid_gets_no_oracle_for_its_pin_and_the_victims_lockout_counts()
    {
        // The attack of the finding: Mallory stole Alice's device key and has her own account (own client_id, own PIN)
        // registered with that key under the same kid. Under a kid-only identifier, Mallory's pin_change evaluates ran
        // under Alice's OPRF key, and Mallory's own logins reset Mallory's count: an unlimited offline-guessing oracle.
        using var harness = new ServiceHarness();
        var alice = await harness.RegisteredWalletAsync("135790", kid: SharedKid);
        var stolenKey = alice.Device.Key;
        using var malloryDevice = new R2psDevice("https://example.com/wallet/mallory", SharedKid, CopyOf(stolenKey));
        harness.Store.Register(malloryDevice.ClientId, SharedKid, malloryDevice.PublicKey, ServiceHarness.Context);
        var mallory = harness.WalletFor(malloryDevice);
        await mallory.RegisterPinAsync("000000", harness.Store.IssueCode(malloryDevice.ClientId, SharedKid), Ct);
        // Mallory impersonates Alice once (she holds the key): one charged evaluate gives her Alice's KE2 for a guess.
        using var aliceDevice = new R2psDevice(alice.Device.ClientId, SharedKid, CopyOf(stolenKey));
        var aliceAsMallory = harness.WalletFor(aliceDevice);
        var password = PinHardening.HardenPin(stolenKey, "111111");
        using var login = new OpaqueClient().GenerateKE1(password);
        var aliceKe2 = Base64Std.Decode(R2psJson.Deserialize<PakeResponse>(await aliceAsMallory.SendDeviceRequestAsync(
            ServiceTypes.Authenticate, PakeJson(PakeRequest.Evaluate, login.Ke1), cancellationToken: Ct), "PAKE response").Resp!);

        // Then guesses through her own account, logging in again whenever her own count nears the limit.
        var blinded = login.Ke1.AsSpan(0, OpaqueSizes.Element).ToArray();
        for (var round = 0; round < 3; round++)
        {
            using var session = await mallory.LoginAsync("000000", cancellationToken: Ct);
            var resp = R2psJson.Deserialize<PakeResponse>(await session.SendAsync(ServiceTypes.PinChange, PakeJson(PakeRequest.Evaluate, blinded), Ct), "PAKE response");
            var evaluated = Base64Std.Decode(resp.Resp!).AsSpan(0, OpaqueSizes.Element);
            // Her account evaluates under her own OPRF key, never Alice's: no oracle for Alice's PIN.
            Assert.NotEqual(Hex.Encode(aliceKe2.AsSpan(0, OpaqueSizes.Element)), Hex.Encode(evaluated));
        }

        // Guesses that do test Alice's PIN go through Alice's account and count there, whatever Mallory's logins reset.
        Assert.Equal(1, harness.Store.FailuresOf(alice.Device.ClientId, SharedKid));
        for (var i = 0; i < 4; i++)
        {
            await aliceAsMallory.SendDeviceRequestAsync(ServiceTypes.Authenticate, LoginEvaluate(stolenKey, "22222" + i), cancellationToken: Ct);
            using var again = await mallory.LoginAsync("000000", cancellationToken: Ct);
        }
        var locked = await Assert.ThrowsAsync<R2psClientException>(() => aliceAsMallory.SendDeviceRequestAsync(
            ServiceTypes.Authenticate, LoginEvaluate(stolenKey, "135790"), cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, locked.Code);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => alice.LoginAsync("135790", cancellationToken: Ct))).Code);
    }

    // ---- Finding 5: reaching the lock through evaluates ends the client's sessions ----

    [Fact]
    public async Task Reaching_the_lock_through_login_evaluates_ends_the_clients_sessions()
    {
        using var harness = new ServiceHarness();
        var (wallet, session) = await harness.LoggedInWalletAsync("135790");
        // Five evaluates with wrong PINs, never finalized: the fifth reaches the lock.
        for (var i = 0; i < 5; i++)
            await wallet.SendDeviceRequestAsync(ServiceTypes.Authenticate, LoginEvaluate(wallet.Device.Key, "00000" + i), cancellationToken: Ct);

        Assert.Contains((session.PakeSessionId, SessionEndReasons.LockedOut), harness.Sessions.Ended);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => session.ListKeysAsync(cancellationToken: Ct))).Code);
    }

    [Fact]
    public async Task Reaching_the_lock_through_pin_change_evaluates_ends_the_clients_other_sessions()
    {
        using var harness = new ServiceHarness();
        var (wallet, other) = await harness.LoggedInWalletAsync("135790");
        using var session = await wallet.LoginAsync("135790", cancellationToken: Ct);
        for (var i = 0; i < 5; i++)
            await session.SendAsync(ServiceTypes.PinChange, PakeJson(PakeRequest.Evaluate, RegistrationRequest(wallet, "00000" + i)), Ct);

        Assert.Contains((other.PakeSessionId, SessionEndReasons.LockedOut), harness.Sessions.Ended);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => other.ListKeysAsync(cancellationToken: Ct))).Code);
    }

    // ---- Finding 6: pin_change finalize needs its evaluate ----

    [Fact]
    public async Task A_pin_change_finalize_without_its_evaluate_is_illegal_state_and_keeps_the_old_pin()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("135790");
        var record = harness.Store.RecordOf(wallet.Device.ClientId, wallet.Device.Kid);
        using var session = await wallet.LoginAsync("135790", cancellationToken: Ct);

        // A well-formed record, but the session never ran a pin_change evaluate.
        var error = await Assert.ThrowsAsync<R2psClientException>(() => session.SendAsync(ServiceTypes.PinChange, PakeJson(PakeRequest.Finalize, record!), Ct));

        Assert.Equal(ErrorCode.IllegalState, error.Code);
        Assert.Equal(record, harness.Store.RecordOf(wallet.Device.ClientId, wallet.Device.Kid));
        await session.ListKeysAsync(cancellationToken: Ct);
    }

    [Fact]
    public async Task A_pin_change_evaluate_in_one_session_does_not_allow_a_finalize_in_another()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("135790");
        var record = harness.Store.RecordOf(wallet.Device.ClientId, wallet.Device.Kid);
        using var evaluating = await wallet.LoginAsync("135790", cancellationToken: Ct);
        using var finalizing = await wallet.LoginAsync("135790", cancellationToken: Ct);
        await evaluating.SendAsync(ServiceTypes.PinChange, PakeJson(PakeRequest.Evaluate, RegistrationRequest(wallet, "246802")), Ct);

        var error = await Assert.ThrowsAsync<R2psClientException>(() => finalizing.SendAsync(ServiceTypes.PinChange, PakeJson(PakeRequest.Finalize, record!), Ct));
        Assert.Equal(ErrorCode.IllegalState, error.Code);
    }

    [Fact]
    public async Task A_pin_change_with_its_evaluate_still_sets_the_new_pin()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("135790");
        using (var session = await wallet.LoginAsync("135790", cancellationToken: Ct))
            await session.ChangePinAsync("246802", Ct);
        using var again = await wallet.LoginAsync("246802", cancellationToken: Ct);
    }

    // ---- Finding 7: a login evaluated on the old record cannot finalize after a new PIN ----

    [Fact]
    public async Task A_login_that_read_the_old_record_cannot_finalize_after_the_new_pin_was_stored()
    {
        // The window the session ends cannot close: the evaluate read the old record, then the whole PIN change ran
        // (both of its session ends included), and only then was the pending login recorded.
        using var harness = new ServiceHarness();
        var (wallet, changer) = await harness.LoggedInWalletAsync("111111");
        harness.Sessions.BeforeBeginLogin = async () =>
        {
            harness.Sessions.BeforeBeginLogin = null;
            await changer.ChangePinAsync("222222", Ct);
        };
        var password = PinHardening.HardenPin(wallet.Device.Key, "111111");
        var client = new OpaqueClient(new OpaqueOptions { Context = Encoding.UTF8.GetBytes(wallet.Options.OpaqueContext) });
        using var login = client.GenerateKE1(password);
        var evaluated = R2psJson.Deserialize<PakeResponse>(await wallet.SendDeviceRequestAsync(ServiceTypes.Authenticate,
            PakeJson(PakeRequest.Evaluate, login.Ke1), cancellationToken: Ct), "PAKE response");
        Assert.Null(harness.Sessions.BeforeBeginLogin);
        Assert.NotNull(harness.Sessions.Get(evaluated.PakeSessionId!)); // recorded after the PIN change's ends

        // The old PIN's KE3 is right for the KE2 it got; the record it was made from is no longer the stored one.
        using var finish = client.GenerateKE3(login, Base64Std.Decode(evaluated.Resp!), Encoding.UTF8.GetBytes(wallet.Options.ServerIdentity),
            Encoding.UTF8.GetBytes(wallet.Device.ClientId));
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.SendDeviceRequestAsync(
            ServiceTypes.Authenticate, PakeJson(PakeRequest.Finalize, finish.Ke3), evaluated.PakeSessionId, Ct));
        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        Assert.Null(harness.Sessions.Get(evaluated.PakeSessionId!));
        using var again = await wallet.LoginAsync("222222", cancellationToken: Ct);
    }

    // ---- Finding 8: sessions are bound to (client_id, kid, context) ----

    [Fact]
    public async Task A_user_mode_request_naming_another_clients_session_is_access_denied_and_changes_nothing()
    {
        using var harness = new ServiceHarness();
        var alice = await harness.RegisteredWalletAsync("135790");
        var mallory = await harness.RegisteredWalletAsync("000000");
        using var aliceSession = await alice.LoginAsync("135790", cancellationToken: Ct);
        using var mallorySession = await mallory.LoginAsync("000000", cancellationToken: Ct);
        // Mallory names Alice's session id under her own (valid) session key and her own signature.
        var key = mallorySession.ExportSessionKey();
        using var forged = mallory.ResumeSession(aliceSession.PakeSessionId, key, aliceSession.ExpiresAt);

        await AssertDeniedAndNothingWrittenAsync(harness, forged, aliceSession);
    }

    [Fact]
    public async Task The_same_client_with_another_kid_naming_its_session_is_access_denied_and_changes_nothing()
    {
        using var harness = new ServiceHarness();
        var clientId = "https://example.com/wallet/" + Guid.NewGuid().ToString("N");
        var first = await harness.RegisteredWalletAsync("135790", clientId, kid: "key-1");
        var second = await harness.RegisteredWalletAsync("000000", clientId, kid: "key-2");
        using var firstSession = await first.LoginAsync("135790", cancellationToken: Ct);
        using var secondSession = await second.LoginAsync("000000", cancellationToken: Ct);
        using var forged = second.ResumeSession(firstSession.PakeSessionId, secondSession.ExportSessionKey(), firstSession.ExpiresAt);

        await AssertDeniedAndNothingWrittenAsync(harness, forged, firstSession);
    }

    [Fact]
    public async Task The_same_key_in_another_context_naming_its_session_is_access_denied_and_changes_nothing()
    {
        using var harness = new ServiceHarness();
        harness.Hsm.AlsoServedContext = "other";
        var wallet = harness.NewWallet(contexts: [ServiceHarness.Context, "other"]);
        await wallet.RegisterPinAsync("135790", harness.Store.IssueCode(wallet.Device.ClientId, wallet.Device.Kid), Ct);
        using var hsmSession = await wallet.LoginAsync("135790", cancellationToken: Ct);
        var inOther = harness.WalletFor(wallet.Device, context: "other");
        using var otherSession = await inOther.LoginAsync("135790", cancellationToken: Ct);
        using var forged = inOther.ResumeSession(hsmSession.PakeSessionId, otherSession.ExportSessionKey(), hsmSession.ExpiresAt);

        await AssertDeniedAndNothingWrittenAsync(harness, forged, hsmSession);
    }

    [Fact]
    public async Task An_authenticate_finalize_naming_another_clients_pending_session_is_access_denied_and_leaves_it_pending()
    {
        using var harness = new ServiceHarness();
        var alice = await harness.RegisteredWalletAsync("135790");
        var mallory = await harness.RegisteredWalletAsync("000000");
        var client = new OpaqueClient(new OpaqueOptions { Context = Encoding.UTF8.GetBytes(alice.Options.OpaqueContext) });
        using var login = client.GenerateKE1(PinHardening.HardenPin(alice.Device.Key, "135790"));
        var evaluated = R2psJson.Deserialize<PakeResponse>(await alice.SendDeviceRequestAsync(ServiceTypes.Authenticate,
            PakeJson(PakeRequest.Evaluate, login.Ke1), cancellationToken: Ct), "PAKE response");
        var pending = harness.Sessions.Get(evaluated.PakeSessionId!);
        var aliceFailures = harness.Store.FailuresOf(alice.Device.ClientId, alice.Device.Kid);

        var error = await Assert.ThrowsAsync<R2psClientException>(() => mallory.SendDeviceRequestAsync(
            ServiceTypes.Authenticate, PakeJson(PakeRequest.Finalize, new byte[OpaqueSizes.Ke3]), evaluated.PakeSessionId, Ct));

        Assert.Equal(ErrorCode.AccessDenied, error.Code);
        Assert.Same(pending, harness.Sessions.Get(evaluated.PakeSessionId!));
        Assert.Empty(harness.Sessions.Ended);
        Assert.Equal(aliceFailures, harness.Store.FailuresOf(alice.Device.ClientId, alice.Device.Kid));
        // Alice's own finalize still completes.
        using var finish = client.GenerateKE3(login, Base64Std.Decode(evaluated.Resp!), Encoding.UTF8.GetBytes(alice.Options.ServerIdentity),
            Encoding.UTF8.GetBytes(alice.Device.ClientId));
        await alice.SendDeviceRequestAsync(ServiceTypes.Authenticate, PakeJson(PakeRequest.Finalize, finish.Ke3), evaluated.PakeSessionId, Ct);
        Assert.Equal(SignSessionPhase.Active, harness.Sessions.Get(evaluated.PakeSessionId!)!.Phase);
    }

    /// <summary>Every user-mode type on a foreign session: ACCESS_DENIED, and the victim's session, keys and records untouched.</summary>
    private static async Task AssertDeniedAndNothingWrittenAsync(ServiceHarness harness, SignSession forged, SignSession victim)
    {
        var before = harness.Sessions.Get(victim.PakeSessionId);
        var keysBefore = harness.Store.KeyCount;
        var ended = harness.Sessions.Ended.Count;
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => forged.ListKeysAsync(cancellationToken: Ct))).Code);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => forged.GenerateKeyAsync(R2ps.Crypto.Ec.EcCurve.P256, Ct))).Code);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => forged.SendAsync(ServiceTypes.PinChange,
            PakeJson(PakeRequest.Evaluate, new byte[OpaqueSizes.RegistrationRequest]), Ct))).Code);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => forged.CloseAsync(Ct))).Code);

        Assert.Same(before, harness.Sessions.Get(victim.PakeSessionId));
        Assert.Equal(ended, harness.Sessions.Ended.Count);
        Assert.Equal(keysBefore, harness.Store.KeyCount);
        await victim.ListKeysAsync(cancellationToken: Ct);
    }

    private static async Task<byte[]> RegistrationEvaluateAsync(R2psWallet wallet, byte[] registrationRequest)
    {
        var resp = R2psJson.Deserialize<PakeResponse>(await wallet.SendDeviceRequestAsync(ServiceTypes.PinRegistration,
            PakeJson(PakeRequest.Evaluate, registrationRequest), cancellationToken: Ct), "PAKE response");
        return Base64Std.Decode(resp.Resp!);
    }

    private static byte[] RegistrationRequest(R2psWallet wallet, string pin)
    {
        using var state = new OpaqueClient().CreateRegistrationRequest(PinHardening.HardenPin(wallet.Device.Key, pin));
        return state.Request.ToArray();
    }

    private static byte[] LoginEvaluate(R2ps.Crypto.Keys.SoftwareEcKey deviceKey, string pin)
    {
        using var login = new OpaqueClient().GenerateKE1(PinHardening.HardenPin(deviceKey, pin));
        return PakeJson(PakeRequest.Evaluate, login.Ke1);
    }

    private static R2ps.Crypto.Keys.SoftwareEcKey CopyOf(R2ps.Crypto.Keys.SoftwareEcKey key) =>
        R2ps.Crypto.Keys.SoftwareEcKey.FromPrivateScalar(key.Curve, key.Curve.EncodeFieldElement(key.PrivateScalar));

    private static byte[] PakeJson(string state, byte[] req) =>
        EnvelopeJson.Serialize(new PakeRequest(PakeRequest.Opaque, state, Base64Std.Encode(req)));
}
