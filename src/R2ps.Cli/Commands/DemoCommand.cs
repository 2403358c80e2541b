using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using R2ps.Cli.Demo;
using R2ps.Crypto.SelfTest;
using Spectre.Console;

namespace R2ps.Cli.Commands;

/// <summary><c>r2ps demo</c>: the main job — the whole Signera flow on embedded defaults, step by step, with timings.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Data folder (SQLite database and SoftHSM2 token); created when absent.", DefaultValueFactory = _ => Path.Combine(".data", "demo") };
        var ttl = new Option<double>("--ttl") { Description = "TTL in seconds of the session left to expire.", DefaultValueFactory = _ => 2 };
        ttl.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is < 1 or > 120) r.AddError("--ttl must be between 1 and 120 seconds.");
        });
        var json = CommonOptions.Json();
        var command = new Command("demo", "Run the Signera flow end to end in one process: onboarding, PIN registration, OPAQUE login, HSM key generation, listing, signing and verification, ECDH, close, and TTL expiry.")
        {
            data, ttl, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            var total = Stopwatch.StartNew();
            void Say(string line)
            {
                if (!asJson) AnsiConsole.MarkupLine(line);
            }

            Say("[bold]R2PS demo[/] — the Signera flow against the HSM service on embedded defaults");
            var selfTest = CryptoSelfTest.RunOrThrow();
            Say($"[green]✓[/] Cryptographic self-test: {selfTest.Count} known-answer checks passed");

            var dataDirectory = parse.GetValue(data)!;
            Say($"… Starting the HSM service in this process (in-memory bus, SQLite and SoftHSM2 token in {Markup.Escape(Path.GetFullPath(dataDirectory))})");
            var start = Stopwatch.StartNew();
            await using var system = await EmbeddedSystem.StartAsync(dataDirectory, new Dictionary<string, string?>(), cancellationToken);
            Say($"[green]✓[/] Service started in {start.Elapsed.TotalMilliseconds:0} ms");

            var demo = new SigneraDemo(system, step => Say(
                $"[green]✓[/] {Markup.Escape(step.Name)} [grey]({step.Elapsed.TotalMilliseconds:0} ms)[/]: {Markup.Escape(step.Result)}"));
            await demo.RunAsync(TimeSpan.FromSeconds(parse.GetValue(ttl)), cancellationToken);

            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    data = system.DataDirectory,
                    total_ms = total.Elapsed.TotalMilliseconds,
                    steps = demo.Steps.Select(s => new { name = s.Name, ms = s.Elapsed.TotalMilliseconds, result = s.Result }),
                }));
                return 0;
            }
            var table = new Table().Title("Summary").AddColumns("Step", "ms");
            foreach (var step in demo.Steps)
                table.AddRow(Markup.Escape(step.Name), step.Elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture));
            table.AddRow("[bold]Total (incl. start-up)[/]", total.Elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("[green]Demo complete[/]: signature verified, ECDH matched, session closed, second session expired by TTL.");
            return 0;
        });
        return command;
    }
}
