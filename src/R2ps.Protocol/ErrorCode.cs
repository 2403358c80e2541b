namespace R2ps.Protocol;

/// <summary>The R2PS error codes of PROTOCOL.md 1.2, each with its HTTP status.</summary>
public enum ErrorCode
{
    IllegalRequestData,
    Unauthorized,
    AccessDenied,
    IllegalState,
    UnsupportedRequestType,
    ServerError,
    ServiceUnavailable,
}

public static class ErrorCodes
{
    public static string ToWire(this ErrorCode code) => code switch
    {
        ErrorCode.IllegalRequestData => "ILLEGAL_REQUEST_DATA",
        ErrorCode.Unauthorized => "UNAUTHORIZED",
        ErrorCode.AccessDenied => "ACCESS_DENIED",
        ErrorCode.IllegalState => "ILLEGAL_STATE",
        ErrorCode.UnsupportedRequestType => "UNSUPPORTED_REQUEST_TYPE",
        ErrorCode.ServerError => "SERVER_ERROR",
        ErrorCode.ServiceUnavailable => "SERVICE_UNAVAILABLE",
        _ => throw new ArgumentOutOfRangeException(nameof(code)),
    };

    public static int HttpStatus(this ErrorCode code) => code switch
    {
        ErrorCode.IllegalRequestData => 400,
        ErrorCode.Unauthorized => 401,
        ErrorCode.AccessDenied => 403,
        ErrorCode.IllegalState => 409,
        ErrorCode.UnsupportedRequestType => 415,
        ErrorCode.ServerError => 500,
        ErrorCode.ServiceUnavailable => 503,
        _ => throw new ArgumentOutOfRangeException(nameof(code)),
    };

    public static bool TryFromWire(string? wire, out ErrorCode code)
    {
        foreach (var candidate in Enum.GetValues<ErrorCode>())
        {
            if (string.Equals(candidate.ToWire(), wire, StringComparison.Ordinal))
            {
                code = candidate;
                return true;
            }
        }
        code = default;
        return false;
    }
}

/// <summary>
/// A protocol-level refusal: carries the code the caller gets and a message that is safe to show (never key material,
/// PINs or stack traces).
/// </summary>
public sealed class R2psException : Exception
{
    public R2psException(ErrorCode code, string message) : base(message) => Code = code;

    public R2psException(ErrorCode code, string message, Exception inner) : base(message, inner) => Code = code;

    public ErrorCode Code { get; }

    public ErrorBody ToBody() => new(Code.ToWire(), Message);
}
