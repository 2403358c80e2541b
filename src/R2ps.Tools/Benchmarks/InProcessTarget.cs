using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Hsm;
using R2ps.Service;
using R2ps.Service.Ports;
using R2ps.Store;
using R2ps.Tools.SoftHsm;
using R2ps.Wallet;
using R2ps.Worker.Hosting;

namespace R2ps.Tools.Benchmarks;

/// <summary>
/// The baseline: the worker's own composition root (self-test, store, HSM, service core, saga on MassTransit's in-memory transport) in
/// this process, and wallets whose transport calls <see cref="R2psRequestProcessor"/> directly — no HTTP, no broker on
/// the request path (the saga's commands at login still go over the in-memory bus, as in a worker).
/// </summary>
internal sealed class InProcessTarget : IAsyncDisposable
{
    public const string Context = "hsm";

    private readonly IHost _host;
    private readonly R2psRequestProcessor _processor;
    private readonly EcPublicKey _serverKey;

    private InProcessTarget(IHost host)
    {
        _host = host;
        _processor = host.Services.GetRequiredService<R2psRequestProcessor>();
        _serverKey = host.Services.GetRequiredService<IServerKeys>().Find(Context)?.PublicKey
            ?? throw new InvalidOperationException($"The in-process service does not serve context '{Context}'.");
    }

    public static async Task<InProcessTarget> StartAsync(SoftHsmToken token, string userPinFile, string databasePath, int hsmSessions,
        CancellationToken cancellationToken)
    {
        var database = $"Data Source={databasePath}";
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "inmemory",
            ["Worker:Id"] = "bench-in-process",
            ["Worker:Context"] = Context,
            ["Hsm:ModulePath"] = token.ModulePath,
            ["Hsm:TokenLabel"] = token.Label,
            ["Hsm:UserPinFile"] = userPinFile,
            ["Hsm:SessionPoolSize"] = hsmSessions.ToString(CultureInfo.InvariantCulture),
            ["Store:ConnectionString"] = database,
            ["SignSessions:ConnectionString"] = database,
        });
        // A/B of one setting in one binary (e.g. R2PS_BENCH_Store__PreparedReads=false): environment variables with this
        // prefix override the target's configuration.
        builder.Configuration.AddEnvironmentVariables("R2PS_BENCH_");
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddR2psWorker(builder.Configuration);
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            return new InProcessTarget(host);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>A device registered in the store directly (as the admin path does), prepared by <see cref="BenchWallet.PrepareAsync"/>.</summary>
    public async Task<BenchWallet> CreateWalletAsync(CancellationToken cancellationToken)
    {
        var key = SoftwareEcKey.Generate(EcCurve.P256);
        var device = new R2psDevice("bench-" + Guid.NewGuid().ToString("N"), Base64Std.Encode(key.PublicKey.ToCompressed()), key);
        try
        {
            await _host.Services.GetRequiredService<IClientRegistry>().RegisterAsync(
                new ClientRegistration(device.ClientId, device.Kid, device.PublicKey.ToSpki(), [Context]), cancellationToken).ConfigureAwait(false);
            var code = await _host.Services.GetRequiredService<IRegistrationCodeStore>().IssueAsync(device.ClientId, device.Kid, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("The store issued no registration code.");
            var transport = new InProcessTransport(async (envelope, ct) =>
            {
                var reply = await _processor.ProcessAsync(envelope, ct).ConfigureAwait(false);
                return new TransportReply(reply.Status, reply.Body);
            });
            var wallet = new R2psWallet(device, _serverKey, transport);
            return await BenchWallet.PrepareAsync(wallet, code.Code, [device], cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        _host.Dispose();
    }
}
