using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Contracts;
using R2ps.Protocol;

namespace R2ps.Messaging;

/// <summary>
/// Sends one R2PS request envelope to the workers of its context (queue <c>r2ps-&lt;context&gt;</c>) and returns their
/// reply. Never throws for a transport problem, and never waits longer than <see cref="MessagingOptions.RequestTimeout"/>
/// (plus a short grace), even while the broker is unreachable: no answer in time → SERVICE_UNAVAILABLE (503), a
/// worker fault → SERVER_ERROR (500), both with the error body of PROTOCOL.md 1.2.
/// </summary>
public sealed partial class R2psServiceClient
{
    // A send blocked on a dead connection is not covered by MassTransit's request timeout; this covers it.
    static readonly TimeSpan HardBoundGrace = TimeSpan.FromMilliseconds(500);

    readonly IBus _bus;
    readonly MessagingOptions _options;
    readonly ILogger<R2psServiceClient> _logger;
    readonly HashSet<string> _contexts;

    // One request client per (message type, context), made on first use: a request client is safe to share, and making
    // one per call was per-request work that can be done once (issue 9).
    readonly System.Collections.Concurrent.ConcurrentDictionary<(Type, string), object> _clients = new();

    /// <summary>Creates the client on the process's bus.</summary>
    public R2psServiceClient(IBus bus, IOptions<MessagingOptions> options, ILogger<R2psServiceClient> logger)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _bus = bus;
        _options = options.Value;
        _logger = logger;
        _contexts = new HashSet<string>(_options.EffectiveContexts, StringComparer.Ordinal);
    }

    /// <summary>The longest a call waits for a worker.</summary>
    public TimeSpan RequestTimeout => _options.RequestTimeout;

    /// <summary>
    /// Sends <paramref name="envelope"/> to the workers of <paramref name="context"/> and returns their reply. A context
    /// this client does not serve gets ACCESS_DENIED without touching the broker (nothing is declared for it).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled by the caller.</exception>
    public async Task<R2psReply> SendAsync(string context, string envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return await SendMessageAsync(context, new HandleR2psRequest(envelope), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The exchange itself, for any request message: tests use it to send what a correct caller never would (a message
    /// without an envelope, a body that does not deserialize) and see how the workers answer.
    /// </summary>
    internal async Task<R2psReply> SendMessageAsync<TRequest>(string context, TRequest message, CancellationToken cancellationToken)
        where TRequest : class
    {
        if (context is null || !_contexts.Contains(context))
            return Error(ErrorCode.AccessDenied, "The context is not served here.");

        var timeout = _options.RequestTimeout;
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout + HardBoundGrace);
        try
        {
            var client = (IRequestClient<TRequest>)_clients.GetOrAdd((typeof(TRequest), context),
                static (key, state) => state.Bus.CreateRequestClient<TRequest>(R2psQueues.RequestAddress(key.Item2), RequestTimeoutFor(state.Timeout)),
                (Bus: _bus, Timeout: timeout));
            var started = Stopwatch.GetTimestamp();
            var response = await client.GetResponse<R2psReply>(message, bound.Token)
                .WaitAsync(bound.Token)
                .ConfigureAwait(false);
            R2psMessagingMetrics.RecordReply(Stopwatch.GetElapsedTime(started), response.Headers);
            return IsWellFormed(response.Message) ? response.Message : Error(ErrorCode.ServerError, "The worker answered with a malformed reply.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            LogNoAnswer(context, timeout.TotalMilliseconds);
            return Unavailable();
        }
        catch (RequestTimeoutException)
        {
            LogNoAnswer(context, timeout.TotalMilliseconds);
            return Unavailable();
        }
        catch (RequestFaultException fault)
        {
            // The worker failed the message (consumer fault, undeserializable body): it sits in the error queue now.
            LogFault(context, fault.Fault?.Exceptions.FirstOrDefault()?.ExceptionType ?? "unknown");
            return Error(ErrorCode.ServerError, "The service could not complete the request.");
        }
#pragma warning disable CA1031 // Any other failure to send (broker unreachable, bus stopping) means no worker answered: 503, logged.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogSendFailed(exception, context);
            return Unavailable();
        }
    }

    static RequestTimeout RequestTimeoutFor(TimeSpan timeout) => MassTransit.RequestTimeout.After(ms: (int)timeout.TotalMilliseconds);

    static bool IsWellFormed(R2psReply? reply) => reply is { Status: >= 100 and <= 599, Body: not null };

    static R2psReply Unavailable() => Error(ErrorCode.ServiceUnavailable, "No worker answered in time.");

    /// <summary>An error reply with the body of PROTOCOL.md 1.2.</summary>
    internal static R2psReply Error(ErrorCode code, string message) =>
        new(code.HttpStatus(), JsonSerializer.Serialize(new ErrorBody(code.ToWire(), message)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "No worker of context {Context} answered within {TimeoutMs} ms")]
    partial void LogNoAnswer(string context, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "A worker of context {Context} faulted on a request ({ExceptionType})")]
    partial void LogFault(string context, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A request to context {Context} could not be sent")]
    partial void LogSendFailed(Exception exception, string context);
}
