using System.Text.Json;
using MassTransit;
using R2ps.Contracts;
using R2ps.Protocol;

namespace R2ps.Worker.Consumers;

/// <summary>
/// A request whose body does not deserialize never reaches the consumer, so MassTransit has no typed fault to send back
/// (it publishes a <see cref="ReceiveFault"/> instead) and the requester would wait for its timeout. This observer answers
/// such a request at once with SERVER_ERROR, reading the response address and request id from the message envelope;
/// the message itself still goes to the error queue. Consumer faults are left to MassTransit, which answers them with a
/// <c>Fault&lt;HandleR2psRequest&gt;</c> (the client maps that to SERVER_ERROR too).
/// </summary>
/// <param name="requestQueue">The worker's request queue: the observer is bus-wide, only faults there are R2PS requests.</param>
internal sealed class AnswerUnreadableRequestObserver(string requestQueue) : IReceiveObserver
{
    const int MaxEnvelopeBytes = 1024 * 1024;

    static readonly R2psReply ServerError = new(ErrorCode.ServerError.HttpStatus(),
        JsonSerializer.Serialize(new ErrorBody(ErrorCode.ServerError.ToWire(), "The request message could not be read.")));

    public async Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (exception is not JsonException && exception?.InnerException is not JsonException)
            return;
        if (context.InputAddress?.AbsolutePath.TrimEnd('/').EndsWith("/" + requestQueue, StringComparison.Ordinal) != true)
            return;
        if (!TryReadReturnAddress(context, out var responseAddress, out var requestId))
            return;

        var endpoint = await context.SendEndpointProvider.GetSendEndpoint(responseAddress).ConfigureAwait(false);
        await endpoint.Send(ServerError, send => send.RequestId = requestId).ConfigureAwait(false);
    }

    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class => Task.CompletedTask;

    // The MassTransit JSON envelope names the requester: {"requestId": "…", "responseAddress": "…", "message": …}.
    static bool TryReadReturnAddress(ReceiveContext context, out Uri responseAddress, out Guid requestId)
    {
        responseAddress = null!;
        requestId = default;
        // Length first: GetBytes copies the whole body, and a huge poison message must not be copied to be refused.
        if (context.Body.Length is not { } length || length > MaxEnvelopeBytes)
            return false;
        var body = context.Body.GetBytes();
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("requestId", out var id) && id.ValueKind == JsonValueKind.String && id.TryGetGuid(out requestId)
                && root.TryGetProperty("responseAddress", out var address) && address.ValueKind == JsonValueKind.String
                && Uri.TryCreate(address.GetString(), UriKind.Absolute, out responseAddress!);
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
