using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using R2ps.Bff.Endpoints;
using R2ps.Bff.Hosting;
using R2ps.Hsm;
using R2ps.Tools.SoftHsm;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace R2ps.Bff.Tests;

/// <summary>
/// One SoftHSM2 token directory for the whole test process: SOFTHSM2_CONF is process-wide and fixed once the module is
/// initialised, so every fixture uses this directory (each with a token of its own label). Worker processes get its
/// configuration path.
/// </summary>
internal static class TestHsm
{
    public const string UserPin = "bff-test-user-pin";
    const string SoPin = "bff-test-so-pin";
    static readonly Lazy<string> Root = new(() => Directory.CreateTempSubdirectory("r2ps-bff-tests-hsm-").FullName);
    static readonly Lock Gate = new();

    public static SoftHsmToken Token(string label)
    {
        lock (Gate)
            return SoftHsmToken.Ensure(Root.Value, label, SoPin, UserPin);
    }
}

/// <summary>
/// The settings of a BFF with its worker in the same process on the in-memory transport: the store, the saga and the
/// BFF's device sessions on SQLite files in <c>directory</c>, the worker on <c>token</c>. Tests add or override entries.
/// </summary>
internal static class EmbeddedSettings
{
    public static Dictionary<string, string?> For(SoftHsmToken token, string directory, string workerId, int hsmSessions, string adminToken)
    {
        var store = $"Data Source={Path.Combine(directory, "r2ps.db")}";
        return new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "inmemory",
            ["Messaging:RequestTimeout"] = "00:00:05",
            // The worker's timeout budget: the saga's waits (× 2 for a fan-out, + 1 s) must end inside the caller's 5 s.
            ["SignSessions:RequestTimeout"] = "00:00:01.500",
            ["SignSessions:BusyTimeout"] = "00:00:01",
            ["Worker:Id"] = workerId,
            ["Worker:Context"] = "hsm",
            ["Hsm:ModulePath"] = token.ModulePath,
            ["Hsm:TokenLabel"] = token.Label,
            ["Hsm:UserPin"] = TestHsm.UserPin,
            ["Hsm:SessionPoolSize"] = hsmSessions.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Store:ConnectionString"] = store,
            ["SignSessions:ConnectionString"] = store,
            ["Bff:ConnectionString"] = $"Data Source={Path.Combine(directory, "bff.db")}",
            ["Admin:Token"] = adminToken,
        };
    }
}

/// <summary>
/// A BFF on real Kestrel on a loopback port chosen by the system (the ASP.NET TestHost package is not served here),
/// configured only by <c>settings</c>; <c>registerFirst</c> adds services before the BFF (a worker, in one process).
/// </summary>
internal sealed class BffHost : IAsyncDisposable
{
    readonly WebApplication _app;

    BffHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<BffHost> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection, IConfiguration>? registerFirst = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        registerFirst?.Invoke(builder.Services, builder.Configuration);
        builder.AddR2psBff();
        var app = builder.Build();
        app.MapR2psBff();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BffHost(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public HttpClient CreateClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
