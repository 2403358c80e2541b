using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using R2ps.Protocol;

namespace R2ps.Bff.Endpoints;

/// <summary>
/// The BFF's rate limits (issue 10 item 2; <see cref="BffRateLimitOptions"/>): token buckets per remote address, enforced
/// by ASP.NET Core's rate-limiting middleware before any work, and per <c>client_id</c>, taken once a route has read the
/// client id cheaply (establishment body, device session, plain envelope) and before the expensive part (a broker round
/// trip, HPKE, HSM work). Both use the partitioned limiters of System.Threading.RateLimiting; idle partitions are dropped
/// by the limiter itself, so made-up keys do not pile up.
/// </summary>
public sealed class BffRateLimits : IDisposable
{
    readonly BffRateLimitOptions _options;

    /// <summary>Creates the limiters from the BFF's options.</summary>
    public BffRateLimits(IOptions<BffOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.RateLimit;
        var o = _options;
        ByAddress = PartitionedRateLimiter.Create<HttpContext, string>(http => o.Enabled
            ? RateLimitPartition.GetTokenBucketLimiter(AddressPartition(http.Connection.RemoteIpAddress), _ => Bucket(o.PerAddressPermits, o.PerAddressPeriod))
            : RateLimitPartition.GetNoLimiter(string.Empty));
        ByClient = PartitionedRateLimiter.Create<string, string>(clientId => o.Enabled
            ? RateLimitPartition.GetTokenBucketLimiter(clientId, _ => Bucket(o.PerClientPermits, o.PerClientPeriod))
            : RateLimitPartition.GetNoLimiter(string.Empty));
    }

    /// <summary>The limiter per remote address (the middleware's global limiter).</summary>
    public PartitionedRateLimiter<HttpContext> ByAddress { get; }

    /// <summary>The limiter per <c>client_id</c>.</summary>
    public PartitionedRateLimiter<string> ByClient { get; }

    /// <summary>
    /// Takes one permit for <paramref name="clientId"/>, or throws <see cref="RateLimitedException"/> (429). The id is not
    /// authenticated yet, so someone can spend another client's budget from their own address budget; that costs them
    /// their address's permits and the victim only waits out the period, which is the accepted trade for stopping the
    /// expensive work before it starts.
    /// </summary>
    public void AcquireForClient(string clientId)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        using var lease = ByClient.AttemptAcquire(clientId);
        if (!lease.IsAcquired)
            throw new RateLimitedException("Too many requests for this client; retry later.", RetryAfter(lease, _options.PerClientPeriod));
    }

    /// <summary>
    /// The partition of an address: an IPv4 address itself; an IPv6 address by its /64, the block one subscriber usually
    /// holds (otherwise one host could rotate through 2^64 addresses, each with a full budget). No address (a test
    /// server, a Unix socket) shares one partition.
    /// </summary>
    public static string AddressPartition(IPAddress? address)
    {
        if (address is null)
            return "none";
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>The middleware's options: the per-address limiter and the 1.2 answer for a refusal.</summary>
    internal void Configure(RateLimiterOptions options)
    {
        options.GlobalLimiter = ByAddress;
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = (context, cancellationToken) =>
        {
            var retryAfter = RetryAfter(context.Lease, _options.PerAddressPeriod);
            context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds(retryAfter);
            return new ValueTask(RateLimitedException.Answer("Too many requests from this address; retry later.").ExecuteAsync(context.HttpContext));
        };
    }

    /// <summary>The <c>Retry-After</c> value: whole seconds, at least 1.</summary>
    internal static string RetryAfterSeconds(TimeSpan retryAfter) =>
        Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    static TimeSpan RetryAfter(RateLimitLease lease, TimeSpan fallback) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : fallback;

    // A bucket of `permits` that refills completely every `period`: bursts up to the limit, the same rate sustained.
    // No queue: a refused request is answered at once instead of holding a connection.
    static TokenBucketRateLimiterOptions Bucket(int permits, TimeSpan period) => new()
    {
        TokenLimit = permits,
        TokensPerPeriod = permits,
        ReplenishmentPeriod = period,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <inheritdoc />
    public void Dispose()
    {
        ByAddress.Dispose();
        ByClient.Dispose();
    }
}

/// <summary>A request refused by a rate limit: 429 with the 1.2 error body and <c>Retry-After</c>.</summary>
public sealed class RateLimitedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RateLimitedException() : this("Too many requests; retry later.", TimeSpan.FromSeconds(1)) { }

    /// <summary>Creates the exception with a message.</summary>
    public RateLimitedException(string message) : this(message, TimeSpan.FromSeconds(1)) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public RateLimitedException(string message, Exception innerException) : base(message, innerException) => RetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>Creates the exception with a message and the time after which a retry may pass.</summary>
    public RateLimitedException(string message, TimeSpan retryAfter) : base(message) => RetryAfter = retryAfter;

    /// <summary>When a retry may pass.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>
    /// The answer: HTTP 429 with the body of PROTOCOL.md 1.2. 1.2 names no code for a rate limit; SERVICE_UNAVAILABLE is
    /// the closest: it tells a wallet to try again later (with <c>Retry-After</c>), where ACCESS_DENIED or UNAUTHORIZED would
    /// make it think its key or session is bad.
    /// </summary>
    internal static IResult Answer(string message) => HttpIo.Error(ErrorCode.ServiceUnavailable, message, StatusCodes.Status429TooManyRequests);
}
