using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using R2ps.Cli.Hosting;
using R2ps.Tools.Faults;
using Spectre.Console;

namespace R2ps.Cli.Commands;

/// <summary>
/// <c>r2ps faults worker-kill|broker-restart|postgres-restart</c>: wallets sign over HTTP → BFF → RabbitMQ → two worker
/// processes while one fault is injected (issue 10 item 11); counts every outcome and checks keys and sessions at the end.
/// Exit code 0 when the drill's promises held (every request answered, ≤ 1 % 503 on a worker kill, service back within
/// 15 s of a restart, nothing failing after recovery, no key lost or duplicated, no session stuck).
/// </summary>
internal static class FaultsCommand
{
    private static readonly Dictionary<string, FaultKind> Faults = new(StringComparer.Ordinal)
    {
        ["worker-kill"] = FaultKind.WorkerKill,
        ["broker-restart"] = FaultKind.BrokerRestart,
        ["postgres-restart"] = FaultKind.PostgresRestart,
    };

    public static Command Create()
    {
        var command = new Command("faults", "Inject a fault while wallets sign end to end (private broker, two worker processes, the BFF): a worker kill -9, a broker restart or a PostgreSQL restart.");
        foreach (var (name, fault) in Faults)
            command.Subcommands.Add(Drill(name, fault));
        return command;
    }

    private static Command Drill(string name, FaultKind fault)
    {
        var wallets = Bounded("--wallets", "Concurrent wallets, each in one sign session for the whole drill.", 8, 1, 64);
        var before = Bounded("--before", "Seconds of load before the fault.", 5, 1, 300);
        var down = Bounded("--down", "Seconds the broker or database stays down.", 5, 1, 120);
        var after = Bounded("--after", "Seconds of load after the fault ended.", 20, 1, 600);
        var keysPerWallet = Bounded("--keys-per-wallet", "Keys each wallet creates during the drill, spread over it (one more exists before; the service allows 10 per curve by default).", 9, 0, 9);
        var json = CommonOptions.Json();
        var command = new Command(name, fault switch
        {
            FaultKind.WorkerKill => "kill -9 of one of the two workers while wallets sign.",
            FaultKind.BrokerRestart => "The broker stopped and started again while wallets sign.",
            _ => "PostgreSQL (store, saga, BFF) restarted while wallets sign.",
        })
        {
            wallets, before, after, keysPerWallet, json,
        };
        if (fault != FaultKind.WorkerKill) command.Options.Add(down);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var console = ServeCommand.ConsoleFor(parse);
            var asJson = parse.GetValue(json);
            var settings = new FaultSettings(fault, parse.GetValue(wallets), TimeSpan.FromSeconds(parse.GetValue(before)),
                TimeSpan.FromSeconds(parse.GetValue(down)), TimeSpan.FromSeconds(parse.GetValue(after)), parse.GetValue(keysPerWallet));
            var result = await FaultDrill.RunAsync(settings, line => { if (!asJson) Console.Error.WriteLine("… " + line); }, cancellationToken);
            var violations = result.Violations();
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["fault"] = name,
                    ["wallets"] = settings.Wallets,
                    ["store"] = result.Store,
                    ["requests"] = result.Requests,
                    ["succeeded"] = result.Succeeded,
                    ["unanswered"] = result.Unanswered,
                    ["refusals"] = result.Refusals,
                    ["service_unavailable_share"] = result.ServiceUnavailableShare,
                    ["recovery_s"] = result.RecoverySeconds,
                    ["requests_after_recovery"] = result.RequestsAfterRecovery,
                    ["failed_after_recovery"] = result.FailedAfterRecovery,
                    ["keys_acknowledged"] = result.KeysAcknowledged,
                    ["keys_uncertain"] = result.KeysUncertain,
                    ["keys_listed"] = result.KeysListed,
                    ["keys_lost"] = result.KeysLost,
                    ["keys_duplicated"] = result.KeysDuplicated,
                    ["sessions_stuck"] = result.SessionsStuck,
                    ["workers_alive"] = result.WorkersAlive,
                    ["violations"] = violations,
                }));
                return violations.Count == 0 ? 0 : 1;
            }

            var table = new Table().AddColumns("", "count");
            table.AddRow("requests", N(result.Requests));
            table.AddRow("succeeded", N(result.Succeeded));
            table.AddRow("unanswered (no HTTP answer)", N(result.Unanswered));
            foreach (var (code, count) in result.Refusals.OrderByDescending(r => r.Value))
                table.AddRow("refused " + Markup.Escape(code), N(count));
            table.AddRow("503 share", result.ServiceUnavailableShare.ToString("P2", CultureInfo.InvariantCulture));
            table.AddRow("recovery after the fault", result.RecoverySeconds is { } s ? s.ToString("0.00 s", CultureInfo.InvariantCulture) : "never");
            table.AddRow("failed after recovery", $"{N(result.FailedAfterRecovery)} of {N(result.RequestsAfterRecovery)}");
            table.AddRow("keys confirmed / uncertain / listed", $"{result.KeysAcknowledged} / {result.KeysUncertain} / {result.KeysListed}");
            table.AddRow("keys lost / duplicated", $"{result.KeysLost} / {result.KeysDuplicated}");
            table.AddRow("sessions stuck", N(result.SessionsStuck));
            table.AddRow("workers alive at the end", N(result.WorkersAlive));
            console.MarkupLine($"[bold]r2ps faults {name}[/]: {settings.Wallets} wallet(s), 2 workers, store {Markup.Escape(result.Store)}");
            console.Write(table);
            console.MarkupLine(violations.Count == 0 ? "[green]✓ every promise held[/]" : "[red]✗ " + Markup.Escape(string.Join(" ", violations)) + "[/]");
            return violations.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static Option<int> Bounded(string name, string description, int defaultValue, int min, int max)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < min || r.GetValueOrDefault<int>() > max) r.AddError($"{name} must be between {min} and {max}.");
        });
        return option;
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
}
