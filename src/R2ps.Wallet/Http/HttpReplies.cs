using System.Net.Http.Headers;
using R2ps.Protocol;

namespace R2ps.Wallet.Http;

/// <summary>Reading the BFF's answers: bounded bodies, and the error body of PROTOCOL.md 1.2 as an exception.</summary>
internal static class HttpReplies
{
    public const string JoseMediaType = "application/jose";
    public const string JsonMediaType = "application/json";

    /// <summary>The body as text, at most <paramref name="maxBytes"/> (a larger answer is refused, not buffered).</summary>
    public static async Task<string> ReadBodyAsync(HttpResponseMessage response, int maxBytes, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var body = await BoundedBody.ReadAsync(stream, response.Content.Headers.ContentLength, maxBytes, cancellationToken).ConfigureAwait(false)
                ?? throw new R2psClientException($"The BFF's answer exceeds {maxBytes} bytes.");
            return System.Text.Encoding.UTF8.GetString(body);
        }
    }

    /// <summary>An error answer as <see cref="R2psClientException"/> with its code and status.</summary>
    public static R2psClientException ToException(int status, string body)
    {
        try
        {
            var error = R2psJson.Deserialize<ErrorBody>(body, "error body");
            return ErrorCodes.TryFromWire(error.ErrorCode, out var code)
                ? new R2psClientException(code, status, error.ErrorMessage)
                : new R2psClientException(ErrorCode.ServerError, status, $"The BFF answered {status} with an unknown error code.");
        }
        catch (R2psException)
        {
            return new R2psClientException(ErrorCode.ServerError, status, $"The BFF answered {status} without an R2PS error body.");
        }
    }

    public static MediaTypeHeaderValue Jose { get; } = new(JoseMediaType);

    public static MediaTypeHeaderValue Json { get; } = new(JsonMediaType);
}
