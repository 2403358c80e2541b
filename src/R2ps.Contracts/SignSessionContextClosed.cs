namespace R2ps.Contracts;

/// <summary>Reply to <see cref="CloseSignSessionContext"/>.</summary>
/// <param name="Count">How many sessions of that binding were closed.</param>
public sealed record SignSessionContextClosed(int Count);
