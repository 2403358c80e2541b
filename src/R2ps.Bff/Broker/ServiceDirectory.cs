using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Contracts;
using R2ps.Messaging;
using R2ps.Protocol;

namespace R2ps.Bff.Broker;

/// <summary>
/// What the BFF asks the workers besides envelopes: device keys (cached for <see cref="BffOptions.DeviceKeyCacheLifetime"/>,
/// bounded by <see cref="BffOptions.DeviceKeyCacheSize"/>), unknown device keys (a short negative cache,
/// <see cref="BffOptions.UnknownDeviceKeyCacheLifetime"/>, bounded by <see cref="BffOptions.UnknownDeviceKeyCacheSize"/>), server keys (cached once found: they are long-term keys) and
/// the admin commands. Every wait is bounded by <c>Messaging:RequestTimeout</c>; no answer, or a broker that is down,
/// → <see cref="R2psException"/> SERVICE_UNAVAILABLE; a worker fault → SERVER_ERROR.
/// </summary>
public sealed partial class ServiceDirectory : IDisposable
{
    // A send blocked on a dead connection is not covered by MassTransit's request timeout; this covers it.
    static readonly TimeSpan HardBoundGrace = TimeSpan.FromMilliseconds(500);

    readonly IBus _bus;
    readonly MessagingOptions _messaging;
    readonly BffOptions _options;
    readonly ILogger<ServiceDirectory> _logger;
    readonly MemoryCache _deviceKeys;
    readonly MemoryCache _unknownDeviceKeys;
    readonly TimeProvider _time;
    readonly ConcurrentDictionary<string, byte[]> _serverKeys = new(StringComparer.Ordinal);

