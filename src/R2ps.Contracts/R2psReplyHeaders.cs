namespace R2ps.Contracts;

/// <summary>
/// Headers a worker sets on its <see cref="R2psReply"/>: where the request's time went on the worker's side, so the BFF
/// can tell the broker's share of a round trip from the worker's (its metrics and <c>bench e2e --breakdown</c>). Timing
/// only, in whole microseconds (an integer header is carried by every transport): nothing about the request's content,
/// and the BFF never passes them on to the wallet.
/// </summary>
public static class R2psReplyHeaders
{
    /// <summary>
    /// From the sender's send (the message's sent time) to a worker taking the request: the broker's confirm, routing and
    /// the wait in the queue. Read on the worker's clock against the sender's, so hosts' clocks must agree (as the
    /// envelope's <c>iat</c> check already requires); absent when the message carries no sent time.
    /// </summary>
    public const string QueuedMicroseconds = "R2ps-Queued-Us";

    /// <summary>From a worker taking the request to its reply being ready: the service core's whole handling.</summary>
    public const string HandlingMicroseconds = "R2ps-Handling-Us";

    /// <summary>Of the handling, the time spent in calls to the durable store (reads, and writes waiting for their commit).</summary>
    public const string StoreMicroseconds = "R2ps-Store-Us";

    /// <summary>Of the handling, the time spent on the HSM: each PKCS#11 operation with its wait for a pooled session.</summary>
    public const string HsmMicroseconds = "R2ps-Hsm-Us";

    /// <summary>Of the handling, the time spent waiting for the sign-session saga's answers (login, activation, close).</summary>
    public const string SagaMicroseconds = "R2ps-Saga-Us";
}
