using MassTransit;
using R2ps.Contracts;
using R2ps.Service;

namespace R2ps.Worker.Consumers;

/// <summary>
/// Runs one R2PS request envelope through the service core and responds with its status and body. The core never
/// throws: every protocol outcome, faults included, is an <see cref="R2psReply"/>. Only a message that breaks the
/// contract itself (no envelope) throws, which makes it a poison message: it goes to the error queue and the requester
/// gets a fault, which the client turns into SERVER_ERROR.
/// </summary>
public sealed class HandleR2psRequestConsumer(R2psRequestProcessor processor) : IConsumer<HandleR2psRequest>
{
    /// <inheritdoc />
    public async Task Consume(ConsumeContext<HandleR2psRequest> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var envelope = context.Message.Envelope
            ?? throw new MalformedRequestMessageException($"The {nameof(HandleR2psRequest)} message carries no envelope.");
        var reply = await processor.ProcessAsync(envelope, context.CancellationToken).ConfigureAwait(false);
        await context.RespondAsync(new R2psReply(reply.Status, reply.Body)).ConfigureAwait(false);
    }
}

/// <summary>A request message that does not meet the message contract (as opposed to an envelope the protocol refuses).</summary>
public sealed class MalformedRequestMessageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MalformedRequestMessageException() : base("The request message is malformed.") { }

    /// <summary>Creates the exception with a message.</summary>
    public MalformedRequestMessageException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public MalformedRequestMessageException(string message, Exception innerException) : base(message, innerException) { }
}
