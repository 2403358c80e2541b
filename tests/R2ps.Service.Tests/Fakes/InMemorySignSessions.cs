using System.Collections.Concurrent;
using R2ps.Service.Ports;

namespace R2ps.Service.Tests.Fakes;

/// <summary>
/// The sign-session saga's behaviour in memory: pending → active, activation once, login window, closes. The
/// MassTransit saga replaces it once the sessions branch is merged.
/// </summary>
public sealed class InMemorySignSessions(TimeProvider time) : ISignSessionGateway
{
    private readonly ConcurrentDictionary<string, SignSessionView> _sessions = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public ConcurrentQueue<(string PakeSessionId, string Reason)> Ended { get; } = new();

    public int Count => _sessions.Count;

    /// <summary>Runs after every session of a key was ended (tests cancel the caller or fail the next step here).</summary>
    public Action? AfterEndClientSessions { get; set; }

    /// <summary>Runs before an activation is decided (tests move the clock here).</summary>
    public Action? BeforeActivate { get; set; }

    /// <summary>Runs before a pending login is recorded (tests run a whole PIN change here, inside an evaluate).</summary>
    public Func<Task>? BeforeBeginLogin { get; set; }

    public SignSessionView? Get(string pakeSessionId) => _sessions.GetValueOrDefault(pakeSessionId);

    public string FindByPrefix(string prefix) => _sessions.Keys.Single(id => id.StartsWith(prefix, StringComparison.Ordinal));

    public async Task BeginLoginAsync(PendingSignSession login, CancellationToken cancellationToken)
    {
        if (BeforeBeginLogin is { } before) await before();
        _sessions[login.PakeSessionId] = new SignSessionView(login.PakeSessionId, login.ClientId, login.Kid, login.Context,
            SignSessionPhase.PendingLogin, login.SealedLoginState, null, null, login.StartedAt, login.LoginExpiresAt, null);
    }

    public Task<SignSessionView?> FindAsync(string pakeSessionId, CancellationToken cancellationToken) =>
        Task.FromResult(_sessions.GetValueOrDefault(pakeSessionId));

    public Task<ActivationOutcome> ActivateAsync(string pakeSessionId, byte[] sealedSessionKey, string? task, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        BeforeActivate?.Invoke();
        lock (_gate)
        {
            if (!_sessions.TryGetValue(pakeSessionId, out var session)) return Task.FromResult(ActivationOutcome.Unknown);
            if (session.Phase != SignSessionPhase.PendingLogin) return Task.FromResult(ActivationOutcome.NotPending);
            if (session.LoginExpiresAt <= time.GetUtcNow())
            {
                End(pakeSessionId, "login-expired");
                return Task.FromResult(ActivationOutcome.LoginExpired);
            }
            _sessions[pakeSessionId] = session with { Phase = SignSessionPhase.Active, SealedLoginState = null, SealedSessionKey = sealedSessionKey, Task = task, ExpiresAt = expiresAt };
            return Task.FromResult(ActivationOutcome.Activated);
        }
    }

    public Task CloseAsync(string pakeSessionId, string reason, CancellationToken cancellationToken)
    {
        End(pakeSessionId, reason);
        return Task.CompletedTask;
    }

    public Task<int> CloseContextAsync(string clientId, string kid, string context, CancellationToken cancellationToken) =>
        Task.FromResult(EndWhere(s => s.IsBoundTo(clientId, kid, context), SessionEndReasons.ContextClosed));

    public Task<int> EndClientSessionsAsync(string clientId, string kid, string reason, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var ended = EndWhere(s => s.ClientId == clientId && s.Kid == kid, reason);
        AfterEndClientSessions?.Invoke();
        return Task.FromResult(ended);
    }

    private int EndWhere(Func<SignSessionView, bool> predicate, string reason)
    {
        var ids = _sessions.Values.Where(predicate).Select(s => s.PakeSessionId).ToList();
        foreach (var id in ids) End(id, reason);
        return ids.Count;
    }

    private void End(string pakeSessionId, string reason)
    {
        if (_sessions.TryRemove(pakeSessionId, out _)) Ended.Enqueue((pakeSessionId, reason));
    }
}
