using System.Net;
using System.Net.Http.Headers;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.Admin;

namespace R2ps.Wallet.Http;

/// <summary>
/// The admin API of the BFF (PROTOCOL.md 2.4) with a bearer token. Refusals throw <see cref="R2psClientException"/> with
/// the R2PS code and HTTP status the BFF answered.
/// </summary>
public sealed class R2psAdminClient
{
    const int MaxResponseBytes = 64 * 1024;

    readonly HttpClient _http;
    readonly AuthenticationHeaderValue _authorization;

    /// <summary>A client on <paramref name="http"/> (its <c>BaseAddress</c> is the BFF) presenting <paramref name="token"/>.</summary>
    public R2psAdminClient(HttpClient http, string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary><c>POST /admin/v1/clients</c>: registers a device key and returns its one-time code.</summary>
    public Task<ClientRegistered> RegisterAsync(string clientId, string kid, EcPublicKey deviceKey, IReadOnlyList<string> contexts,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceKey);
        var body = new RegisterClientRequest(clientId, kid, Base64Std.Encode(deviceKey.ToSpki()), contexts);
        return SendAsync<ClientRegistered>(HttpMethod.Post, "admin/v1/clients", R2psJson.Serialize(body), HttpStatusCode.Created, cancellationToken);
    }

    /// <summary><c>POST /admin/v1/clients/{client_id}/keys/{kid}/authorization</c>: a fresh one-time code (PIN reset).</summary>
    public Task<ClientRegistered> IssueRegistrationCodeAsync(string clientId, string kid, CancellationToken cancellationToken = default) =>
        SendAsync<ClientRegistered>(HttpMethod.Post, KeyPath(clientId, kid) + "/authorization", null, HttpStatusCode.Created, cancellationToken);

    /// <summary><c>DELETE /admin/v1/clients/{client_id}/keys/{kid}</c>: revokes the key; its sessions end.</summary>
    public async Task RevokeAsync(string clientId, string kid, CancellationToken cancellationToken = default) =>
        await SendAsync<System.Text.Json.JsonElement>(HttpMethod.Delete, KeyPath(clientId, kid), null, HttpStatusCode.OK, cancellationToken).ConfigureAwait(false);

    /// <summary><c>GET /admin/v1/clients/{client_id}/keys/{kid}</c>: registered?, PIN set?, locked until?, HSM key count.</summary>
    public Task<ClientStatus> GetStatusAsync(string clientId, string kid, CancellationToken cancellationToken = default) =>
        SendAsync<ClientStatus>(HttpMethod.Get, KeyPath(clientId, kid), null, HttpStatusCode.OK, cancellationToken);

    // Ids are escaped: a kid is often base64 ('/', '+', '=').
    static string KeyPath(string clientId, string kid)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentException.ThrowIfNullOrEmpty(kid);
        return $"admin/v1/clients/{Uri.EscapeDataString(clientId)}/keys/{Uri.EscapeDataString(kid)}";
    }

    async Task<T> SendAsync<T>(HttpMethod method, string path, byte[]? json, HttpStatusCode success, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = _authorization;
        if (json is not null)
        {
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = HttpReplies.Json;
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await HttpReplies.ReadBodyAsync(response, MaxResponseBytes, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != success)
            throw HttpReplies.ToException((int)response.StatusCode, body);
        try
        {
            return R2psJson.Deserialize<T>(body, "admin answer");
        }
        catch (R2psException e)
        {
            throw new R2psClientException("The BFF's admin answer is malformed.", e);
        }
    }
}
