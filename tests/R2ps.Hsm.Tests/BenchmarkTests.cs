using R2ps.Tools.Benchmarks;

namespace R2ps.Hsm.Tests;

/// <summary>The benchmark runs end to end and cleans up after itself (its figures are not checked: not a timed test).</summary>
public sealed class BenchmarkTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Benchmark_reports_every_rate_and_leaves_no_keys_behind()
    {
        // The benchmark opens its own connection: release the fixture's token for the duration.
        hsm.Connection.Dispose();
        try
        {
            var lines = new List<string>();
            var result = await HsmBenchmark.RunAsync(hsm.Options(), TimeSpan.FromMilliseconds(100), new Progress<string>(lines.Add), TestContext.Current.CancellationToken);

            Assert.True(result.SignsPerSecondOneThread > 0);
            Assert.True(result.SignsPerSecondTwoThreads > 0);
            Assert.True(result.EcdhPerSecond > 0);
            Assert.True(result.KeyGenerationsPerSecond > 0);
            Assert.True(result.DotNetSignsPerSecond > 0);
        }
        finally
        {
            hsm.Restart();
        }
        Assert.Empty(await hsm.Keys.ListKeysAsync("r2ps-benchmark", cancellationToken: Ct));
    }
}
