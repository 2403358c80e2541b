using System.Diagnostics;
using System.Reflection;

namespace R2ps.Compose.Tests;

/// <summary>
/// compose/docker-compose.yml cannot be run here (no Docker engine), so Debian's docker-compose validates and renders it:
/// the file must parse, interpolate its secrets, and describe every role of the distributed deployment.
/// </summary>
public class ComposeFileTests
{
    private static readonly string ComposeFile = Path.Combine(RepositoryRoot(), "compose", "docker-compose.yml");

    [Fact]
    public async Task Compose_file_renders_with_its_secrets_set()
    {
        var (exit, output, error) = await ConfigAsync(new()
        {
            ["R2PS_ADMIN_TOKEN"] = "admin-token-for-the-test",
            ["R2PS_HSM_PIN"] = "1234",
            ["R2PS_HSM_SO_PIN"] = "5678",
            ["R2PS_RABBITMQ_PASSWORD"] = "broker-password",
            ["R2PS_POSTGRES_PASSWORD"] = "database-password",
        });

        Assert.True(exit == 0, error);
        foreach (var service in new[] { "postgres:", "rabbitmq:", "hsm-init:", "worker:", "bff:" })
            Assert.Contains("  " + service, output, StringComparison.Ordinal);
        Assert.Contains("replicas: 2", output, StringComparison.Ordinal);
        Assert.Contains("rabbitmq:3.10-management", output, StringComparison.Ordinal);
        Assert.Contains("RabbitMq__Uri: amqp://r2ps:broker-password@rabbitmq:5672/", output, StringComparison.Ordinal);
        Assert.Contains("condition: service_completed_successfully", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workers_and_the_bff_share_the_postgres_service_as_their_store()
    {
        var (exit, output, error) = await ConfigAsync(new()
        {
            ["R2PS_ADMIN_TOKEN"] = "admin-token-for-the-test",
            ["R2PS_HSM_PIN"] = "1234",
            ["R2PS_HSM_SO_PIN"] = "5678",
            ["R2PS_RABBITMQ_PASSWORD"] = "broker-password",
            ["R2PS_POSTGRES_PASSWORD"] = "database-password",
        });

        Assert.True(exit == 0, error);
        Assert.Contains("image: postgres:15", output, StringComparison.Ordinal);
        Assert.Contains("postgres:/var/lib/postgresql/data", output, StringComparison.Ordinal); // its own volume
        Assert.Contains("Store__Provider: postgres", output, StringComparison.Ordinal);
        Assert.Contains("SignSessions__Provider: postgres", output, StringComparison.Ordinal);
        Assert.Contains("Bff__Provider: postgres", output, StringComparison.Ordinal);
        Assert.Contains("Store__ConnectionString: Host=postgres;Database=r2ps;Username=r2ps;Password=database-password", output, StringComparison.Ordinal);
        Assert.Contains("Bff__ConnectionString: Host=postgres;Database=r2ps_bff;Username=r2ps;Password=database-password", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Data Source=", output, StringComparison.Ordinal); // no SQLite file left in the deployment
    }

    [Fact]
    public async Task Compose_file_refuses_to_render_without_its_secrets()
    {
        var (exit, _, error) = await ConfigAsync([]);

        Assert.NotEqual(0, exit);
        Assert.Contains("R2PS_", error, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output, string Error)> ConfigAsync(Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("docker-compose", ["-f", ComposeFile, "config"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(), // no stray .env file
        };
        foreach (var name in new[] { "R2PS_ADMIN_TOKEN", "R2PS_HSM_PIN", "R2PS_HSM_SO_PIN", "R2PS_RABBITMQ_PASSWORD", "R2PS_POSTGRES_PASSWORD" })
            start.Environment.Remove(name);
        foreach (var (name, value) in environment) start.Environment[name] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException("docker-compose did not start.");
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private static string RepositoryRoot() =>
        typeof(ComposeFileTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
}
