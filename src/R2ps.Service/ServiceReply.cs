namespace R2ps.Service;

/// <summary>What the service answers: an HTTP status and the body (a response JWS on 200, the error JSON otherwise).</summary>
/// <param name="Status">HTTP status code.</param>
/// <param name="Body">Response body.</param>
public sealed record ServiceReply(int Status, string Body);
