using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using R2ps.Cli.Hosting;
using R2ps.Tools.Fuzzing;
using Spectre.Console;

namespace R2ps.Cli.Commands;

/// <summary>
/// <c>r2ps fuzz --target envelope|bff|admin|all --count N</c>: starts the whole service in this process (as
/// <c>serve all</c>, in-memory bus, a fresh data folder) and sends it N generated inputs per target (issue 10 item 12).
/// Exit code 0 when no input got a 5xx, a transport failure or a refusal without its 1.2 code, and memory stayed flat.
/// </summary>
internal static class FuzzCommand
{
    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = "envelope, bff, admin or all.", DefaultValueFactory = _ => "all" };
        target.AcceptOnlyFromAmong([.. FuzzTargets.Names, "all"]);
        var count = new Option<int>("--count") { Description = "Generated inputs per target.", DefaultValueFactory = _ => 100_000 };
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 10) r.AddError("--count is at least 10.");
        });
        var command = new Command("fuzz", "Send generated inputs (mutated valid requests and random ones) to an in-process service; report refusals by code, 5xx and memory.")
        {
            target, count,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var console = ServeCommand.ConsoleFor(parse);
            var names = parse.GetValue(target) == "all" ? FuzzTargets.Names : [parse.GetValue(target)!];
            await using var system = await FuzzSystem.StartAsync(cancellationToken);
            console.MarkupLine($"[bold]r2ps fuzz[/] against {Markup.Escape(system.Address.ToString())} ({parse.GetValue(count)} inputs per target)");
            var failed = false;
            foreach (var name in names)
            {
                var report = await FuzzRunner.RunAsync(system.Http, name, system.Targets.For(name), parse.GetValue(count),
                    line => console.MarkupLine("  " + Markup.Escape(line)), cancellationToken);
                console.MarkupLine((report.ViolationCount == 0 && report.MemoryFlat ? "[green]✓[/] " : "[red]✗[/] ") + Markup.Escape(report.ToString()));
                foreach (var violation in report.Violations) console.MarkupLine("    " + Markup.Escape(violation));
                if (!report.MemoryFlat) console.MarkupLine("    [red]memory grew[/] beyond the bound");
                failed |= report.ViolationCount > 0 || !report.MemoryFlat;
            }
            return failed ? 1 : 0;
        });
        return command;
    }
}

/// <summary>
/// <c>serve all</c> in this process on a fresh data folder (in-memory bus, loopback port, a random admin token), and the
/// fuzz targets built against it. Disposing stops it and deletes the folder.
/// </summary>
internal sealed class FuzzSystem : IAsyncDisposable
{
    readonly ServerHost _host;
    readonly DirectoryInfo _data;

    FuzzSystem(ServerHost host, DirectoryInfo data, Uri address, FuzzTargets targets)
    {
        _host = host;
        _data = data;
        Address = address;
        Targets = targets;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public FuzzTargets Targets { get; }

    public HttpClient Http { get; }

    public static async Task<FuzzSystem> StartAsync(CancellationToken cancellationToken)
    {
        var data = Directory.CreateTempSubdirectory("r2ps-fuzz-");
        var adminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var folder = DataFolder.Ensure(data.FullName);
        await folder.ProvisionServiceKeysAsync(cancellationToken).ConfigureAwait(false);
        var defaults = folder.Settings();
        defaults["Messaging:Transport"] = "inmemory";
        defaults["Admin:Token"] = adminToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var host = await ServerHost.StartAsync(ServerRole.All, new ServerHostSettings
        {
            Defaults = defaults,
            // Every refused input is a warning in the service's log; errors (a 500's fault) still show.
            Arguments = ["--Logging:LogLevel:Default=Error"],
            MinimumLogLevel = Microsoft.Extensions.Logging.LogLevel.Error,
            Urls = $"http://127.0.0.1:{port}",
        }, cancellationToken).ConfigureAwait(false);
        var address = new Uri($"http://127.0.0.1:{port}/");
        try
        {
            var targets = await FuzzTargets.CreateAsync(address, adminToken, DataFolder.Context, cancellationToken).ConfigureAwait(false);
            return new FuzzSystem(host, data, address, targets);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Targets.Dispose();
        await _host.DisposeAsync().ConfigureAwait(false);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Delete(recursive: true);
    }
}
