using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.Payloads;
using R2ps.Wallet;

namespace R2ps.Service.Tests;

/// <summary>The core driven by the wallet library over the in-process transport: the happy paths of PROTOCOL.md 1.4.</summary>
public class WalletEndToEndTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Register_login_keys_on_every_curve_sign_ecdh_delete_and_close()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync("246810", task: "general");
        Assert.Equal("general", session.Task);
        Assert.Equal(harness.Time.GetUtcNow() + TimeSpan.FromMinutes(15), session.ExpiresAt);

        foreach (var curve in EcCurve.All)
            Assert.Equal(curve.Name, await session.GenerateKeyAsync(curve, cancellationToken: Ct));

        var keys = await session.ListKeysAsync(cancellationToken: Ct);
        Assert.Equal(["P-256", "P-384", "P-521"], keys.Select(k => k.CurveName).Order(StringComparer.Ordinal));
        Assert.Single(await session.ListKeysAsync([EcCurve.P384], cancellationToken: Ct));

        foreach (var key in keys)
        {
            var curve = EcCurve.FromName(key.CurveName);
            var publicKey = EcPublicKey.FromSpki(Base64Std.Decode(key.PublicKey));
            // PROTOCOL.md 1.4: kid = lowercase hex of the compressed public key.
            Assert.Equal(Hex.Encode(publicKey.ToCompressed()), key.Kid);
            Assert.Equal(harness.Time.GetUtcNow().ToUnixTimeSeconds(), key.CreationTime);

            var hash = SHA256.HashData("to be signed"u8);
            var der = await session.SignAsync(key.Kid, hash, cancellationToken: Ct);
            using (var verifier = ECDsa.Create(publicKey.ToDotNet()))
                Assert.True(verifier.VerifyHash(hash, der, DSASignatureFormat.Rfc3279DerSequence));

            using var peer = ECDiffieHellman.Create(curve.DotNetCurve);
            var peerSpki = peer.PublicKey.ExportSubjectPublicKeyInfo();
            var shared = await session.EcdhAsync(key.Kid, peerSpki, cancellationToken: Ct);
            using var ours = ECDiffieHellman.Create(publicKey.ToDotNet());
            Assert.Equal(peer.DeriveRawSecretAgreement(ours.PublicKey), shared);
            Assert.Equal(curve.FieldSize, shared.Length);

            await session.DeleteKeyAsync(key.Kid, cancellationToken: Ct);
        }
        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));
        Assert.Equal(0, harness.Hsm.KeyCount);

        await session.CloseAsync(cancellationToken: Ct);
        var afterClose = await Assert.ThrowsAsync<R2psClientException>(() => session.ListKeysAsync(cancellationToken: Ct));
        Assert.Equal(ErrorCode.AccessDenied, afterClose.Code);
    }

    [Fact]
    public async Task Session_expiry_is_the_smallest_of_duration_task_and_default()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync();
        var now = harness.Time.GetUtcNow();
        using (var sign = await wallet.LoginAsync("123456", task: "sign", cancellationToken: Ct))
            Assert.Equal(now + TimeSpan.FromSeconds(30), sign.ExpiresAt);
        using (var shortHsm = await wallet.LoginAsync("123456", task: "hsm", duration: TimeSpan.FromSeconds(20), cancellationToken: Ct))
            Assert.Equal(now + TimeSpan.FromSeconds(20), shortHsm.ExpiresAt);
        using (var untasked = await wallet.LoginAsync("123456", duration: TimeSpan.FromHours(5), cancellationToken: Ct))
            Assert.Equal(now + TimeSpan.FromMinutes(15), untasked.ExpiresAt);
    }

    [Fact]
    public async Task Pin_change_sets_the_new_pin_and_ends_every_session()
    {
        using var harness = new ServiceHarness();
        var (wallet, other) = await harness.LoggedInWalletAsync("111111");
        await wallet.ChangePinAsync("111111", "222222", cancellationToken: Ct);

        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => other.ListKeysAsync(cancellationToken: Ct))).Code);
        Assert.Equal(ErrorCode.Unauthorized, (await Assert.ThrowsAsync<R2psClientException>(() => wallet.LoginAsync("111111", cancellationToken: Ct))).Code);
        using var session = await wallet.LoginAsync("222222", cancellationToken: Ct);
        Assert.Empty(await session.ListKeysAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Session_end_device_form_and_context_end_close_sessions()
    {
        using var harness = new ServiceHarness();
        var (wallet, first) = await harness.LoggedInWalletAsync();
        using var second = await wallet.LoginAsync("123456", cancellationToken: Ct);
        using var third = await wallet.LoginAsync("123456", cancellationToken: Ct);

        await wallet.EndSessionAsync(first.PakeSessionId, cancellationToken: Ct);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => first.ListKeysAsync(cancellationToken: Ct))).Code);
        Assert.Empty(await second.ListKeysAsync(cancellationToken: Ct));

        await wallet.EndContextAsync(cancellationToken: Ct);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => second.ListKeysAsync(cancellationToken: Ct))).Code);
        Assert.Equal(ErrorCode.AccessDenied, (await Assert.ThrowsAsync<R2psClientException>(() => third.ListKeysAsync(cancellationToken: Ct))).Code);
        Assert.Equal(0, harness.Sessions.Count);
    }

    [Fact]
    public async Task Every_request_is_audited_with_worker_and_outcome_and_no_session_secret()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync("02" + new string('0', 64), new byte[32], cancellationToken: Ct));

        var records = harness.Store.AuditRecords.ToArray();
        Assert.Equal(harness.Sent.Count, records.Length);
        Assert.All(records, r => Assert.Equal("test-worker", r.WorkerId));
        Assert.Equal(["pin_registration", "pin_registration", "authenticate", "authenticate", "hsm_ecdsa"], records.Select(r => r.Type));
        Assert.Equal(["OK", "OK", "OK", "OK", "ACCESS_DENIED"], records.Select(r => r.Outcome));
        Assert.All(records.Skip(2), r => Assert.Equal(session.PakeSessionId[..16], r.SessionRef));
    }
}
