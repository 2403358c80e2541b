using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;

namespace R2ps.Wallet.Tests;

/// <summary>How the wallet reads what a transport returns (PROTOCOL.md 1.2), without a service behind it.</summary>
public sealed class R2psWalletTests : IDisposable
{
    private readonly R2psDevice _device = new("client-1", "kid-1", SoftwareEcKey.Generate(EcCurve.P256));
    private readonly SoftwareEcKey _server = SoftwareEcKey.Generate(EcCurve.P256);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(403, "ACCESS_DENIED", ErrorCode.AccessDenied)]
    [InlineData(401, "UNAUTHORIZED", ErrorCode.Unauthorized)]
    [InlineData(415, "UNSUPPORTED_REQUEST_TYPE", ErrorCode.UnsupportedRequestType)]
    [InlineData(503, "SERVICE_UNAVAILABLE", ErrorCode.ServiceUnavailable)]
    public async Task An_error_body_becomes_a_client_exception_with_its_code(int status, string wire, ErrorCode expected)
    {
        var wallet = WalletAnswering(new TransportReply(status, $$"""{"error_code":"{{wire}}","error_message":"no"}"""));
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.EndContextAsync(Ct));
        Assert.Equal((expected, status, "no"), (error.Code, error.HttpStatus, error.Message));
    }

    [Fact]
    public async Task A_non_r2ps_error_body_is_a_server_error()
    {
        var wallet = WalletAnswering(new TransportReply(502, "<html>Bad gateway</html>"));
        var error = await Assert.ThrowsAsync<R2psClientException>(() => wallet.EndContextAsync(Ct));
        Assert.Equal((ErrorCode.ServerError, 502), (error.Code, error.HttpStatus));
    }

    [Fact]
    public async Task A_200_that_is_not_a_response_signed_by_the_pinned_server_key_is_rejected()
    {
        using var impostor = SoftwareEcKey.Generate(EcCurve.P256);
        var wallet = new R2psWallet(_device, _server.PublicKey, new InProcessTransport((jws, _) =>
        {
            var request = ServerEnvelope.Parse(jws, 65536).Payload;
            var forged = ServerEnvelope.SealDeviceResponse(request, "OK"u8, _device.PublicKey, impostor, DateTimeOffset.UtcNow);
            return Task.FromResult(new TransportReply(200, forged));
        }));
        await Assert.ThrowsAsync<ClientEnvelopeException>(() => wallet.EndContextAsync(Ct));
    }

    [Fact]
    public async Task A_genuine_ok_response_completes_the_call()
    {
        var wallet = new R2psWallet(_device, _server.PublicKey, new InProcessTransport((jws, _) =>
        {
            var request = ServerEnvelope.Parse(jws, 65536).Payload;
            return Task.FromResult(new TransportReply(200, ServerEnvelope.SealDeviceResponse(request, "OK"u8, _device.PublicKey, _server, DateTimeOffset.UtcNow)));
        }));
        await wallet.EndContextAsync(Ct);
    }

    public void Dispose()
    {
        _device.Dispose();
        _server.Dispose();
    }

    private R2psWallet WalletAnswering(TransportReply reply) =>
        new(_device, _server.PublicKey, new InProcessTransport((_, _) => Task.FromResult(reply)));
}
