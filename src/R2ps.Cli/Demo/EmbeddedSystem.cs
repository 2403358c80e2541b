using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using R2ps.Contracts;
using R2ps.Crypto.Keys;
using R2ps.Hsm;
using R2ps.Messaging;
using R2ps.Service.Ports;
using R2ps.Wallet;
using R2ps.Worker.Hosting;

namespace R2ps.Cli.Demo;

/// <summary>
/// The whole HSM service in this process on embedded defaults: MassTransit's in-memory transport, a SQLite file and a
/// SoftHSM2 token under a data folder (created when absent, reused when present), and the worker's own registrations —
/// the same code a worker process runs over RabbitMQ.
/// </summary>
internal sealed class EmbeddedSystem : IAsyncDisposable
{
    public const string TokenLabel = "r2ps";
    public const string Context = "hsm";

    private readonly IHost _host;

    private EmbeddedSystem(IHost host, string dataDirectory)
    {
        _host = host;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<EmbeddedSystem> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string?> overrides, CancellationToken cancellationToken)
    {
        var root = Directory.CreateDirectory(Path.GetFullPath(dataDirectory)).FullName;
        var pinFile = EnsureTokenPin(root);
        SoftHsmToken.Ensure(Path.Combine(root, "hsm"), TokenLabel, await File.ReadAllTextAsync(pinFile + ".so", cancellationToken).ConfigureAwait(false),
            await File.ReadAllTextAsync(pinFile, cancellationToken).ConfigureAwait(false));

        var database = $"Data Source={Path.Combine(root, "r2ps.db")}";
        var settings = new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "inmemory",
            ["Worker:Id"] = "embedded",
            ["Worker:Context"] = Context,
            ["Hsm:TokenLabel"] = TokenLabel,
            ["Hsm:UserPinFile"] = pinFile,
            ["Store:ConnectionString"] = database,
            ["SignSessions:ConnectionString"] = database,
        };
        foreach (var (key, value) in overrides) settings[key] = value;

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services
            .AddCryptoSelfTest()
            .AddR2psWorkerIdentity(builder.Configuration)
            .AddR2psStorePorts(builder.Configuration)
            .AddR2psHsm(builder.Configuration)
            .AddR2psServiceCore(builder.Configuration)
            .AddR2psWorkerBus(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        return new EmbeddedSystem(host, root);
    }

    /// <summary>The server key's public half, as a wallet pins it.</summary>
    public EcPublicKey ServerPublicKey =>
        Services.GetRequiredService<IServerKeys>().Find(Context)?.PublicKey
        ?? throw new InvalidOperationException($"The embedded worker does not serve context '{Context}'.");

    /// <summary>A wallet transport that sends each envelope over the bus, exactly as the BFF does.</summary>
    public IR2psTransport Transport
    {
        get
        {
            var client = Services.GetRequiredService<R2psServiceClient>();
            return new InProcessTransport(async (envelope, ct) =>
            {
                R2psReply reply = await client.SendAsync(Context, envelope, ct).ConfigureAwait(false);
                return new TransportReply(reply.Status, reply.Body);
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        _host.Dispose();
    }

    // The token's PINs live beside it, readable only by this user: the demo's token is a development token.
    private static string EnsureTokenPin(string root)
    {
        var hsm = Directory.CreateDirectory(Path.Combine(root, "hsm")).FullName;
        var pinFile = Path.Combine(hsm, "user-pin");
        if (!File.Exists(pinFile))
        {
            Write(pinFile + ".so", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
            Write(pinFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        }
        return pinFile;

        static void Write(string path, string secret)
        {
            File.WriteAllText(path, secret);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