    /// <summary>Creates the directory on the process's bus.</summary>
    public ServiceDirectory(IBus bus, IOptions<MessagingOptions> messaging, IOptions<BffOptions> options, ILogger<ServiceDirectory> logger,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(messaging);
        ArgumentNullException.ThrowIfNull(options);
        _bus = bus ?? throw new ArgumentNullException(nameof(bus));
        _messaging = messaging.Value;
        _options = options.Value;
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _deviceKeys = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.DeviceKeyCacheSize });
        _unknownDeviceKeys = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.UnknownDeviceKeyCacheSize });
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The contexts this BFF forwards to (<c>Messaging:Contexts</c>, default <c>hsm</c>).</summary>
    public IReadOnlyList<string> Contexts => _messaging.Contexts.Count == 0 ? ["hsm"] : [.. _messaging.Contexts];

    /// <summary>The active registration's device key, or null when unknown or revoked.</summary>
    public async Task<DeviceKeyFound?> FindDeviceKeyAsync(string clientId, string kid, CancellationToken cancellationToken)
    {
        var cacheKey = (clientId, kid);
        if (_deviceKeys.TryGetValue(cacheKey, out DeviceKeyFound? cached))
            return cached;
        // A recent miss answers without a broker round trip: repeated establishments for a made-up client would
        // otherwise each cost a worker and a database read. The expiry is checked on the TimeProvider (testable); the
        // cache's own expiration (wall clock) only evicts.
        if (_unknownDeviceKeys.TryGetValue(cacheKey, out DateTimeOffset unknownUntil))
        {
            if (_time.GetUtcNow() < unknownUntil)
                return null;
            _unknownDeviceKeys.Remove(cacheKey);
        }

        var reply = await RequestAsync<GetDeviceKey, DeviceKeyFound, DeviceKeyNotFound>(R2psQueues.AdminAddress, new GetDeviceKey(clientId, kid),
            _messaging.RequestTimeout, cancellationToken).ConfigureAwait(false);
        if (reply is not DeviceKeyFound found)
        {
            // Bounded: when full, a new miss is not cached (MemoryCache refuses it) and simply costs its round trip.
            var lifetime = _options.UnknownDeviceKeyCacheLifetime;
            if (lifetime > TimeSpan.Zero)
                _unknownDeviceKeys.Set(cacheKey, _time.GetUtcNow() + lifetime,
                    new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = lifetime });
            return null;
        }

        if (_options.DeviceKeyCacheLifetime > TimeSpan.Zero)
            _deviceKeys.Set(cacheKey, found, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _options.DeviceKeyCacheLifetime });
        return found;
    }

    /// <summary>
    /// Forgets a cached miss for <c>(client_id, kid)</c>: called when a registration goes through this BFF, so the new
    /// client can establish at once (registrations through another BFF are seen once the miss expires).
    /// </summary>
    public void ForgetUnknownDeviceKey(string clientId, string kid) => _unknownDeviceKeys.Remove((clientId, kid));

    /// <summary>Every served context's server key (SPKI DER); asks the workers of a context not yet known.</summary>
    public async Task<IReadOnlyDictionary<string, byte[]>> GetServerKeysAsync(CancellationToken cancellationToken)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var context in Contexts)
        {
            if (!_serverKeys.TryGetValue(context, out var spki))
            {
                spki = await AskServerKeyAsync(context, _messaging.RequestTimeout, cancellationToken).ConfigureAwait(false);
                _serverKeys[context] = spki;
            }

            result[context] = spki;
        }

        return result;
    }

    /// <summary>Whether a worker of every served context answers within <paramref name="timeout"/> (readiness).</summary>
    public async Task<bool> WorkersAnswerAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var context in Contexts)
                _serverKeys[context] = await AskServerKeyAsync(context, timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (R2psException)
        {
            return false;
        }
    }

    /// <summary>An admin command to <c>r2ps-admin</c>: <typeparamref name="TOk"/> or <see cref="AdminRequestRefused"/>.</summary>
    public Task<object> AdminAsync<TRequest, TOk>(TRequest command, CancellationToken cancellationToken)
        where TRequest : class
        where TOk : class =>
        RequestAsync<TRequest, TOk, AdminRequestRefused>(R2psQueues.AdminAddress, command, _messaging.RequestTimeout, cancellationToken);

    /// <summary>The status of a registration.</summary>
    public async Task<ClientStatusReported> GetStatusAsync(GetClientStatus query, CancellationToken cancellationToken) =>
        (ClientStatusReported)await RequestAsync<GetClientStatus, ClientStatusReported, ClientStatusReported>(R2psQueues.AdminAddress, query,
            _messaging.RequestTimeout, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public void Dispose()
    {
        _deviceKeys.Dispose();
        _unknownDeviceKeys.Dispose();
    }

    async Task<byte[]> AskServerKeyAsync(string context, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync<GetServerKey, ServerKeyFound, AdminRequestRefused>(R2psQueues.RequestAddress(context), new GetServerKey(context),
            timeout, cancellationToken).ConfigureAwait(false);
        return reply is ServerKeyFound found && found.PublicKeySpki is { Length: > 0 }
            ? found.PublicKeySpki
            : throw new R2psException(ErrorCode.ServiceUnavailable, $"No worker named the server key of context '{context}'.");
    }

    async Task<object> RequestAsync<TRequest, T1, T2>(Uri address, TRequest message, TimeSpan timeout, CancellationToken cancellationToken)
        where TRequest : class
        where T1 : class
        where T2 : class
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout + HardBoundGrace);
        try
        {
            var client = _bus.CreateRequestClient<TRequest>(address, RequestTimeout.After(ms: (int)timeout.TotalMilliseconds));
            if (typeof(T1) == typeof(T2))
            {
                var single = await client.GetResponse<T1>(message, bound.Token).WaitAsync(bound.Token).ConfigureAwait(false);
                return single.Message;
            }

            var response = await client.GetResponse<T1, T2>(message, bound.Token).WaitAsync(bound.Token).ConfigureAwait(false);
            return response.Message;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (RequestFaultException e)
        {
            LogFault(typeof(TRequest).Name, e.Fault?.Exceptions.FirstOrDefault()?.ExceptionType ?? "unknown");
            throw new R2psException(ErrorCode.ServerError, "The service could not complete the request.", e);
        }
#pragma warning disable CA1031 // Timeout, broker unreachable, bus stopping: no worker answered → 503, logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogNoAnswer(e, typeof(TRequest).Name, address.ToString());
            throw new R2psException(ErrorCode.ServiceUnavailable, "No worker answered in time.", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No worker answered {Request} sent to {Address}")]
    partial void LogNoAnswer(Exception exception, string request, string address);

    [LoggerMessage(Level = LogLevel.Error, Message = "A worker faulted on {Request} ({ExceptionType})")]
    partial void LogFault(string request, string exceptionType);
}
