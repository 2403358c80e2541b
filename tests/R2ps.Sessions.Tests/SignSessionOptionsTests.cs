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
        Assert.Equal(TimeSpan.FromSeconds(10), options.RequestTimeout); // default kept
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
}
