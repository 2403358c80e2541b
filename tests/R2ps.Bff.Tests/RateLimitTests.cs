using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Bff.Endpoints;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Wallet;
using static R2ps.Bff.Tests.DeviceSessionProbe;

namespace R2ps.Bff.Tests;

/// <summary>
/// Issue 10 item 2: the BFF limits requests per remote address and per <c>client_id</c> (ASP.NET Core's limiter), and a
/// refusal is 429 with the error body of PROTOCOL.md 1.2 and <c>Retry-After</c>. Each test runs a BFF of its own with
/// tight limits and a long period, so no permit comes back during the test whatever the machine's speed.
/// </summary>
public sealed class RateLimitTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    static Task<BffHost> StartAsync(string token, int perAddress, int perClient)
    {
        var hsm = TestHsm.Token(token);
        var directory = Directory.CreateTempSubdirectory("r2ps-bff-ratelimit-");
        return BffHost.StartAsync(new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "inmemory",
            // No worker here: a request that passes the limits is answered 503 after this, which tells it from a 429.
            ["Messaging:RequestTimeout"] = "00:00:00.300",
            ["Hsm:ModulePath"] = hsm.ModulePath,
            ["Hsm:TokenLabel"] = hsm.Label,
            ["Hsm:UserPin"] = TestHsm.UserPin,
            ["Hsm:SessionPoolSize"] = "1",
            ["Bff:ConnectionString"] = $"Data Source={Path.Combine(directory.FullName, "bff.db")}",
            ["Bff:ReadinessTimeout"] = "00:00:00.200",
            ["Bff:RateLimit:PerAddressPermits"] = perAddress.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Bff:RateLimit:PerAddressPeriod"] = "01:00:00",
            ["Bff:RateLimit:PerClientPermits"] = perClient.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Bff:RateLimit:PerClientPeriod"] = "01:00:00",
        });
    }

    static async Task AssertRateLimitedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        // PROTOCOL.md 1.2 names no code for a rate limit; SERVICE_UNAVAILABLE (try again later) is the closest.
        Assert.Equal("SERVICE_UNAVAILABLE", await ErrorCodeAsync(response, Ct));
        var retryAfter = Assert.Single(response.Headers.GetValues("Retry-After"));
        Assert.True(long.TryParse(retryAfter, out var seconds) && seconds >= 1, $"Retry-After: {retryAfter}");
    }

    [Fact]
    public async Task One_address_past_its_limit_gets_429_with_the_error_body_and_retry_after()
    {
        await using var bff = await StartAsync("r2ps-ratelimit-address", perAddress: 3, perClient: 1000);
        using var http = bff.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            using var live = await http.GetAsync(new Uri("health/live", UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        // Any route, also one that would do real work: refused before it is read.
        using (var refused = await http.GetAsync(new Uri("health/live", UriKind.Relative), Ct))
            await AssertRateLimitedAsync(refused);
        using (var establish = await PostJsonAsync(http, "r2ps/v1/device-sessions", """{"client_id":"a","kid":"b","enc":"x","ct":"y"}""", Ct))
            await AssertRateLimitedAsync(establish);
    }

    [Fact]
    public async Task One_client_id_past_its_limit_gets_429_before_any_broker_round_trip_and_other_clients_are_served()
    {
        await using var bff = await StartAsync("r2ps-ratelimit-client", perAddress: 1000, perClient: 2);
        using var http = bff.CreateClient();
        // No worker, so no /r2ps/v1/keys: the BFF's key from its services.
        var bffKey = bff.Services.GetRequiredService<BffKeys>().Key.PublicKey;
        using var device = EmbeddedBff.NewDevice();

        async Task<HttpResponseMessage> EstablishAsync(R2psDevice d)
        {
            var (body, _) = Request(d.ClientId, d.Kid, Hello(d.ClientId, d.Kid, Now, ClientEnvelope.NewNonce()), d.Key, bffKey);
            return await PostJsonAsync(http, "r2ps/v1/device-sessions", body, Ct);
        }

        // Within the limit the BFF asks the (absent) workers: 503. Past it, 429 at once.
        for (var i = 0; i < 2; i++)
        {
            using var passed = await EstablishAsync(device);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, passed.StatusCode);
        }

        using (var refused = await EstablishAsync(device))
            await AssertRateLimitedAsync(refused);

        // The plain route shares the client's budget: an envelope naming the same client_id is refused too.
        var envelope = ClientEnvelope.BuildDeviceRequest(new ClientRequest(device.ClientId, device.Kid, "hsm", ServiceTypes.SessionContextEnd), [],
            device.Key, bffKey, DateTimeOffset.UtcNow).Jws;
        using (var plain = await PostJoseAsync(http, "r2ps/v1/r2ps", envelope, Ct))
            await AssertRateLimitedAsync(plain);

        // Another client from the same address still passes the limit (and meets the absent workers).
        using var other = EmbeddedBff.NewDevice();
        using var served = await EstablishAsync(other);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, served.StatusCode);
    }

    [Fact]
    public void Ipv6_addresses_share_a_partition_per_64_and_ipv4_mapped_addresses_count_as_ipv4()
    {
        Assert.Equal(BffRateLimits.AddressPartition(IPAddress.Parse("2001:db8:1:2::1")), BffRateLimits.AddressPartition(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.NotEqual(BffRateLimits.AddressPartition(IPAddress.Parse("2001:db8:1:2::1")), BffRateLimits.AddressPartition(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal("192.0.2.7", BffRateLimits.AddressPartition(IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.Equal("none", BffRateLimits.AddressPartition(null));
    }

    [Theory]
    [InlineData("Bff:RateLimit:PerAddressPermits", "0")]
    [InlineData("Bff:RateLimit:PerClientPermits", "0")]
    [InlineData("Bff:RateLimit:PerAddressPeriod", "00:00:00")]
    [InlineData("Bff:RateLimit:PerClientPeriod", "2.00:00:00")]
    public void Unusable_limits_are_refused_at_start(string key, string value)
    {
        var options = new BffOptions { ConnectionString = "Data Source=x.db" };
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [key.Replace("Bff:", string.Empty, StringComparison.Ordinal)] = value }).Build();
        config.Bind(options);
        var result = new BffOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("RateLimit", result.FailureMessage, StringComparison.Ordinal);
    }
}
