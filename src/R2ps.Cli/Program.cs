using System.CommandLine;
using R2ps.Cli;

// Exceptions end the command with one readable line (and exit code 1), not a stack trace.
try
{
    return await CliApplication.Create().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("r2ps: cancelled.");
    return 130;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"r2ps: {ex.GetType().Name}: {ex.Message}");
    return 1;
}
