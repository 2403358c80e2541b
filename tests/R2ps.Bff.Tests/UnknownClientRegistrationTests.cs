using System.Net;
using R2ps.Protocol.Envelopes;
using static R2ps.Bff.Tests.DeviceSessionProbe;

namespace R2ps.Bff.Tests;

/// <summary>The negative cache of unknown clients over HTTP: a registration through this BFF is seen at once (issue 10 item 2).</summary>
[Collection(EmbeddedBffDefinition.Name)]
public sealed class UnknownClientRegistrationTests(EmbeddedBff system)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_refused_as_unknown_can_establish_right_after_its_registration_through_this_bff()
    {
        using var http = system.CreateClient();
        using var device = EmbeddedBff.NewDevice();
        var (body, _) = Request(device.ClientId, device.Kid, Hello(device.ClientId, device.Kid, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ClientEnvelope.NewNonce()),
            device.Key, system.BffKey);
        using (var unknown = await PostJsonAsync(http, "r2ps/v1/device-sessions", body, Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
            Assert.Equal("UNAUTHORIZED", await ErrorCodeAsync(unknown, Ct));
        }

        // Within the negative cache's lifetime (5 s by default), yet found: the registration forgot the cached miss.
        await system.Admin(http).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, [EmbeddedBff.Context], Ct);
        var (sessionId, _) = await EstablishAsync(http, device, system.BffKey, Ct);
        Assert.Equal(64, sessionId.Length);
    }
}
