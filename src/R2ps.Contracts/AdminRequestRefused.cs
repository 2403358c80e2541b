namespace R2ps.Contracts;

/// <summary>An admin or lookup request refused: the R2PS error code (PROTOCOL.md 1.2) and a message safe to show.</summary>
public sealed record AdminRequestRefused(string ErrorCode, string Message);
