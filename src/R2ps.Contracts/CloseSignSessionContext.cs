namespace R2ps.Contracts;

/// <summary>
/// <c>session_context_end</c>: end every session bound to <c>(ClientId, Kid, Context)</c>. Replied to with
/// <see cref="SignSessionContextClosed"/> once each of them is closed.
/// </summary>
/// <param name="ClientId">Binding: client id.</param>
/// <param name="Kid">Binding: device key id.</param>
/// <param name="Context">Binding: context.</param>
public sealed record CloseSignSessionContext(string ClientId, string Kid, string Context);
