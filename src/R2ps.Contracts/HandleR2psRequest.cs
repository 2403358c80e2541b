namespace R2ps.Contracts;

/// <summary>
/// BFF → worker request: one R2PS request envelope (the compact JWS, PROTOCOL.md 1.1) to validate and handle.
/// The worker answers with <see cref="R2psReply"/>.
/// </summary>
/// <param name="Envelope">The R2PS request JWS exactly as the wallet sent it.</param>
public sealed record HandleR2psRequest(string Envelope);
