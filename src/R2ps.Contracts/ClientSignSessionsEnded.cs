namespace R2ps.Contracts;

/// <summary>Reply to <see cref="EndClientSignSessions"/>.</summary>
/// <param name="Count">How many sessions of that client key were ended.</param>
public sealed record ClientSignSessionsEnded(int Count);
