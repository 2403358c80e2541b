namespace R2ps.Service.Ports;

/// <summary>The replay cache: shared by every worker and durable across restarts (store: nonce cache).</summary>
public interface INonceCache
{
    /// <summary>
    /// Atomically records <paramref name="nonce"/> for <paramref name="clientId"/> unless it is already there; true if it
    /// was new. Entries may be dropped after <paramref name="keepUntil"/>.
    /// </summary>
    Task<bool> TryAddAsync(string clientId, string nonce, DateTimeOffset keepUntil, CancellationToken cancellationToken);
}
