using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.Payloads;
using R2ps.Wallet;
using R2ps.Wallet.Http;

namespace R2ps.Cli.Demo;

/// <summary>One step of the demo: what it did, how long it took, and what it showed.</summary>
internal sealed record DemoStep(string Name, TimeSpan Elapsed, string Result);

/// <summary>
/// The "Signera" flow of seed 000 through the BFF over HTTP, as a wallet runs it: onboard a device through the admin API,
/// establish the HPKE device session, register its PIN, log in with OPAQUE, create an HSM key, list it, sign a payload
/// and verify the signature with the listed public key, ECDH, close the session, and leave a second session to expire by
/// TTL. The vault steps store a secret (encrypted on the device), read it back in a new login session and show the
/// audit trail. Each step reports as it finishes.
/// </summary>
internal sealed class SigneraDemo(Uri bffAddress, string adminToken, Action<DemoStep> report)
{
    private const string Pin = "123456";
    private const string Context = "hsm";
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("Signera något med användarens HSM-nyckel");

    private const string VaultSecretId = "demo.wallet-key";
    private static readonly byte[] VaultSecret = Encoding.UTF8.GetBytes("seed 001: the wallet's own private key, encrypted before it left the device");

    private readonly List<DemoStep> _steps = [];

    public IReadOnlyList<DemoStep> Steps => _steps;

    /// <summary>The wallet's audit trail as the service reported it at the end of the vault steps, newest first.</summary>
    public IReadOnlyList<AuditEvent> AuditTrail { get; private set; } = [];

