using MassTransit;
using Microsoft.Extensions.Options;
using R2ps.Contracts;

namespace R2ps.Sessions;

/// <summary>
/// <c>session_context_end</c>: closes, through the saga, every session bound to the context and replies once all of
/// them are gone, so a request that follows the reply cannot find one of them alive.
/// </summary>
public sealed class CloseSignSessionContextConsumer(ISignSessionReader reader, ISignSessionCommands commands,
    IOptions<SignSessionOptions> options) :
    IConsumer<CloseSignSessionContext>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<CloseSignSessionContext> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        var sessions = await reader.FindByBindingAsync(message.ClientId, message.Kid, message.Context, context.CancellationToken)
            .ConfigureAwait(false);
        await SignSessionFanOut.CloseAll(commands, sessions, SignSessionEndReasons.ContextClosed, options.Value.FanOutParallelism,
                context.CancellationToken)
            .ConfigureAwait(false);
        await context.RespondAsync(new SignSessionContextClosed(sessions.Count)).ConfigureAwait(false);
    }
}

/// <summary>
/// Revocation, new PIN, lockout: closes, through the saga, every session of the client key in every context and
/// replies once all of them are gone.
/// </summary>
public sealed class EndClientSignSessionsConsumer(ISignSessionReader reader, ISignSessionCommands commands,
    IOptions<SignSessionOptions> options) :
    IConsumer<EndClientSignSessions>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<EndClientSignSessions> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        var sessions = await reader.FindByClientAsync(message.ClientId, message.Kid, context.CancellationToken).ConfigureAwait(false);
        await SignSessionFanOut.CloseAll(commands, sessions, message.Reason, options.Value.FanOutParallelism, context.CancellationToken)
            .ConfigureAwait(false);
        await context.RespondAsync(new ClientSignSessionsEnded(sessions.Count)).ConfigureAwait(false);
    }
}

/// <summary>Ends many sessions through the saga, a bounded number at a time (a key with many sessions must not flood the saga's endpoint).</summary>
static class SignSessionFanOut
{
    public static Task CloseAll(ISignSessionCommands commands, IReadOnlyList<SignSessionSnapshot> sessions, string reason,
        int parallelism, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(sessions, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (session, token) => await commands.CloseAsync(session.SessionId, reason, token).ConfigureAwait(false));
}
