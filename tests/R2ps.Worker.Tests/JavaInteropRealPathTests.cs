using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Hsm;
using R2ps.Messaging;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Sessions;
using R2ps.Store;
using R2ps.Testing;
using R2ps.Tools.SoftHsm;
using R2ps.Worker.Hosting;

namespace R2ps.Worker.Tests;

/// <summary>
/// PROTOCOL.md 3: the <c>authenticate</c> evaluate recorded from the Java reference client (interop/java-recorded/),
/// served by the worker's real registrations — the server key imported from <c>server-key.p12</c> into a SoftHSM2 token,
/// the EF Core SQLite store and saga table, the request consumer on MassTransit's in-memory transport — with only the
/// clock moved back to the request's <c>iat</c>.
/// </summary>
/// <remarks>
/// In the worker-cluster collection because SoftHSM2 reads one configuration per process: the host opens a token of its
/// own in the cluster's SoftHSM2 directory.
/// </remarks>
[Collection(WorkerClusterDefinition.Name)]
public sealed class JavaInteropRealPathTests(WorkerCluster cluster)
{
    const string ClientId = "a25d8884-c77b-43ab-bf9d-1279c08d860d";
    const string Kid = "wallet-hsm-key-1";
    const string Context = "hsm";
    const long RecordedIat = 1762938341;
    const string RecordedNonce = "fefb9d147f1cff3f6f2161447a981681628c7d47dc831b1f25d9012019108b45";

    // SPKI of interop/java-recorded/client-wallet-hsm.crt (CN=wallet-hsm).
    const string DeviceSpki = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE233YaUniXpEuNY15ZyJmqi+t4VtHE0BsFyM6fMWvL4xtdiD7u8u2eTZlWsK/XrYPCobERUbPaKUJ9W+l19CWUA==";

    const string TokenLabel = "r2ps-java-interop";
    const string UserPin = "java-interop-pin";
    const string ServerKeyLabel = "java-interop-server-key";
    const string WorkerId = "java-interop";

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_recorded_java_request_gets_a_signed_ke2_from_the_hsm_key_and_a_pending_session_in_the_saga_table()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(RecordedIat);
        var serverPublicKey = ServerKeyFromP12();
        using var host = await StartWorkerHostAsync(new FixedTime(now));
        var services = host.Services;
        // The HSM's server key is the imported one.
        Assert.Equal(serverPublicKey.ToCompressed(), services.GetRequiredService<Pkcs11EcPrivateKey>().PublicKey.ToCompressed());
        await services.GetRequiredService<IClientRegistry>().RegisterAsync(
            new ClientRegistration(ClientId, Kid, Base64Std.Decode(DeviceSpki), [Context]), Ct);

        var recorded = SharedFiles.ReadText("interop/java-recorded/authenticate-request.jws").Trim();
        var reply = await services.GetRequiredService<R2psServiceClient>().SendAsync(Context, recorded, Ct);

        Assert.True(reply.Status == 200, $"Expected 200, got {reply.Status}: {reply.Body}");
        // The wallet-side checks (PROTOCOL.md 1.2): signed by the p12 key with {"typ":"JOSE","alg":"ES256"}, ver 1.0,
        // nonce and enc ("device") echoed, iat = the service's now.
        var sent = new SealedClientRequest(recorded, RecordedNonce, ProtocolConstants.EncDevice, EncryptionMode.Device);
        var jwe = ClientEnvelope.ReadResponse(reply.Body, sent, serverPublicKey, now);
        Assert.Equal(ProtocolConstants.EncDevice, ResponsePayload(reply.Body).Enc);
        Assert.Equal(RecordedNonce, ResponsePayload(reply.Body).Nonce);

        // PROTOCOL.md 1.3, device type: a compact ECDH-ES / A256GCM JWE with exactly epk, cty, enc, alg, empty encrypted key.
        Assert.Equal((JweAlgorithm.EcdhEs, JweEncryption.A256GCM), (jwe.Algorithm, jwe.Encryption));
        Assert.Equal(["alg", "cty", "enc", "epk"], jwe.Header.MemberNames.Order(StringComparer.Ordinal));
        Assert.Equal(Jwe.OctetStreamContentType, jwe.Header.GetString("cty"));
        var parts = EnvelopeData.Unwrap(ResponsePayload(reply.Body).Data).Split('.');
        Assert.Equal(5, parts.Length);
        Assert.Empty(parts[1]);
        Assert.Equal(12, Base64Url.Decode(parts[2]).Length);
        Assert.Equal(16, Base64Url.Decode(parts[4]).Length);
        // The plaintext (which only the Java device key opens) is {"pake_session_id":<64 hex>,"resp":<base64 of the
        // 259-byte KE2 (RFC 9807 §6.1: 33 + 32 + 33 + 33 + 32 + 64 + 32)>}: 20 + 64 + 10 + 348 + 2 bytes; GCM keeps the length.
        Assert.Equal(444, Base64Url.Decode(parts[3]).Length);

