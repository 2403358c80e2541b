using System.Net;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Wallet;
using R2ps.Wallet.Http;

namespace R2ps.Bff.Tests;

/// <summary>The whole wallet flow over HTTP through the BFF (PROTOCOL.md 2.1–2.4), the worker in the same process.</summary>
[Collection(EmbeddedBffDefinition.Name)]
public sealed class BffFlowTests(EmbeddedBff system)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Register_pin_login_keys_on_every_curve_list_sign_ecdh_delete_and_close_over_http()
    {
        using var http = system.CreateClient();
        var (wallet, transport) = await system.RegisteredWalletAsync(http, "246810", Ct);
        using var _ = transport;

        var status = await system.Admin(http).GetStatusAsync(wallet.Device.ClientId, wallet.Device.Kid, Ct);
        Assert.True(status.Registered);
        Assert.True(status.PinSet);
        Assert.Null(status.LockedUntil);

        using var session = await wallet.LoginAsync("246810", task: "general", cancellationToken: Ct);
        foreach (var curve in EcCurve.All)
            Assert.Equal(curve.Name, await session.GenerateKeyAsync(curve, Ct));
        var keys = await session.ListKeysAsync(cancellationToken: Ct);
        Assert.Equal(["P-256", "P-384", "P-521"], keys.Select(k => k.CurveName).Order(StringComparer.Ordinal));
        Assert.Equal(3, (await system.Admin(http).GetStatusAsync(wallet.Device.ClientId, wallet.Device.Kid, Ct)).HsmKeyCount);

        foreach (var key in keys)
        {
            var curve = EcCurve.FromName(key.CurveName);
            var publicKey = EcPublicKey.FromSpki(Base64Std.Decode(key.PublicKey));
            Assert.Equal(Hex.Encode(publicKey.ToCompressed()), key.Kid); // PROTOCOL.md 1.4

            var hash = SHA512.HashData("signed through the BFF"u8)[..Math.Min(64, curve.FieldSize)];
            var der = await session.SignAsync(key.Kid, hash, Ct);
            using (var verifier = ECDsa.Create(publicKey.ToDotNet()))
                Assert.True(verifier.VerifyHash(hash, der, DSASignatureFormat.Rfc3279DerSequence));

            using var peer = ECDiffieHellman.Create(curve.DotNetCurve);
            var shared = await session.EcdhAsync(key.Kid, peer.PublicKey.ExportSubjectPublicKeyInfo(), Ct);
            using var ours = ECDiffieHellman.Create(publicKey.ToDotNet());
            Assert.Equal(peer.DeriveRawSecretAgreement(ours.PublicKey), shared);

            await session.DeleteKeyAsync(key.Kid, Ct);
        }

        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));
        await session.CloseAsync(Ct);
        var afterClose = await Assert.ThrowsAsync<R2psClientException>(() => session.ListKeysAsync(cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, afterClose.Code);
        Assert.Equal(1, transport.SessionsEstablished); // one device session carried the whole flow
    }

    [Fact]
    public async Task Keys_endpoint_publishes_the_bff_key_and_the_server_key_of_each_context()
    {
        using var http = system.CreateClient();
        var keys = await HttpR2psTransport.GetKeysAsync(http, Ct);
        Assert.Equal(["hsm"], keys.ServerKeys.Keys);
        Assert.Same(EcCurve.P256, keys.BffKey.Curve);
        Assert.Equal(system.ServerKey.ToCompressed(), keys.ServerKeys["hsm"].ToCompressed());
        Assert.NotEqual(keys.BffKey.ToCompressed(), keys.ServerKeys["hsm"].ToCompressed());
    }

    [Fact]
    public async Task An_expired_device_session_is_refused_with_401_and_the_wallet_re_establishes_once_and_goes_on()
    {
        using var http = system.CreateClient();
        var (wallet, transport) = await system.RegisteredWalletAsync(http, "112233", Ct);
        using var _ = transport;
        using var session = await wallet.LoginAsync("112233", cancellationToken: Ct);
        var first = transport.SessionId!;

        await system.ExpireDeviceSessionAsync(first);
        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));

        Assert.Equal(2, transport.SessionsEstablished);
        Assert.NotEqual(first, transport.SessionId);
    }

    [Fact]
    public async Task The_plain_r2ps_route_serves_envelopes_without_a_device_session()
    {
        using var http = system.CreateClient();
        var device = EmbeddedBff.NewDevice();
        var registered = await system.Admin(http).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, ["hsm"], Ct);
        var plain = new InProcessTransport(async (jws, ct) =>
        {
            using var response = await DeviceSessionProbe.PostJoseAsync(http, "r2ps/v1/r2ps", jws, ct);
            return new TransportReply((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));
        });
        var wallet = new R2psWallet(device, system.ServerKey, plain);
        await wallet.RegisterPinAsync("778899", registered.Authorization, Ct);
        using var session = await wallet.LoginAsync("778899", cancellationToken: Ct);
        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Revoking_through_the_admin_api_ends_the_sign_session_and_denies_the_client()
    {
        using var http = system.CreateClient();
        var (wallet, transport) = await system.RegisteredWalletAsync(http, "555666", Ct);
        using var _ = transport;
        using var session = await wallet.LoginAsync("555666", cancellationToken: Ct);

        await system.Admin(http).RevokeAsync(wallet.Device.ClientId, wallet.Device.Kid, Ct);

        var denied = await Assert.ThrowsAsync<R2psClientException>(() => session.ListKeysAsync(cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, denied.Code);
        var status = await system.Admin(http).GetStatusAsync(wallet.Device.ClientId, wallet.Device.Kid, Ct);
        Assert.False(status.Registered);
    }

    [Fact]
    public async Task A_new_code_from_the_admin_api_lets_the_client_set_its_pin_again()
    {
        using var http = system.CreateClient();
        var (wallet, transport) = await system.RegisteredWalletAsync(http, "121212", Ct);
        using var _ = transport;
        var code = await system.Admin(http).IssueRegistrationCodeAsync(wallet.Device.ClientId, wallet.Device.Kid, Ct);
        Assert.Equal(system.ServerKey.ToSpki(), Base64Std.Decode(code.ServerPublicKey));

        await wallet.RegisterPinAsync("343434", code.Authorization, Ct);
        using var session = await wallet.LoginAsync("343434", cancellationToken: Ct);
        var old = await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("121212", cancellationToken: Ct));
        Assert.Equal(ErrorCode.Unauthorized, old.Code);
    }

    [Fact]
    public async Task Health_live_and_ready_answer_200_when_broker_store_and_a_worker_are_there()
    {
        using var http = system.CreateClient();
        using var live = await http.GetAsync(new Uri("health/live", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await http.GetAsync(new Uri("health/ready", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
