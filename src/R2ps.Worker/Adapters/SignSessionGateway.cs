using MassTransit;
using R2ps.Contracts;
using R2ps.Protocol;
using R2ps.Service.Ports;
using R2ps.Sessions;
using PortPhase = R2ps.Service.Ports.SignSessionPhase;
using SagaPhase = R2ps.Sessions.SignSessionPhase;

namespace R2ps.Worker.Adapters;

/// <summary>
/// <see cref="ISignSessionGateway"/> over the saga: commands as bounded MassTransit requests
/// (<see cref="ISignSessionCommands"/>), reads from the saga's table (<see cref="ISignSessionReader"/>), so any worker
/// serves any step. A saga that does not answer in time, or a command that cannot be sent (a broker that is down) →
/// SERVICE_UNAVAILABLE.
/// </summary>
internal sealed class SignSessionGateway(ISignSessionCommands commands, ISignSessionReader reader) : ISignSessionGateway
{
    public Task BeginLoginAsync(PendingSignSession login, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(login);
        var command = new BeginSignSessionLogin(SignSessionIds.ToSessionId(login.PakeSessionId), login.PakeSessionId, login.ClientId,
            login.Kid, login.Context, login.SealedLoginState, login.StartedAt, login.LoginExpiresAt);
        return Bounded("begin_login", () => commands.BeginLoginAsync(command, cancellationToken));
    }

    public async Task<SignSessionView?> FindAsync(string pakeSessionId, CancellationToken cancellationToken)
    {
        if (!SignSessionIds.IsValidPakeSessionId(pakeSessionId))
            return null;
        // A read of the saga's table, not a message to the saga: its own span, so the trace shows where the time went.
        using var activity = WorkerTelemetry.Source.StartActivity("sign-session read");
        var snapshot = await WorkerTelemetry.TimeStoreAsync("sign_sessions.find", () => reader.FindAsync(pakeSessionId, cancellationToken)).ConfigureAwait(false);
        activity?.SetTag("r2ps.session.found", snapshot is not null);
        return snapshot is null ? null : new SignSessionView(snapshot.PakeSessionId, snapshot.ClientId, snapshot.Kid, snapshot.Context,
            snapshot.Phase == SagaPhase.Active ? PortPhase.Active : PortPhase.PendingLogin,
            snapshot.SealedLoginState, snapshot.SealedSessionKey, snapshot.Task, snapshot.StartedAt, snapshot.LoginExpiresAt,
            snapshot.ExpiresAt);
    }

    public async Task<ActivationOutcome> ActivateAsync(string pakeSessionId, byte[] sealedSessionKey, string? task, DateTimeOffset expiresAt,
        CancellationToken cancellationToken)
    {
        var command = new ActivateSignSession(SignSessionIds.ToSessionId(pakeSessionId), sealedSessionKey, task, expiresAt);
        var activation = await Bounded("activate", () => commands.ActivateAsync(command, cancellationToken)).ConfigureAwait(false);
        return activation switch
        {
            { Activated: true } => ActivationOutcome.Activated,
            { Reason: SignSessionNotActivatedReasons.NotPending } => ActivationOutcome.NotPending,
            { Reason: SignSessionNotActivatedReasons.LoginExpired } => ActivationOutcome.LoginExpired,
            _ => ActivationOutcome.Unknown,
        };
    }

    public Task CloseAsync(string pakeSessionId, string reason, CancellationToken cancellationToken) =>
        Bounded("close", () => commands.CloseAsync(SignSessionIds.ToSessionId(pakeSessionId), reason, cancellationToken));

    public Task<int> CloseContextAsync(string clientId, string kid, string context, CancellationToken cancellationToken) =>
        Bounded("close_context", () => commands.CloseContextAsync(clientId, kid, context, cancellationToken));

    public Task<int> EndClientSessionsAsync(string clientId, string kid, string reason, CancellationToken cancellationToken) =>
        Bounded("end_client_sessions", () => commands.EndClientSessionsAsync(clientId, kid, reason, cancellationToken));

    static async Task Bounded(string command, Func<Task> call) => await Bounded(command, async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    }).ConfigureAwait(false);

    // Timed by command (WorkerTelemetry), so a request's wait for the saga is told apart from the rest of its handling.
    static Task<T> Bounded<T>(string command, Func<Task<T>> call) => WorkerTelemetry.TimeSessionCommandAsync(command, () => Translated(call));

    static async Task<T> Translated<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RequestTimeoutException e)
        {
            throw new R2psException(ErrorCode.ServiceUnavailable, "The session service did not answer in time.", e);
        }
        catch (RequestException e) when (e is not RequestFaultException)
        {
            // The command could not be sent (broker unreachable, bus stopping): nobody answered, like a timeout. A
            // RequestFaultException — the saga failed the command — stays a fault (SERVER_ERROR).
            throw new R2psException(ErrorCode.ServiceUnavailable, "The session service could not be reached.", e);
        }
    }
}
