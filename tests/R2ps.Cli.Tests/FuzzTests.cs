using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using R2ps.Cli.Commands;
using R2ps.Tools.Fuzzing;

namespace R2ps.Cli.Tests;

/// <summary>The service (serve all, in process) under generated inputs; shared by the fuzz tests of one class.</summary>
public sealed class FuzzSystemFixture : IAsyncLifetime
{
    internal FuzzSystem System { get; private set; } = null!;

    public async ValueTask InitializeAsync() => System = await FuzzSystem.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await System.DisposeAsync();
}

/// <summary>
/// Issue 10 item 12, the short run kept in CI: a few thousand generated inputs per target (the long run is
/// <c>r2ps fuzz --count 100000</c>). Never a 5xx or a dropped connection, every refusal with its PROTOCOL.md 1.2 code and
/// status, the heap flat.
/// </summary>
[Collection(nameof(SharedConsole))]
public class FuzzTests(FuzzSystemFixture fixture) : IClassFixture<FuzzSystemFixture>
{
    const int Count = 1500;

    [Theory]
    [InlineData("envelope")]
    [InlineData("bff")]
    [InlineData("admin")]
    public async Task Generated_inputs_get_no_5xx_and_every_refusal_carries_its_protocol_code(string target)
    {
        var report = await FuzzRunner.RunAsync(fixture.System.Http, target, fixture.System.Targets.For(target), Count,
            cancellationToken: TestContext.Current.CancellationToken);

        TestContext.Current.SendDiagnosticMessage(report.ToString());
        Assert.Equal(Count, report.Inputs);
        Assert.True(report.ViolationCount == 0, string.Join("\n", report.Violations));
        Assert.Equal(0, report.ServerErrors);
        Assert.True(report.MemoryFlat, report.ToString());
        // Mutating valid inputs reaches past the parsers: some are accepted, and refusals come from more than one check.
        Assert.True(report.Accepted > 0, report.ToString());
        Assert.True(report.Refusals.Count >= 2, report.ToString());
    }

    // Found by the admin target: the fallback skipped paths that look like file names and left an empty 404.
    [Theory]
    [InlineData("GET", "admin/v1/keys/a.b")]
    [InlineData("DELETE", "r2ps/v1/no-such.endpoint")]
    public async Task A_path_that_is_no_endpoint_gets_the_error_body_even_when_it_looks_like_a_file(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));

        using var response = await fixture.System.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("ILLEGAL_REQUEST_DATA", body.RootElement.GetProperty("error_code").GetString());
    }

    // Found by the bff target: a wrapping JWE whose kid is a number was a 500 (and a logged stack trace).
    [Fact]
    public async Task A_wrapping_jwe_with_a_numeric_kid_is_refused_as_illegal_request_data()
    {
        static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var jwe = string.Join('.', B64("""{"alg":"dir","enc":"A256GCM","kid":1,"cty":"JOSE"}"""u8.ToArray()), "", B64(new byte[12]), B64(new byte[20]), B64(new byte[16]));
        using var content = new StringContent(jwe, System.Text.Encoding.ASCII, "application/jose");

        using var response = await fixture.System.Http.PostAsync(new Uri("r2ps/v1/service", UriKind.Relative), content, TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("ILLEGAL_REQUEST_DATA", body.RootElement.GetProperty("error_code").GetString());
    }
}

/// <summary>
/// <c>r2ps fuzz</c> itself, in a class of its own: it starts its own service, and one process opens one token at a time,
/// so it must not overlap <see cref="FuzzTests"/>'s.
/// </summary>
[Collection(nameof(SharedConsole))]
public class FuzzCommandTests
{
    [Fact]
    public async Task The_fuzz_command_prints_a_summary_per_target_and_exits_zero()
    {
        var (exit, output, error) = await CliRunner.RunAsync("fuzz", "--target", "admin", "--count", "200");

        Assert.True(exit == 0, output + error);
        Assert.Contains("admin: 200 inputs", output, StringComparison.Ordinal);
        Assert.Contains("5xx 0", output, StringComparison.Ordinal);
    }
}

/// <summary>The generators themselves: whatever they produce from a valid input, they produce it without throwing.</summary>
public class MutationGeneratorTests
{
    static readonly string Envelope = new JsonObject
    {
        ["ver"] = "1.0", ["nonce"] = new string('a', 64), ["iat"] = 1_700_000_000, ["enc"] = "device", ["data"] = "ZGF0YQ==",
        ["client_id"] = "c", ["kid"] = "k", ["context"] = "hsm", ["type"] = "authenticate",
    }.ToJsonString();

    // Mutating a mutation once threw (a duplicated member made the second JsonObject parse fail): twice in a row must work.
    [Fact]
    public void Json_mutations_applied_twice_never_throw() =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500),
            Prop.ForAll(Mutations.JsonOnceOrTwice(Envelope).ToArbitrary(), mutated => mutated is not null));

    [Fact]
    public void Compact_mutations_of_a_three_part_token_never_throw() =>
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300),
            Prop.ForAll(Mutations.Compact("eyJhbGciOiJFUzI1NiJ9.eyJ2ZXIiOiIxLjAifQ.c2ln", "a.b.c.d.e").ToArbitrary(), mutated => mutated is not null));
}
