using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Security.Cryptography;
using R2ps.Crypto.Benchmarks;
using R2ps.Hsm;
using R2ps.Hsm.Benchmarks;
using Spectre.Console;

namespace R2ps.Cli.Commands;

/// <summary><c>r2ps bench …</c>: measured figures, ratios taken within one run (these machines are noisy).</summary>
internal static class BenchCommand
{
    public static Command Create() => new("bench", "Measure the cost of the protocol's hot paths.")
    {
        Opaque(),
        Hsm(),
    };

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
                    scalar_multiplication_ms = r.ScalarMultiplication.TotalMilliseconds,
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
            Row(table, "P-256 scalar multiplication", r.ScalarMultiplication, r.ScalarMultiplication);
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
