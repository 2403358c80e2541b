using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace R2ps.Sessions.Tests;

public sealed class SignSessionOptionsTests
{
    [Fact]
    public void Options_are_bound_from_the_SignSessions_section()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["SignSessions:ConnectionString"] = "Data Source=/var/lib/r2ps/r2ps.db",
                ["SignSessions:SweepInterval"] = "00:00:01",
                ["SignSessions:ConcurrencyLimit"] = "4",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSignSessionServices();
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SignSessionOptions>>().Value;

        Assert.Equal("Data Source=/var/lib/r2ps/r2ps.db", options.ConnectionString);
        Assert.Equal(TimeSpan.FromSeconds(1), options.SweepInterval);
        Assert.Equal(4, options.ConcurrencyLimit);
        Assert.Equal(TimeSpan.FromSeconds(3), options.RequestTimeout); // default kept
    }

    [Fact]
    public void Defaults_sweep_every_250_ms()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(250), new SignSessionOptions().SweepInterval);
    }

    [Fact]
    public void A_missing_connection_string_is_rejected()
    {
        var services = new ServiceCollection();
        services.AddSignSessionServices();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SignSessionOptions>>().Value);
        Assert.Contains("SignSessions:ConnectionString is required.", error.Failures);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(120_000)]
    public void A_sweep_interval_out_of_range_is_rejected(int milliseconds)
    {
        var result = new SignSessionOptionsValidator().Validate(null, new SignSessionOptions
        {
            ConnectionString = "Data Source=x.db",
            SweepInterval = TimeSpan.FromMilliseconds(milliseconds),
        });

        Assert.True(result.Failed);
        Assert.Contains("SignSessions:SweepInterval must be between 10 ms and 1 min.", result.Failures!);
    }

    [Fact]
    public void Defaults_keep_the_inner_waits_below_the_callers_10_s()
    {
        var options = new SignSessionOptions();

        Assert.Equal(TimeSpan.FromSeconds(3), options.RequestTimeout);
        Assert.Equal(TimeSpan.FromSeconds(6), options.FanOutTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.BusyTimeout);
        Assert.Equal(2, options.CommandTimeoutSeconds);
        Assert.Equal(16, options.MaxSessionsPerKey);
        Assert.Equal(8, options.FanOutParallelism);
        Assert.Equal(TimeSpan.FromMinutes(15), options.MaxSessionDuration); // PROTOCOL.md 1.5 default maximum
    }

    [Fact]
    public void A_busy_timeout_not_below_the_request_timeout_is_rejected()
    {
        var result = new SignSessionOptionsValidator().Validate(null, new SignSessionOptions
        {
            ConnectionString = "Data Source=x.db",
            RequestTimeout = TimeSpan.FromSeconds(2),
            BusyTimeout = TimeSpan.FromMilliseconds(1500), // rounds up to a 2 s command timeout
        });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("SignSessions:BusyTimeout (rounded up to whole seconds) must be below RequestTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_saga_connections_get_the_busy_timeout_as_command_timeout_instead_of_30_s()
    {
        using var database = new TempDatabase();
        var services = new ServiceCollection();
        services.AddSignSessionServices(options =>
        {
            options.ConnectionString = database.ConnectionString;
            options.BusyTimeout = TimeSpan.FromMilliseconds(1200);
        });
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<SignSessionDbContext>>();
        await using var db = await factory.CreateDbContextAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.GetCommandTimeout(db.Database));
        Assert.Contains("Default Timeout=2", Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.GetConnectionString(db.Database),
            StringComparison.Ordinal);
    }
}
