using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using R2ps.Protocol;

namespace R2ps.Bff.Endpoints;

/// <summary>Reading requests and writing answers the same way on every route.</summary>
internal static class HttpIo
{
    public const string JoseMediaType = "application/jose";
    public const string JsonMediaType = "application/json";

    /// <summary>
    /// The header that tells a wallet that the device session itself was refused (unknown or expired), not the request:
    /// establish a new one and send again. An R2PS 401 passed through from a worker (a wrong PIN) has no such header.
    /// </summary>
    public const string DeviceSessionChallenge = "R2PS-DeviceSession error=\"invalid_session\"";

    /// <summary>The error body of PROTOCOL.md 1.2 with <paramref name="code"/>'s status, or <paramref name="status"/>.</summary>
    public static IResult Error(ErrorCode code, string message, int? status = null) =>
        Json(new ErrorBody(code.ToWire(), message), status ?? code.HttpStatus());

    /// <summary><paramref name="value"/> as wire JSON (<see cref="R2psJson"/>) with <paramref name="status"/>.</summary>
    public static IResult Json<T>(T value, int status = StatusCodes.Status200OK) =>
        Results.Text(System.Text.Json.JsonSerializer.Serialize(value, WriteOptions), JsonMediaType, System.Text.Encoding.UTF8, status);

    // The wire options, but nulls written: a member like locked_until is present (null) rather than absent, so strict
    // readers that require every member (R2psJson) accept the answer.
    static readonly System.Text.Json.JsonSerializerOptions WriteOptions = new(R2psJson.Options)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never,
    };

    /// <summary>A body passed through from a worker with its status (the error JSON, or the response JWS on 200).</summary>
    public static IResult Passthrough(int status, string body, string contentType) =>
        Results.Text(body, contentType, System.Text.Encoding.UTF8, status);

    /// <summary>Throws ILLEGAL_REQUEST_DATA/415 unless the request's media type is <paramref name="mediaType"/>.</summary>
    public static void RequireContentType(HttpRequest request, string mediaType)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed)
            || !string.Equals(parsed.MediaType.Value, mediaType, StringComparison.OrdinalIgnoreCase))
            throw new BodyRejectedException(StatusCodes.Status415UnsupportedMediaType, ErrorCode.UnsupportedRequestType,
                $"The request's Content-Type must be {mediaType}.");
    }

    /// <summary>
    /// The body, at most <paramref name="maxBytes"/>: a larger declared length is refused before reading, a larger
    /// streamed body as soon as it passes the limit (and Kestrel is told the limit, so it stops reading too) → 413.
    /// </summary>
    public static async Task<byte[]> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
            throw TooLarge(maxBytes);
        var limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (limit is { IsReadOnly: false })
            limit.MaxRequestBodySize = maxBytes;

        var body = await BoundedBody.ReadAsync(request.Body, request.ContentLength, maxBytes, cancellationToken).ConfigureAwait(false)
            ?? throw TooLarge(maxBytes);
        if (body.Length == 0)
            throw new R2psException(ErrorCode.IllegalRequestData, "The request body is empty.");
        return body;
    }

    /// <summary>The body as ASCII text (compact JOSE is ASCII); anything else → ILLEGAL_REQUEST_DATA.</summary>
    public static string Ascii(byte[] body)
    {
        foreach (var b in body)
        {
            if (b is < 0x21 or > 0x7e)
                throw new R2psException(ErrorCode.IllegalRequestData, "The body is not a compact JOSE serialization.");
        }

        return System.Text.Encoding.ASCII.GetString(body);
    }

    static BodyRejectedException TooLarge(int maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, ErrorCode.IllegalRequestData, $"The request body exceeds {maxBytes} bytes.");
}

/// <summary>A request refused for its framing (size, media type) with an HTTP status of its own.</summary>
internal sealed class BodyRejectedException(int status, ErrorCode code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public ErrorCode Code { get; } = code;
}
