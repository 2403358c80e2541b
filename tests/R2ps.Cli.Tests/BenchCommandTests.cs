using System.Text.Json;

namespace R2ps.Cli.Tests;

[Collection(nameof(SharedConsole))]
public class BenchCommandTests
{
    [Fact]
    public async Task Bench_opaque_reports_the_login_to_scalar_multiplication_ratio()
    {
        var (exit, output, _) = await CliRunner.RunAsync("bench", "opaque", "--iterations", "3", "--json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(3, root.GetProperty("iterations").GetInt32());
        Assert.True(root.GetProperty("server_login_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("login_to_scalar_multiplication_ratio").GetDouble() > 0);
    }

    [Fact]
    public async Task Bench_opaque_refuses_a_zero_iteration_count()
    {
        var (exit, _, error) = await CliRunner.RunAsync("bench", "opaque", "--iterations", "0");
        Assert.NotEqual(0, exit);
        Assert.Contains("--iterations", error, StringComparison.Ordinal);
    }
}

[Collection(nameof(SharedConsole))]
public class BenchHsmCommandTests
{
    [Fact]
    public async Task Bench_hsm_measures_a_throw_away_softhsm_token_and_reports_the_ratio_to_dotnet()
    {
        var (exit, output, error) = await CliRunner.RunAsync("bench", "hsm", "--seconds", "0.2", "--json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.True(root.GetProperty("hsm_sign_per_s_1_thread").GetDouble() > 0);
        Assert.True(root.GetProperty("hsm_keygen_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("hsm_to_dotnet_sign_ratio").GetDouble() > 0);
    }
}
