using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Hpke;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.DeviceSessions;
using R2ps.Protocol.Envelopes;
using R2ps.Wallet;

namespace R2ps.Bff.Tests;

/// <summary>Hand-made BFF requests for the attack and error tests: every value can be chosen or spoiled.</summary>
internal static class DeviceSessionProbe
{
    public static string Hello(string clientId, string kid, long iat, string nonce) =>
        Encoding.UTF8.GetString(R2psJson.Serialize(new DeviceSessionHello(clientId, kid, iat, nonce)));

    /// <summary>The body of PROTOCOL.md 2.1, sealed by <paramref name="sender"/> to <paramref name="bffKey"/>; the session key out.</summary>
    public static (string Body, byte[] SessionKey) Request(string clientId, string kid, string helloJson, IEcPrivateKey sender, EcPublicKey bffKey)
    {
        using var sealedHello = DeviceSessionHpke.Seal(bffKey, sender, Encoding.UTF8.GetBytes(helloJson));
        var body = JsonSerializer.Serialize(new { client_id = clientId, kid, enc = Base64Url.Encode(sealedHello.Enc), ct = Base64Url.Encode(sealedHello.Ciphertext) });
        return (body, sealedHello.SessionKey.ToArray());
    }

    public static Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string path, string body, CancellationToken cancellationToken)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return http.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken);
    }

    public static Task<HttpResponseMessage> PostJoseAsync(HttpClient http, string path, string body, CancellationToken cancellationToken)
    {
        var content = new StringContent(body, Encoding.ASCII);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/jose");
        return http.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken);
    }

    /// <summary>Establishes a device session for <paramref name="device"/>; its id and key.</summary>
    public static async Task<(string SessionId, byte[] Key)> EstablishAsync(HttpClient http, R2psDevice device, EcPublicKey bffKey, CancellationToken cancellationToken)
    {
        var hello = Hello(device.ClientId, device.Kid, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ClientEnvelope.NewNonce());
        var (body, key) = Request(device.ClientId, device.Kid, hello, device.Key, bffKey);
        using var response = await PostJsonAsync(http, "r2ps/v1/device-sessions", body, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = R2psJson.Deserialize<DeviceSessionCreated>(await response.Content.ReadAsStringAsync(cancellationToken), "created");
        return (created.SessionId, key);
    }

    /// <summary>The wrapping JWE of PROTOCOL.md 2.2.</summary>
    public static string Wrap(string envelope, string sessionId, byte[] key) =>
        Jwe.EncryptDirect(Encoding.ASCII.GetBytes(envelope), key, ("kid", sessionId), ("cty", "JOSE"));

    /// <summary>The error code of an error answer, after checking that the body is exactly the error shape.</summary>
    public static async Task<string> ErrorCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = R2psJson.Deserialize<ErrorBody>(await response.Content.ReadAsStringAsync(cancellationToken), "error");
        Assert.False(string.IsNullOrEmpty(error.ErrorMessage));
        return error.ErrorCode;
    }
}
