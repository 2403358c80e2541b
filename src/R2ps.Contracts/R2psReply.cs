namespace R2ps.Contracts;

/// <summary>
/// Worker → BFF reply to <see cref="HandleR2psRequest"/>: the HTTP status and body the BFF answers with
/// (a response JWS on success, the error JSON of PROTOCOL.md 1.2 otherwise).
/// </summary>
/// <param name="Status">HTTP status code.</param>
/// <param name="Body">Response body.</param>
public sealed record R2psReply(int Status, string Body);
