using R2ps.Protocol;

namespace R2ps.Wallet;

/// <summary>The service refused a request: the R2PS error code and message of its error body (PROTOCOL.md 1.2).</summary>
public sealed class R2psClientException : Exception
{
    public R2psClientException()
    {
    }

    public R2psClientException(string message) : base(message)
    {
    }

    public R2psClientException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public R2psClientException(ErrorCode code, int httpStatus, string message) : base(message)
    {
        Code = code;
        HttpStatus = httpStatus;
    }

    /// <summary>The error code; <see cref="ErrorCode.ServerError"/> when the body carried none we know.</summary>
    public ErrorCode Code { get; } = ErrorCode.ServerError;

    public int HttpStatus { get; }
}
