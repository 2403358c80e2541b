namespace R2ps.Store;

/// <summary>Registered device keys per <c>(client_id, kid)</c>.</summary>
public interface IClientRegistry
{
    /// <summary>
    /// Registers a device key. A revoked registration of the same <c>(client_id, kid)</c> is replaced, and its OPAQUE
    /// record, registration code and lockout state are dropped with it.
    /// </summary>
    /// <exception cref="ClientAlreadyRegisteredException">An active registration exists.</exception>
    /// <exception cref="ArgumentException">An id, the key or a context is empty, too long or malformed.</exception>
    Task<RegisteredClient> RegisterAsync(ClientRegistration registration, CancellationToken cancellationToken);

    /// <summary>The active registration, or null if unknown or revoked (callers treat both alike).</summary>
    Task<RegisteredClient?> FindAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>
    /// Revokes a registration: its OPAQUE record, registration code and lockout state are deleted.
    /// Returns false if it was unknown or already revoked. Ending its sessions is the caller's business.
    /// </summary>
    Task<bool> RevokeAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>Whether an OPAQUE record is stored for an active registration.</summary>
    Task<bool> IsPinSetAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>The admin view of a registration (revoked ones too), or null if never registered.</summary>
    Task<ClientStatus?> GetStatusAsync(string clientId, string kid, CancellationToken cancellationToken);
}
