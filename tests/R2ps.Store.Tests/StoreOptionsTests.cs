using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace R2ps.Store.Tests;

public sealed class StoreOptionsTests
{
    private static async Task<OptionsValidationException> StartFailsAsync(Dictionary<string, string?> settings)
    {
        await using var store = new TestStore();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddR2psStore(store.Configuration(settings));
        using var host = builder.Build();
        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Defaults_follow_the_protocol()
    {
        var options = new StoreOptions();

        Assert.Equal(StoreProviders.Sqlite, options.Provider);
        Assert.Equal(5, options.MaxConsecutiveLoginFailures);
        Assert.Equal(TimeSpan.FromMinutes(15), options.LockoutDuration);
        Assert.Equal(TimeSpan.FromMinutes(10), options.RegistrationCodeLifetime);
        Assert.True(options.RegistrationCodeBytes >= 16);
    }

    [Theory]
    [InlineData("Store:AuditRetention", "00:00:00", "Store:AuditRetention must be at least 00:01:00.")]
    [InlineData("Store:AuditRetention", "4000.00:00:00", "Store:AuditRetention must be at most 3650 days.")]
    [InlineData("Store:PruneBatchSize", "0", "Store:PruneBatchSize must be between 1 and 100,000.")]
    public async Task Unusable_retention_settings_fail_start(string key, string value, string message)
    {
        var error = await StartFailsAsync(new() { [key] = value });

        Assert.Contains(message, error.Failures);
    }

    [Fact]
    public async Task Write_batch_limits_are_validated()
    {
        var none = await StartFailsAsync(new() { ["Store:MaxWriteBatchSize"] = "0" });
        var error = await StartFailsAsync(new() { ["Store:MaxWriteBatchSize"] = "100", ["Store:WriteQueueCapacity"] = "10" });

        Assert.Contains("Store:MaxWriteBatchSize must be between 1 and 10000.", none.Failures);
        Assert.Contains("Store:DbContextPoolSize must be between 1 and 1024.", (await StartFailsAsync(new() { ["Store:DbContextPoolSize"] = "0" })).Failures);
        Assert.Contains("Store:WriteQueueCapacity must be at least Store:MaxWriteBatchSize and at most 1000000.", error.Failures);
    }

    [Fact]
    public async Task Unknown_provider_fails_start_with_a_clear_message()
    {
        var error = await StartFailsAsync(new() { ["Store:Provider"] = "mysql" });

        Assert.Contains("Store:Provider 'mysql' is not supported; use 'sqlite' or 'postgres'.", error.Failures);
    }

    [Fact]
    public async Task Missing_connection_string_fails_start()
    {
        var error = await StartFailsAsync(new() { ["Store:ConnectionString"] = "" });

        Assert.Contains("Store:ConnectionString is required.", error.Failures);
    }

    [Fact]
    public async Task In_memory_sqlite_fails_start()
    {
        var error = await StartFailsAsync(new() { ["Store:ConnectionString"] = "Data Source=:memory:" });

        Assert.Contains(error.Failures, f => f.Contains("must name a file", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Malformed_connection_string_fails_start_without_echoing_it()
    {
        var error = await StartFailsAsync(new() { ["Store:ConnectionString"] = "Data Source=/tmp/x.db;Password=hunter2;NoSuchKeyword=1" });

        Assert.Contains(error.Failures, f => f.StartsWith("Store:ConnectionString is not a valid SQLite", StringComparison.Ordinal));
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Database=r2ps;Username=r2ps", "Store:ConnectionString for PostgreSQL needs a 'Host'.")]
    [InlineData("Host=db;Username=r2ps", "Store:ConnectionString for PostgreSQL needs a 'Database'.")]
    public async Task Postgres_connection_string_without_host_or_database_fails_start(string connectionString, string failure)
    {
        var error = await StartFailsAsync(new()
        {
            ["Store:Provider"] = "postgres",
            ["Store:ConnectionString"] = connectionString,
        });

        Assert.Contains(failure, error.Failures);
    }

    [Fact]
    public async Task Malformed_postgres_connection_string_fails_start_without_echoing_it()
    {
        var error = await StartFailsAsync(new()
        {
            ["Store:Provider"] = "postgres",
            ["Store:ConnectionString"] = "Host=db;Database=r2ps;Password=hunter2;NoSuchKeyword=1",
        });

        Assert.Contains(error.Failures, f => f.StartsWith("Store:ConnectionString is not a valid PostgreSQL", StringComparison.Ordinal));
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Store:RegistrationCodeBytes", "15")]
    [InlineData("Store:MaxConsecutiveLoginFailures", "0")]
    [InlineData("Store:LockoutDuration", "00:00:00")]
    [InlineData("Store:NoncePruneInterval", "00:00:00")]
    public async Task Out_of_range_limit_fails_start(string key, string value)
    {
        var error = await StartFailsAsync(new() { [key] = value });

        Assert.Contains(error.Failures, f => f.StartsWith(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Starting_the_host_creates_the_schema()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var store = new TestStore();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddR2psStore(store.Configuration());
        using var host = builder.Build();

        await host.StartAsync(ct);
        try
        {
            Assert.True(await host.Services.GetRequiredService<INonceCache>().TryRecordAsync("c", "n", DateTimeOffset.UtcNow.AddMinutes(1), ct));
        }
        finally
        {
            await host.StopAsync(ct);
        }
    }
}
