using System.CommandLine;
using R2ps.Cli.Commands;

namespace R2ps.Cli;

/// <summary>The <c>r2ps</c> command tree; each command lives in its own file under Commands/.</summary>
public static class CliApplication
{
    public static RootCommand Create() => new("r2ps — the R2PS remote-HSM backend: serve, demo, admin, wallet, self-test, benchmarks and fuzzing.")
    {
        SelfTestCommand.Create(),
        BenchCommand.Create(),
        DemoCommand.Create(),
        ServeCommand.Create(),
        FuzzCommand.Create(),
        FaultsCommand.Create(),
        AdminCommand.Create(),
        WalletCommand.Create(),
    };
}
