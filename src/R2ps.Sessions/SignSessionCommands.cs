using MassTransit;
using Microsoft.Extensions.Options;
using R2ps.Contracts;

namespace R2ps.Sessions;

/// <summary><see cref="ISignSessionCommands"/> over MassTransit request clients with an explicit timeout.</summary>
public sealed class SignSessionCommands(IBus bus, ISignSessionReader reader, IOptions<SignSessionOptions> options) : ISignSessionCommands
{
    readonly RequestTimeout _timeout = RequestTimeout.After(ms: (int)options.Value.RequestTimeout.TotalMilliseconds);

    // Made once, on first use (a request client is safe to share): making one per command was per-request work (issue 9).
    IRequestClient<BeginSignSessionLogin>? _begin;
    IRequestClient<ActivateSignSession>? _activate;
    IRequestClient<CloseSignSession>? _close;

    IRequestClient<BeginSignSessionLogin> Begin => _begin ??= bus.CreateRequestClient<BeginSignSessionLogin>(_timeout);

    IRequestClient<ActivateSignSession> Activate => _activate ??= bus.CreateRequestClient<ActivateSignSession>(_timeout);

    IRequestClient<CloseSignSession> Close => _close ??= bus.CreateRequestClient<CloseSignSession>(_timeout);

    /// <inheritdoc />
    public async Task BeginLoginAsync(BeginSignSessionLogin command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        await MakeRoomAsync(command, cancellationToken).ConfigureAwait(false);
        await Begin
            .GetResponse<SignSessionLoginPending>(command, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<SignSessionActivation> ActivateAsync(ActivateSignSession command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var response = await Activate
            .GetResponse<SignSessionActivated, SignSessionNotActivated>(command, cancellationToken)
            .ConfigureAwait(false);
        if (response.Is(out Response<SignSessionActivated>? activated))
            return new SignSessionActivation(true, activated.Message.ExpiresAt, null);
        if (response.Is(out Response<SignSessionNotActivated>? notActivated))
            return new SignSessionActivation(false, null, notActivated.Message.Reason);
        throw new InvalidOperationException("The saga answered an activation with an unexpected message.");
    }

    /// <inheritdoc />
    public async Task CloseAsync(Guid sessionId, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        await Close
            .GetResponse<SignSessionClosed>(new CloseSignSession(sessionId, reason), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<int> CloseContextAsync(string clientId, string kid, string context, CancellationToken cancellationToken = default)
    {
        // The fan-out makes its own bounded requests to the saga; give it room for them.
        var response = await bus.CreateRequestClient<CloseSignSessionContext>(FanOutTimeout)
            .GetResponse<SignSessionContextClosed>(new CloseSignSessionContext(clientId, kid, context), cancellationToken)
            .ConfigureAwait(false);
        return response.Message.Count;
    }

    /// <inheritdoc />
    public async Task<int> EndClientSessionsAsync(string clientId, string kid, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        var response = await bus.CreateRequestClient<EndClientSignSessions>(FanOutTimeout)
            .GetResponse<ClientSignSessionsEnded>(new EndClientSignSessions(clientId, kid, reason), cancellationToken)
            .ConfigureAwait(false);
        return response.Message.Count;
    }

    /// <summary>
    /// Keeps a key under <see cref="SignSessionOptions.MaxSessionsPerKey"/> by ending its oldest sessions. Ending rather
    /// than refusing: the key's owner can always log in (an app that leaked sessions is not locked out until their TTL),
    /// and a flood of logins with a stolen device key only ends that key's own sessions — each login is charged against
    /// the lockout anyway.
    /// </summary>
    async Task MakeRoomAsync(BeginSignSessionLogin command, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var existing = await reader.FindByClientAsync(command.ClientId, command.Kid, cancellationToken).ConfigureAwait(false);
        var others = existing.Where(s => s.SessionId != command.SessionId).ToList(); // a redelivered begin finds itself
        var excess = others.Count - (settings.MaxSessionsPerKey - 1);
        if (excess <= 0)
            return;
        var oldest = others.OrderBy(s => s.StartedAt).ThenBy(s => s.SessionId).Take(excess).ToList();
        await SignSessionFanOut.CloseAll(this, oldest, SignSessionEndReasons.Superseded, settings.FanOutParallelism, cancellationToken)
            .ConfigureAwait(false);
    }

    RequestTimeout FanOutTimeout => RequestTimeout.After(ms: (int)Math.Min(int.MaxValue, options.Value.FanOutTimeout.TotalMilliseconds));
}