        // The fake-record path (RFC 9807 §10.9): no OPAQUE record exists, yet a pending login was begun in the saga table,
        // bound to the recorded client, with the 10 s login window from the (moved) clock.
        Assert.Null(await services.GetRequiredService<IOpaqueRecordStore>().GetAsync(ClientId, Kid, Ct));
        var pending = Assert.Single(await services.GetRequiredService<ISignSessionReader>().FindByClientAsync(ClientId, Kid, Ct));
        Assert.Equal((SignSessionPhase.PendingLogin, Context), (pending.Phase, pending.Context));
        Assert.NotNull(pending.SealedLoginState);
        Assert.Null(pending.SealedSessionKey);
        Assert.Equal((now, now + TimeSpan.FromSeconds(10)), (pending.StartedAt, pending.LoginExpiresAt));
        Assert.True(EnvelopeRules.IsPakeSessionId(pending.PakeSessionId));

        var audit = Assert.Single(await services.GetRequiredService<IAuditLog>().QueryByClientAsync(ClientId, 10, Ct));
        Assert.Equal((AuditOutcome.Success, ServiceTypes.Authenticate, WorkerId), (audit.Outcome, audit.RequestType, audit.WorkerId));
        Assert.StartsWith(audit.SessionRef!, pending.PakeSessionId, StringComparison.Ordinal);

        await host.StopAsync(Ct);
    }

    /// <summary>
    /// The worker's own composition root (<see cref="WorkerServiceCollectionExtensions.AddR2psWorker"/>) on the in-memory transport,
    /// with <paramref name="time"/> registered first: every registration adds the system clock only with TryAdd.
    /// </summary>
    async Task<IHost> StartWorkerHostAsync(TimeProvider time)
    {
        var token = SoftHsmToken.Ensure(cluster.SoftHsmDirectory, TokenLabel, "java-interop-so-pin", UserPin);
        var hsm = token.CreateOptions(UserPin, sessionPoolSize: 1);
        using (var connection = HsmConnection.Open(hsm))
            await HsmServiceKeys.ImportPkcs12Async(connection, ServerKeyLabel, SharedFiles.ReadBytes("interop/java-recorded/server-key.p12"), "Test1234");

        var database = $"Data Source={Path.Combine(cluster.ScratchDirectory, "java-interop.db")}";
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = MessagingTransports.InMemory,
            ["Messaging:RequestTimeout"] = WorkerCluster.ClientTimeout.ToString("c", CultureInfo.InvariantCulture),
            // The worker's timeout budget: the saga's waits (× 2 for a fan-out, + 1 s) must end inside the caller's 5 s.
            ["SignSessions:RequestTimeout"] = "00:00:01.500",
            ["SignSessions:BusyTimeout"] = "00:00:01",
            ["Store:ConnectionString"] = database,
            ["SignSessions:ConnectionString"] = database,
            ["Hsm:ModulePath"] = token.ModulePath,
            ["Hsm:TokenLabel"] = TokenLabel,
            ["Hsm:UserPin"] = UserPin,
            ["Hsm:SessionPoolSize"] = "1",
            ["Hsm:ServerKeyLabel"] = ServerKeyLabel,
            ["Worker:Id"] = WorkerId,
            ["Worker:Context"] = Context,
        });
        builder.Services.AddSingleton(time);
        builder.Services.AddR2psWorker(builder.Configuration);
        var host = builder.Build();
        try
        {
            await host.StartAsync(Ct);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }

    static EcPublicKey ServerKeyFromP12()
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(SharedFiles.Path("interop/java-recorded/server-key.p12"), "Test1234");
        return EcPublicKey.FromSpki(certificate.PublicKey.ExportSubjectPublicKeyInfo());
    }

    static ServiceResponsePayload ResponsePayload(string responseJws) =>
        R2psJson.Deserialize<ServiceResponsePayload>(JwsCompact.Parse(responseJws).GetUnverifiedPayload(), "response");

    /// <summary>A clock standing still at <paramref name="now"/>; timers (the sweeper's tick) still run in real time.</summary>
    sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
