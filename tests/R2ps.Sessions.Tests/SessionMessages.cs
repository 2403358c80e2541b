using R2ps.Contracts;

namespace R2ps.Sessions.Tests;

/// <summary>Builds saga commands for a fresh random session.</summary>
internal static class SessionMessages
{
    public static readonly byte[] SealedLoginState = [0x5e, 0xa1, 0xed, 0x01];
    public static readonly byte[] SealedSessionKey = [0x5e, 0xa1, 0xed, 0x02];

    public static BeginSignSessionLogin Begin(DateTimeOffset now, string clientId = "client-1", string kid = "kid-1",
        string context = "hsm", TimeSpan? loginWindow = null)
    {
        var pakeSessionId = SignSessionIds.NewPakeSessionId();
        return new BeginSignSessionLogin(SignSessionIds.ToSessionId(pakeSessionId), pakeSessionId, clientId, kid, context,
            SealedLoginState, now, now + (loginWindow ?? TimeSpan.FromSeconds(10)));
    }

    public static ActivateSignSession Activate(Guid sessionId, DateTimeOffset expiresAt, string? task = "sign") =>
        new(sessionId, SealedSessionKey, task, expiresAt);
}
