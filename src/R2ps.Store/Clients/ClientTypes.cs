namespace R2ps.Store;

/// <summary>What an administrator registers for a wallet's device key.</summary>
/// <param name="ClientId">The wallet instance.</param>
/// <param name="Kid">The device key's id; with <paramref name="ClientId"/> it names the registration.</param>
/// <param name="PublicKeySpki">The device public key as SPKI DER (the caller validates the key).</param>
/// <param name="Contexts">The contexts (e.g. <c>hsm</c>) this key may use.</param>
public sealed record ClientRegistration(string ClientId, string Kid, ReadOnlyMemory<byte> PublicKeySpki, IReadOnlyList<string> Contexts);

/// <summary>An active (not revoked) registration.</summary>
/// <param name="ClientId">The wallet instance.</param>
/// <param name="Kid">The device key's id.</param>
/// <param name="PublicKeySpki">The device public key, SPKI DER.</param>
/// <param name="Contexts">The contexts this key may use.</param>
/// <param name="CreatedAt">When it was registered.</param>
public sealed record RegisteredClient(
    string ClientId, string Kid, ReadOnlyMemory<byte> PublicKeySpki, IReadOnlyList<string> Contexts, DateTimeOffset CreatedAt)
{
    /// <summary>Whether <paramref name="context"/> is one of the registered contexts (exact, case-sensitive).</summary>
    public bool AllowsContext(string context) => Contexts.Contains(context, StringComparer.Ordinal);
}

/// <summary>What the admin API reports about a registration, revoked ones included.</summary>
/// <param name="ClientId">The wallet instance.</param>
/// <param name="Kid">The device key's id.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="RevokedAt">When it was revoked, or null while active.</param>
/// <param name="PinSet">Whether an OPAQUE record is stored.</param>
/// <param name="LockedUntil">The end of a lockout in force now, or null.</param>
public sealed record ClientStatus(
    string ClientId, string Kid, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, bool PinSet, DateTimeOffset? LockedUntil)
{
    /// <summary>Registered and not revoked.</summary>
    public bool IsActive => RevokedAt is null;
}

/// <summary>The registration is already active.</summary>
public sealed class ClientAlreadyRegisteredException : StoreConflictException
{
    /// <summary>Creates the exception.</summary>
    public ClientAlreadyRegisteredException() : base("The client key is already registered.") { }

    /// <summary>Creates the exception with a message.</summary>
    public ClientAlreadyRegisteredException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ClientAlreadyRegisteredException(string message, Exception innerException) : base(message, innerException) { }
}
