namespace R2ps.Contracts;

/// <summary>BFF → the workers of one context: that context's server public key (for <c>GET /r2ps/v1/keys</c>).</summary>
public sealed record GetServerKey(string Context);
