using System.CommandLine;

namespace R2ps.Cli.Tests;

[Collection(nameof(SharedConsole))]
public class ServeSagaCommandTests
{
    [Fact]
    public async Task Serve_saga_hosts_the_saga_alone_then_stops_cleanly_when_cancelled()
    {
        var data = Directory.CreateTempSubdirectory("r2ps-serve-saga-test-");
        var output = new StringWriter();
        using var stop = new CancellationTokenSource();
        try
        {
            var run = CliApplication.Create()
                .Parse(["serve", "saga", "--data", data.FullName, "--Logging:LogLevel:Default=Warning"])
                .InvokeAsync(new InvocationConfiguration { Output = output, Error = output }, stop.Token);

            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!output.ToString().Contains("serving (saga", StringComparison.Ordinal) && !run.IsCompleted && DateTime.UtcNow < deadline)
                await Task.Delay(100, TestContext.Current.CancellationToken);
            Assert.False(run.IsCompleted, output.ToString());
            Assert.Contains("serving (saga", output.ToString(), StringComparison.Ordinal);

            await stop.CancelAsync();
            Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
            Assert.True(File.Exists(Path.Combine(data.FullName, "r2ps.db")), "the saga creates its table in the data folder's database");
            Assert.DoesNotContain("listening on", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }
}
