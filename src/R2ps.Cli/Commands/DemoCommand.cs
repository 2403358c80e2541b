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
        var data = CommonOptions.Data("demo");
        var broker = CommonOptions.Broker();
        var rabbitMq = CommonOptions.RabbitMq();
        var workers = new Option<int>("--workers") { Description = "With --broker rabbitmq: how many separate worker processes to start.", DefaultValueFactory = _ => 2 };
        workers.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 16) r.AddError("--workers must be between 1 and 16.");
        });
        var ttl = new Option<double>("--ttl") { Description = "TTL in seconds of the session left to expire.", DefaultValueFactory = _ => 2 };
        ttl.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is < 1 or > 120) r.AddError("--ttl must be between 1 and 120 seconds.");
        });
        var store = new Option<string>("--store") { Description = "Database of the store, the saga and the BFF: sqlite (files in the data folder) or postgres (with --postgres).", DefaultValueFactory = _ => "sqlite" };
        store.AcceptOnlyFromAmong("sqlite", "postgres");
        var postgres = new Option<string?>("--postgres") { Description = "With --store postgres: the PostgreSQL connection string (Host=…;Database=…;Username=…;Password=…)." };
        var json = CommonOptions.Json();
        var command = new Command("demo", "Run the Signera flow end to end through the BFF over HTTP: onboarding (admin API), HPKE device session, PIN registration, OPAQUE login, HSM key generation, listing, signing and verification, ECDH, the secret vault (store, read back in a new session, audit trail), close, and TTL expiry.")
        {
            data, ttl, broker, rabbitMq, workers, store, postgres, json,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(broker) == "rabbitmq" && string.IsNullOrWhiteSpace(r.GetValue(rabbitMq)))
                r.AddError("--broker rabbitmq needs --rabbitmq amqp://user:pass@host:port/vhost.");
            if (r.GetValue(store) == "postgres" && string.IsNullOrWhiteSpace(r.GetValue(postgres)))
                r.AddError("--store postgres needs --postgres \"Host=…;Database=…;Username=…;Password=…\".");
            if (r.GetValue(store) != "postgres" && !string.IsNullOrWhiteSpace(r.GetValue(postgres)))
                r.AddError("--postgres is used with --store postgres only.");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            var total = Stopwatch.StartNew();
            void Say(string line)
            {
                if (!asJson) AnsiConsole.MarkupLine(line);
            }

            var topology = new DemoTopology(parse.GetValue(broker)!, parse.GetValue(rabbitMq), parse.GetValue(workers))
            {
                PostgresConnectionString = parse.GetValue(store) == "postgres" ? parse.GetValue(postgres) : null,
            };
            var databases = topology.PostgresConnectionString is null ? "SQLite" : "PostgreSQL";
            Say("[bold]R2PS demo[/] — the Signera flow through the BFF over HTTP");
            var selfTest = CryptoSelfTest.RunOrThrow();
            Say($"[green]✓[/] Cryptographic self-test: {selfTest.Count} known-answer checks passed");

            var dataDirectory = parse.GetValue(data)!;
            Say(topology.Broker == "rabbitmq"
                ? $"… Starting {topology.Workers} worker process(es) on RabbitMQ and the BFF in this process ({databases}; SoftHSM2 token in {Markup.Escape(Path.GetFullPath(dataDirectory))})"
                : $"… Starting the BFF, worker and saga in this process (in-memory bus, {databases}; SoftHSM2 token in {Markup.Escape(Path.GetFullPath(dataDirectory))})");
            var start = Stopwatch.StartNew();
            await using var system = await DemoSystem.StartAsync(dataDirectory, topology, line => Say("  " + Markup.Escape(line)), cancellationToken);
            Say($"[green]✓[/] Service started in {start.Elapsed.TotalMilliseconds:0} ms; BFF at {Markup.Escape(system.BffAddress.ToString())}");

            var demo = new SigneraDemo(system.BffAddress, system.AdminToken, step => Say(
                $"[green]✓[/] {Markup.Escape(step.Name)} [grey]({step.Elapsed.TotalMilliseconds:0} ms)[/]: {Markup.Escape(step.Result)}"));
            await demo.RunAsync(TimeSpan.FromSeconds(parse.GetValue(ttl)), cancellationToken);

            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    data = system.Data.Root,
                    bff = system.BffAddress.ToString(),
                    broker = topology.Broker,
                    workers = topology.Broker == "rabbitmq" ? topology.Workers : 0,
                    store = topology.PostgresConnectionString is null ? "sqlite" : "postgres",
                    total_ms = total.Elapsed.TotalMilliseconds,
                    steps = demo.Steps.Select(s => new { name = s.Name, ms = s.Elapsed.TotalMilliseconds, result = s.Result }),
                    audit = demo.AuditTrail.Select(e => new { time = e.Time, type = e.Type, outcome = e.Outcome, error_code = e.ErrorCode }),
                }));
                return 0;
            }
            var trail = WalletCommand.AuditTable(demo.AuditTrail);
            trail.Title("The wallet's audit trail (audit_log, newest first)");
            AnsiConsole.Write(trail);
            var table = new Table().Title("Summary").AddColumns("Step", "ms");
            foreach (var step in demo.Steps)
                table.AddRow(Markup.Escape(step.Name), step.Elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture));
            table.AddRow("[bold]Total (incl. start-up)[/]", total.Elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("[green]Demo complete[/]: through the BFF — device session established, signature verified, ECDH matched, secret stored and read back in a new session, session closed, second session expired by TTL.");
            return 0;
        });
        return command;
    }
}
