using R2ps.Tools.Benchmarks;

namespace R2ps.Crypto.Tests.Benchmarks;

// The benchmark's figures are read by people (r2ps bench opaque); this only proves it runs real logins end to end.
public class OpaqueBenchmarkTests
{
    [Fact]
    public void A_short_run_completes_real_logins_and_reports_every_figure()
    {
        var lines = new List<string>();
        var result = OpaqueBenchmark.Run(3, new SynchronousProgress(lines));

        Assert.Equal(3, result.Iterations);
        Assert.True(result.ScalarMultiplication > TimeSpan.Zero);
        Assert.True(result.GenerateKe2 > TimeSpan.Zero);
        Assert.True(result.FakeRecordKe2 > TimeSpan.Zero);
        Assert.Equal(result.GenerateKe2 + result.ServerFinish, result.ServerLogin);
        Assert.Contains(lines, l => l.StartsWith("Timing", StringComparison.Ordinal));
    }

    [Fact]
    public void Zero_iterations_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => OpaqueBenchmark.Run(0));

    private sealed class SynchronousProgress(List<string> lines) : IProgress<string>
    {
        public void Report(string value) => lines.Add(value);
    }
}
