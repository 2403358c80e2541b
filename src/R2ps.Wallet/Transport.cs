namespace R2ps.Wallet;

/// <summary>What came back for a request: HTTP status and body (a response JWS on 200, the error JSON otherwise).</summary>
/// <param name="Status">HTTP status code.</param>
/// <param name="Body">Response body.</param>
public sealed record TransportReply(int Status, string Body);

/// <summary>How the wallet reaches the service: in process, HTTP (BFF), or anything else that carries the JWS.</summary>
public interface IR2psTransport
{
    Task<TransportReply> SendAsync(string requestJws, CancellationToken cancellationToken);
}

/// <summary>A transport that hands the envelope to a delegate in the same process (e.g. the service core).</summary>
public sealed class InProcessTransport(Func<string, CancellationToken, Task<TransportReply>> send) : IR2psTransport
{
    private readonly Func<string, CancellationToken, Task<TransportReply>> _send = send ?? throw new ArgumentNullException(nameof(send));

    public Task<TransportReply> SendAsync(string requestJws, CancellationToken cancellationToken) => _send(requestJws, cancellationToken);
}
