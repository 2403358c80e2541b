using MassTransit;
using R2ps.Contracts;

namespace R2ps.Sessions;

/// <summary>
/// <c>session_context_end</c>: closes, through the saga, every session bound to the context and replies once all of
/// them are gone, so a request that follows the reply cannot find one of them alive.
/// </summary>
public sealed class CloseSignSessionContextConsumer(ISignSessionReader reader, ISignSessionCommands commands) :
    IConsumer<CloseSignSessionContext>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<CloseSignSessionContext> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        var sessions = await reader.FindByBindingAsync(message.ClientId, message.Kid, message.Context, context.CancellationToken)
            .ConfigureAwait(false);
        await SignSessionFanOut.CloseAll(commands, sessions, SignSessionEndReasons.ContextClosed, context.CancellationToken)
            .ConfigureAwait(false);
        await context.RespondAsync(new SignSessionContextClosed(sessions.Count)).ConfigureAwait(false);
    }
}

/// <summary>
/// Revocation, new PIN, lockout: closes, through the saga, every session of the client key in every context and
/// replies once all of them are gone.
/// </summary>
public sealed class EndClientSignSessionsConsumer(ISignSessionReader reader, ISignSessionCommands commands) :
    IConsumer<EndClientSignSessions>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<EndClientSignSessions> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        var sessions = await reader.FindByClientAsync(message.ClientId, message.Kid, context.CancellationToken).ConfigureAwait(false);
        await SignSessionFanOut.CloseAll(commands, sessions, message.Reason, context.CancellationToken).ConfigureAwait(false);
        await context.RespondAsync(new ClientSignSessionsEnded(sessions.Count)).ConfigureAwait(false);
    }
}

static class SignSessionFanOut
{
    public static Task CloseAll(ISignSessionCommands commands, IReadOnlyList<SignSessionSnapshot> sessions, string reason,
        CancellationToken cancellationToken) =>
        Task.WhenAll(sessions.Select(session => commands.CloseAsync(session.SessionId, reason, cancellationToken)));
}
