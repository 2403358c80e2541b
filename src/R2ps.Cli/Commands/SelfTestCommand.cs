using System.CommandLine;
using System.Text.Json;
using R2ps.Crypto.SelfTest;
using Spectre.Console;

namespace R2ps.Cli.Commands;

/// <summary><c>r2ps selftest</c>: the services' start-up known-answer test, run by hand. Exit code 1 on any failure.</summary>
internal static class SelfTestCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("selftest", "Run the cryptographic known-answer self-test (RFC vectors) and print each primitive's result.") { json };
        command.SetAction(parse =>
        {
            var results = CryptoSelfTest.Run();
            var failed = results.Count(r => !r.Passed);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    passed = results.Count - failed,
                    failed,
                    checks = results.Select(r => new { name = r.Name, passed = r.Passed, ms = r.Elapsed.TotalMilliseconds, error = r.Error }),
                }));
            }
            else
            {
                var table = new Table().AddColumns("Primitive", "Result", "ms");
                foreach (var r in results)
                {
                    table.AddRow(
                        Markup.Escape(r.Name),
                        r.Passed ? "[green]pass[/]" : "[red]FAIL[/] " + Markup.Escape(r.Error ?? ""),
                        r.Elapsed.TotalMilliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
                }
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine(failed == 0
                    ? $"[green]Self-test passed[/]: {results.Count} checks."
                    : $"[red]Self-test FAILED[/]: {failed} of {results.Count} checks.");
            }
            return failed == 0 ? 0 : 1;
        });
        return command;
    }
}
