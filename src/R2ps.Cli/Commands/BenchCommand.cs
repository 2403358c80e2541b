using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Security.Cryptography;
using R2ps.Tools.Benchmarks;
using R2ps.Tools.SoftHsm;
using R2ps.Hsm;
using Spectre.Console;

namespace R2ps.Cli.Commands;

/// <summary><c>r2ps bench …</c>: measured figures, ratios taken within one run (these machines are noisy).</summary>
internal static class BenchCommand
{
    public static Command Create() => new("bench", "Measure the cost of the protocol's hot paths.")
    {
        Opaque(),
        Hsm(),
        E2e(),
    };

    private static Command E2e()
    {
        var wallets = new Option<int>("--wallets") { Description = "Concurrent wallets (each its own device, PIN, sessions and HSM key).", DefaultValueFactory = _ => 8 };
        wallets.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 256) r.AddError("--wallets must be between 1 and 256.");
        });
        var workers = new Option<int>("--workers") { Description = "Worker processes on the request queue.", DefaultValueFactory = _ => 1 };
        workers.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 8) r.AddError("--workers must be between 1 and 8.");
        });
        var seconds = new Option<double>("--seconds") { Description = "Timed part of each measurement (in-process, then end to end).", DefaultValueFactory = _ => 10 };
        seconds.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is <= 0 or > 600) r.AddError("--seconds must be more than 0 and at most 600.");
        });
        var signsPerLogin = new Option<int>("--signs-per-login") { Description = "Signs in one session before the wallet ends it and logs in again.", DefaultValueFactory = _ => 20 };
        signsPerLogin.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100_000) r.AddError("--signs-per-login must be between 1 and 100000.");
        });
        var rabbitMq = new Option<string?>("--rabbitmq") { Description = "A running broker on loopback (amqp://user:pass@127.0.0.1:5672/); default: a private node started for the run." };
        rabbitMq.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string?>();
            if (value is not null && ParseLoopbackBroker(value) is null)
                r.AddError("--rabbitmq must be an amqp:// URI on a loopback address (127.0.0.1, ::1 or localhost).");
        });
        var warmup = new Option<double>("--warmup") { Description = "Untimed load before each timed run (fresh processes JIT-compile the request path in their first seconds; a long-running worker does not pay that per request).", DefaultValueFactory = _ => 0 };
        warmup.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is < 0 or > 600) r.AddError("--warmup must be between 0 and 600.");
        });
        var breakdown = new Option<bool>("--breakdown") { Description = "Report where the time went: in process, the service's spans and the store calls by operation; end to end, this process's (the wallets' HTTP calls, the BFF's HTTP handling and its sends to the broker). Listening makes the spans start, so it costs a little." };
        var json = CommonOptions.Json();
        var command = new Command("e2e", "Wallets over HTTP → BFF (device sessions) → RabbitMQ → worker processes: logins/s, signs/s, p50/p95/p99 per operation and errors by code; and in the same run the same workload on the service core in process (no HTTP, no broker), and bare MassTransit request/reply on the same broker, as ratios.")
        {
            wallets, workers, seconds, warmup, signsPerLogin, rabbitMq, breakdown, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            var settings = new E2eSettings(parse.GetValue(wallets), parse.GetValue(workers), TimeSpan.FromSeconds(parse.GetValue(seconds)),
                parse.GetValue(signsPerLogin), parse.GetValue(rabbitMq) is { } uri ? ParseLoopbackBroker(uri) : null, parse.GetValue(breakdown))
            {
                Warmup = TimeSpan.FromSeconds(parse.GetValue(warmup)),
            };
            var r = await E2eBenchmark.RunAsync(settings, line => { if (!asJson) Console.Error.WriteLine("… " + line); }, cancellationToken);
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["wallets"] = settings.Wallets,
                    ["workers"] = settings.Workers,
                    ["seconds"] = settings.Duration.TotalSeconds,
                    ["warmup_s"] = settings.Warmup.TotalSeconds,
                    ["signs_per_login"] = settings.SignsPerLogin,
                    ["broker"] = r.Broker,
                    ["processor_count"] = r.ProcessorCount,
                    ["load_average_1m_at_start"] = r.LoadAverageAtStart,
                    ["e2e"] = LoadJson(r.EndToEnd),
                    ["in_process"] = LoadJson(r.InProcess),
                    ["echo"] = EchoJson(r.Echo),
                    ["echo_quorum_queue"] = r.QuorumEcho is { } quorum ? EchoJson(quorum) : null,
                    ["e2e_to_in_process_sign_ratio"] = r.SignRatio,
                    ["e2e_sign_to_echo_ratio"] = r.EchoRatio,
                    ["e2e_sign_to_quorum_echo_ratio"] = r.QuorumEchoRatio,
                    ["in_process_breakdown"] = BreakdownJson(r.InProcessBreakdown, r.InProcess),
                    ["e2e_breakdown"] = BreakdownJson(r.EndToEndBreakdown, r.EndToEnd),
                }));
                return 0;
            }

            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "{0} wallet(s), {1} worker process(es), {2:0.#} s each, a login every {3} signs; broker: {4}; {5} cores, load {6} at start.",
                settings.Wallets, settings.Workers, settings.Duration.TotalSeconds, settings.SignsPerLogin, Markup.Escape(r.Broker), r.ProcessorCount,
                r.LoadAverageAtStart is { } average ? average.ToString("0.00", CultureInfo.InvariantCulture) : "unknown");
            var table = new Table().AddColumns("Path", "Op", "count", "ops / s", "p50 ms", "p95 ms", "p99 ms", "max ms");
            LoadRows(table, "in-process", r.InProcess);
            LoadRows(table, "e2e", r.EndToEnd);
            var echo = r.Echo.Operations[EchoBaseline.Echo];
            table.AddRow("echo", "request/reply", echo.Count.ToString("N0", CultureInfo.InvariantCulture), Rate(r.Echo.PerSecond(EchoBaseline.Echo)),
                Ms(echo.P50Ms), Ms(echo.P95Ms), Ms(echo.P99Ms), Ms(echo.MaxMs));
            if (r.QuorumEcho is { } quorumEcho)
            {
                var q = quorumEcho.Operations[EchoBaseline.Echo];
                table.AddRow("echo", "quorum queue", q.Count.ToString("N0", CultureInfo.InvariantCulture), Rate(quorumEcho.PerSecond(EchoBaseline.Echo)),
                    Ms(q.P50Ms), Ms(q.P95Ms), Ms(q.P99Ms), Ms(q.MaxMs));
            }
            AnsiConsole.Write(table);
            BreakdownTable("In-process span / timed call", r.InProcessBreakdown, r.InProcess);
            BreakdownTable("End-to-end span in this process (wallets + BFF)", r.EndToEndBreakdown, r.EndToEnd);
            foreach (var (path, load) in new[] { ("in process", r.InProcess), ("end to end", r.EndToEnd) })
            {
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "Errors {0}: {1}", path, load.ErrorCount == 0
                    ? "[green]none[/]"
                    : "[red]" + Markup.Escape(string.Join(", ", load.Errors.Select(e => $"{e.Key} × {e.Value}"))) + "[/]");
            }

            foreach (var (path, load) in new[] { ("in process", r.InProcess), ("end to end", r.EndToEnd) })
            {
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "CPU per sign {0} (whole workload, logins included): {1}", path,
                    Markup.Escape(string.Join(", ", (load.Cpu ?? new Dictionary<string, TimeSpan>()).Keys.Select(k => $"{k} {Ms(load.CpuMsPer(k, LoadRun.Sign))} ms"))));
            }

            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
                "Managed allocation per sign in this process (whole workload, logins included): in process {0} KiB, end to end (BFF + wallets) {1} KiB",
                r.InProcess.KibAllocatedPer(LoadRun.Sign).ToString("N1", CultureInfo.InvariantCulture), r.EndToEnd.KibAllocatedPer(LoadRun.Sign).ToString("N1", CultureInfo.InvariantCulture));

            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[bold]e2e signs/s ÷ in-process signs/s = {0}[/] ({1} ÷ {2}).",
                Ratio(r.SignRatio), Rate(r.EndToEnd.PerSecond(LoadRun.Sign)), Rate(r.InProcess.PerSecond(LoadRun.Sign)));
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[bold]e2e signs/s ÷ echo round trips/s = {0}[/] ({1} ÷ {2}, same broker, {3} in flight; goal ≥ 0.6).",
                Ratio(r.EchoRatio), Rate(r.EndToEnd.PerSecond(LoadRun.Sign)), Rate(r.Echo.PerSecond(EchoBaseline.Echo)), settings.Wallets);
            if (r.QuorumEcho is { } quorumRun)
            {
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "e2e signs/s ÷ quorum-queue echo round trips/s = {0} ({1} ÷ {2}; the request queue's kind, durable and replicated).",
                    Ratio(r.QuorumEchoRatio), Rate(r.EndToEnd.PerSecond(LoadRun.Sign)), Rate(quorumRun.PerSecond(EchoBaseline.Echo)));
            }
            return 0;
        });
        return command;
    }

    /// <summary>Only a broker on this machine: the benchmark talks to nothing else.</summary>
    private static Uri? ParseLoopbackBroker(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps")) return null;
        var loopback = string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(uri.IdnHost, out var address) && IPAddress.IsLoopback(address));
        return loopback ? uri : null;
    }

    private static Dictionary<string, object> LoadJson(LoadResult load) => new()
    {
        ["elapsed_s"] = load.Elapsed.TotalSeconds,
        ["logins"] = load.Count(LoadRun.Login),
        ["signs"] = load.Count(LoadRun.Sign),
        ["session_ends"] = load.Count(LoadRun.SessionEnd),
        ["logins_per_s"] = load.PerSecond(LoadRun.Login),
        ["signs_per_s"] = load.PerSecond(LoadRun.Sign),
        ["latency_ms"] = load.Operations.ToDictionary(o => o.Key, o => new Dictionary<string, double>
        {
            ["count"] = o.Value.Count,
            ["p50"] = o.Value.P50Ms,
            ["p95"] = o.Value.P95Ms,
            ["p99"] = o.Value.P99Ms,
            ["max"] = o.Value.MaxMs,
        }, StringComparer.Ordinal),
        ["errors"] = load.Errors,
        ["error_count"] = load.ErrorCount,
        ["cpu_ms_per_sign"] = load.Cpu?.ToDictionary(c => c.Key, c => load.CpuMsPer(c.Key, LoadRun.Sign), StringComparer.Ordinal) ?? [],
        ["kib_allocated_per_sign"] = new Dictionary<string, double>(StringComparer.Ordinal) { [E2eBenchmark.CpuThisProcess] = load.KibAllocatedPer(LoadRun.Sign) },
    };

    private static Dictionary<string, object> EchoJson(LoadResult echo) => new()
    {
        ["elapsed_s"] = echo.Elapsed.TotalSeconds,
        ["round_trips"] = echo.Count(EchoBaseline.Echo),
        ["round_trips_per_s"] = echo.PerSecond(EchoBaseline.Echo),
        ["latency_ms"] = echo.Operations[EchoBaseline.Echo] is var s
            ? new Dictionary<string, double> { ["p50"] = s.P50Ms, ["p95"] = s.P95Ms, ["p99"] = s.P99Ms, ["max"] = s.MaxMs }
            : [],
        ["errors"] = echo.Errors,
        ["error_count"] = echo.ErrorCount,
    };

    /// <summary>A line's total wall time spread over the run's signs (logins included: it is the cost of the workload per sign).</summary>
    private static double PerSign(HopTiming hop, LoadResult load) => load.Count(LoadRun.Sign) is > 0 and var signs ? hop.TotalMs / signs : 0;

    private static string Ms(double ms) => ms.ToString("0.00", CultureInfo.InvariantCulture);

    private static List<Dictionary<string, object>>? BreakdownJson(IReadOnlyList<HopTiming>? hops, LoadResult load) =>
        hops?.Select(h => new Dictionary<string, object>
        {
            ["name"] = h.Name,
            ["count"] = h.Count,
            ["mean_ms"] = h.MeanMs,
            ["total_ms"] = h.TotalMs,
            ["per_sign_ms"] = PerSign(h, load),
        }).ToList();

    private static void BreakdownTable(string title, IReadOnlyList<HopTiming>? hops, LoadResult load)
    {
        if (hops is null) return;
        var table = new Table().AddColumns(title, "count", "mean ms", "total ms", "ms per sign");
        foreach (var h in hops)
            table.AddRow(Markup.Escape(h.Name), h.Count.ToString("N0", CultureInfo.InvariantCulture), Ms(h.MeanMs), Ms(h.TotalMs), Ms(PerSign(h, load)));
        AnsiConsole.Write(table);
    }

    private static void LoadRows(Table table, string path, LoadResult load)
    {
        foreach (var operation in LoadRun.Operations)
        {
            var s = load.Operations[operation];
            table.AddRow(operation == LoadRun.Operations[0] ? path : "", operation, s.Count.ToString("N0", CultureInfo.InvariantCulture),
                Rate(load.PerSecond(operation)), Ms(s.P50Ms), Ms(s.P95Ms), Ms(s.P99Ms), Ms(s.MaxMs));
        }
    }

    private static Command Hsm()
    {
        var seconds = new Option<double>("--seconds") { Description = "Time spent on each of the five measurements.", DefaultValueFactory = _ => 3 };
        seconds.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is <= 0 or > 600) r.AddError("--seconds must be more than 0 and at most 600.");
        });
        var module = new Option<string>("--module") { Description = "PKCS#11 module.", DefaultValueFactory = _ => SoftHsmToken.DefaultModulePath };
        var json = CommonOptions.Json();
        var command = new Command("hsm", "PKCS#11 throughput on a throw-away SoftHSM2 token: P-256 signs/s with 1 and 2 threads, ECDH/s, key generations/s, and .NET's in-process ECDsa sign rate in the same run.")
        {
            seconds, module, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var asJson = parse.GetValue(json);
            var directory = Directory.CreateTempSubdirectory("r2ps-bench-hsm-");
            try
            {
                if (!asJson) Console.Error.WriteLine($"… Creating a throw-away SoftHSM2 token in {directory.FullName}");
                var pin = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
                var token = SoftHsmToken.Ensure(directory.FullName, "r2ps-bench", pin + "so", pin, parse.GetValue(module)!);
                var progress = new Progress<string>(line => { if (!asJson) Console.Error.WriteLine("… " + line); });
                var r = await HsmBenchmark.RunAsync(token.CreateOptions(pin, sessionPoolSize: 2), TimeSpan.FromSeconds(parse.GetValue(seconds)), progress, cancellationToken);
                if (asJson)
                {
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        hsm_sign_per_s_1_thread = r.SignsPerSecondOneThread,
                        hsm_sign_per_s_2_threads = r.SignsPerSecondTwoThreads,
                        hsm_ecdh_per_s = r.EcdhPerSecond,
                        hsm_keygen_per_s = r.KeyGenerationsPerSecond,
                        dotnet_sign_per_s = r.DotNetSignsPerSecond,
                        two_thread_scaling = r.TwoThreadScaling,
                        hsm_to_dotnet_sign_ratio = r.HsmToDotNetSignRatio,
                    }));
                    return 0;
                }
                var table = new Table().AddColumns("Operation", "ops / s", "ratio");
                table.AddRow("HSM P-256 sign, 1 thread", Rate(r.SignsPerSecondOneThread), "1.00");
                table.AddRow("HSM P-256 sign, 2 threads", Rate(r.SignsPerSecondTwoThreads), Ratio(r.TwoThreadScaling) + " × 1 thread");
                table.AddRow("HSM P-256 ECDH", Rate(r.EcdhPerSecond), Ratio(r.EcdhToSignRatio) + " × sign");
                table.AddRow("HSM P-256 key generation", Rate(r.KeyGenerationsPerSecond), "");
                table.AddRow(".NET ECDsa P-256 sign (in process)", Rate(r.DotNetSignsPerSecond), "HSM = " + Ratio(r.HsmToDotNetSignRatio) + " × this");
                AnsiConsole.Write(table);
                return 0;
            }
            finally
            {
                directory.Delete(recursive: true);
            }
        });
        return command;
    }

    private static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture);

    private static string Ratio(double ratio) => ratio.ToString("0.00", CultureInfo.InvariantCulture);

    private static Command Opaque()
    {
        var iterations = new Option<int>("--iterations") { Description = "Logins (and scalar multiplications) to time.", DefaultValueFactory = _ => 300 };
        iterations.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 1_000_000) r.AddError("--iterations must be between 1 and 1000000.");
        });
        var json = CommonOptions.Json();
        var command = new Command("opaque", "Server-side OPAQUE login cost (GenerateKE2 + ServerFinish) vs one P-256 scalar multiplication. Goal: ≤ 1.5 ms per login.")
        {
            iterations, json,
        };
        command.SetAction(parse =>
        {
            var asJson = parse.GetValue(json);
            var progress = new Progress<string>(line => { if (!asJson) Console.Error.WriteLine("… " + line); });
            var r = OpaqueBenchmark.Run(parse.GetValue(iterations), progress);
            const double GoalMs = 1.5;
            var met = r.ServerLogin.TotalMilliseconds <= GoalMs;
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    iterations = r.Iterations,
                    scalar_multiplier = r.ScalarMultiplier,
                    scalar_multiplication_ms = r.ScalarMultiplication.TotalMilliseconds,
                    bouncycastle_scalar_multiplication_ms = r.BouncyCastleScalarMultiplication.TotalMilliseconds,
                    generate_ke2_ms = r.GenerateKe2.TotalMilliseconds,
                    server_finish_ms = r.ServerFinish.TotalMilliseconds,
                    server_login_ms = r.ServerLogin.TotalMilliseconds,
                    fake_record_ke2_ms = r.FakeRecordKe2.TotalMilliseconds,
                    login_to_scalar_multiplication_ratio = r.LoginToScalarMultiplicationRatio,
                    goal_ms = GoalMs,
                    goal_met = met,
                }));
                return 0;
            }
            var table = new Table().AddColumns("Operation (server side)", "ms / op", "× scalar mult");
            Row(table, $"P-256 scalar multiplication ({r.ScalarMultiplier})", r.ScalarMultiplication, r.ScalarMultiplication);
            Row(table, "P-256 scalar multiplication (BouncyCastle's own)", r.BouncyCastleScalarMultiplication, r.ScalarMultiplication);
            Row(table, "GenerateKE2 (registered client)", r.GenerateKe2, r.ScalarMultiplication);
            Row(table, "ServerFinish (KE3 check)", r.ServerFinish, r.ScalarMultiplication);
            Row(table, "[bold]Server login (KE2 + finish)[/]", r.ServerLogin, r.ScalarMultiplication);
            Row(table, "GenerateKE2 (unknown client, fake record)", r.FakeRecordKe2, r.ScalarMultiplication);
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
                "{0} iterations. Server login {1:0.000} ms = {2:0.0}× one scalar multiplication; goal ≤ {3} ms: {4}.",
                r.Iterations, r.ServerLogin.TotalMilliseconds, r.LoginToScalarMultiplicationRatio, GoalMs, met ? "[green]met[/]" : "[red]not met[/]");
            return 0;
        });
        return command;
    }

    private static void Row(Table table, string name, TimeSpan perOp, TimeSpan scalar) =>
        table.AddRow(name,
            perOp.TotalMilliseconds.ToString("0.0000", CultureInfo.InvariantCulture),
            (perOp / scalar).ToString("0.0", CultureInfo.InvariantCulture));
}