    public async Task RunAsync(TimeSpan expiringSessionTtl, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = bffAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var deviceKey = SoftwareEcKey.Generate(EcCurve.P256);
        var clientId = "demo-wallet-" + Hex.Encode(RandomNumberGenerator.GetBytes(4));
        var kid = Base64Std.Encode(deviceKey.PublicKey.ToCompressed());
        using var device = new R2psDevice(clientId, kid, deviceKey);

        var (keys, code) = await Step("Onboard device (admin API: register client, one-time code)", async () =>
        {
            var pinned = await HttpR2psTransport.GetKeysAsync(http, cancellationToken);
            if (!pinned.ServerKeys.ContainsKey(Context))
                throw new InvalidOperationException($"No worker serves context '{Context}'.");
            var registered = await new R2psAdminClient(http, adminToken).RegisterAsync(clientId, kid, deviceKey.PublicKey, [Context], cancellationToken);
            // The admin answer names the server key too: it must be the one the BFF publishes.
            if (!Base64Std.Decode(registered.ServerPublicKey).AsSpan().SequenceEqual(pinned.ServerKeys[Context].ToSpki()))
                throw new CryptographicException("The admin API and GET /r2ps/v1/keys name different server keys.");
            var expires = DateTimeOffset.FromUnixTimeSeconds(registered.AuthorizationExpiresAt);
            return ((pinned, registered.Authorization), $"POST /admin/v1/clients → client {clientId}, code valid until {expires:HH:mm:ss}");
        });

        using var transport = new HttpR2psTransport(http, device, keys.BffKey);
        var wallet = new R2psWallet(device, keys.ServerKeys[Context], transport);

        await Step("Device session (HPKE mode_auth)", async () =>
        {
            await transport.EstablishAsync(cancellationToken);
            return (0, $"POST /r2ps/v1/device-sessions → session {transport.SessionId![..16]}…; confirmation JWE opened: the BFF holds the pinned key");
        });

        await Step("PIN registration (OPAQUE, hardened PIN)", async () =>
        {
            await wallet.RegisterPinAsync(Pin, code, cancellationToken);
            return (0, "registration record stored; the service never saw the PIN");
        });

        using var session = await Step("OPAQUE login (authenticate evaluate + finalize)", async () =>
        {
            var s = await wallet.LoginAsync(Pin, cancellationToken: cancellationToken);
            return (s, $"session {s.PakeSessionId[..16]}…, expires {s.ExpiresAt:HH:mm:ss}");
        });

        var kidHex = await Step("HSM key generation (P-256)", async () =>
        {
            var created = await session.GenerateKeyAsync(EcCurve.P256, cancellationToken);
            return (created, "curve " + created);
        });

        var key = await Step("List HSM keys", async () =>
        {
            var keys = await session.ListKeysAsync(cancellationToken: cancellationToken);
            var newest = keys.OrderByDescending(k => k.CreationTime).First(k => k.CurveName == EcCurve.P256.Name);
            return (newest, $"{keys.Count} key(s); kid {newest.Kid[..18]}…");
        });

        await Step("Sign payload hash (hsm_ecdsa) and verify", async () =>
        {
            var hash = SHA256.HashData(Payload);
            var signature = await session.SignAsync(key.Kid, hash, cancellationToken);
            using var verifier = ECDsa.Create();
            verifier.ImportSubjectPublicKeyInfo(Base64Std.Decode(key.PublicKey), out _);
            if (!verifier.VerifyHash(hash, signature, DSASignatureFormat.Rfc3279DerSequence))
                throw new CryptographicException("The HSM signature does not verify under the listed public key.");
            return (0, $"signature verified ({signature.Length}-byte DER) with the listed public key");
        });

        await Step("ECDH with a peer key (hsm_ecdh)", async () =>
        {
            using var peer = SoftwareEcKey.Generate(EcCurve.P256);
            var remote = await session.EcdhAsync(key.Kid, peer.PublicKey.ToSpki(), cancellationToken);
            var local = peer.DeriveSharedSecret(EcPublicKey.FromSpki(Base64Std.Decode(key.PublicKey)));
            if (!CryptographicOperations.FixedTimeEquals(remote, local))
                throw new CryptographicException("The HSM's shared secret differs from the peer's.");
            return (0, "shared secret equals the peer's own computation");
        });

        await Step("Vault: store a secret (secret_store)", async () =>
        {
            var version = await session.Vault.PutAsync(VaultSecretId, VaultSecret, cancellationToken);
            return (0, $"{VaultSecretId} version {version}, encrypted on the device under the PIN-bound vault key, sealed again by the HSM");
        });

        await Step("Close session (session_end)", async () =>
        {
            await session.CloseAsync(cancellationToken);
            var refused = await RefusedAsync(() => session.ListKeysAsync(cancellationToken: cancellationToken));
            return (0, "OK; a use after close is refused: " + refused);
        });

        await Step("Vault: read it back in a new login session (secret_retrieve)", async () =>
        {
            // A new login: the vault key is derived again from the new login's export key, so only the PIN reopens it.
            using var again = await wallet.LoginAsync(Pin, cancellationToken: cancellationToken);
            using var secret = await again.Vault.GetAsync(VaultSecretId, cancellationToken);
            if (!CryptographicOperations.FixedTimeEquals(secret.Plaintext, VaultSecret))
                throw new CryptographicException("The secret read back differs from the one stored.");
            AuditTrail = await again.Vault.AuditAsync(limit: 20, cancellationToken: cancellationToken);
            await again.CloseAsync(cancellationToken);
            return (0, $"session {again.PakeSessionId[..16]}… read {VaultSecretId} version {secret.Version}: identical to what was stored");
        });

        await Step("Audit trail (audit_log)", () => Task.FromResult((0,
            $"{AuditTrail.Count} event(s), newest first: " + string.Join(", ", AuditTrail.Take(6).Select(e => e.ErrorCode is null ? e.Type : $"{e.Type} {e.ErrorCode}")) + (AuditTrail.Count > 6 ? ", …" : ""))));

        using var shortLived = await Step($"Second login with a {expiringSessionTtl.TotalSeconds:0} s TTL", async () =>
        {
            var s = await wallet.LoginAsync(Pin, duration: expiringSessionTtl, cancellationToken: cancellationToken);
            return (s, $"session {s.PakeSessionId[..16]}…, expires {s.ExpiresAt:HH:mm:ss.f}");
        });

        await Step("Leave it to expire by TTL", async () =>
        {
            var wait = shortLived.ExpiresAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
            var refused = await RefusedAsync(() => shortLived.ListKeysAsync(cancellationToken: cancellationToken));
            return (0, "expired; a use is refused: " + refused);
        });
    }

    private static async Task<string> RefusedAsync(Func<Task> use)
    {
        try
        {
            await use();
        }
        catch (R2psClientException ex) when (ex.Code == ErrorCode.AccessDenied)
        {
            return ex.Code.ToWire();
        }
        throw new InvalidOperationException("The service served a session that should have ended.");
    }

    private async Task<T> Step<T>(string name, Func<Task<(T Value, string Result)>> action)
    {
        var watch = Stopwatch.StartNew();
        var (value, result) = await action();
        var step = new DemoStep(name, watch.Elapsed, result);
        _steps.Add(step);
        report(step);
        return value;
    }
}
