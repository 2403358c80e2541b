using System.Text.Json;

namespace R2ps.Cli.Tests;

[Collection(nameof(SharedConsole))]
public class SelfTestCommandTests
{
    [Fact]
    public async Task Selftest_prints_every_check_and_exits_zero()
    {
        var (exit, output, _) = await CliRunner.RunAsync("selftest", "--json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(0, json.RootElement.GetProperty("failed").GetInt32());
        var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToList();
        Assert.True(checks.Count >= 10);
        Assert.All(checks, c => Assert.True(c.GetProperty("passed").GetBoolean()));
    }

    [Fact]
    public async Task Unknown_command_is_an_error()
    {
        var (exit, _, error) = await CliRunner.RunAsync("no-such-command");
        Assert.NotEqual(0, exit);
        Assert.NotEmpty(error);
    }
}

[CollectionDefinition(nameof(SharedConsole), DisableParallelization = true)]
public sealed class SharedConsole;
