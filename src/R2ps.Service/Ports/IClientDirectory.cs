using R2ps.Crypto.Keys;

namespace R2ps.Service.Ports;

/// <summary>An active device-key registration.</summary>
/// <param name="ClientId">The wallet instance.</param>
/// <param name="Kid">The device key id.</param>
/// <param name="DeviceKey">The registered device public key.</param>
/// <param name="Contexts">The contexts the key may use.</param>
public sealed record RegisteredDevice(string ClientId, string Kid, EcPublicKey DeviceKey, IReadOnlyList<string> Contexts)
{
    /// <summary>Exact, case-sensitive membership.</summary>
    public bool AllowsContext(string context) => Contexts.Contains(context, StringComparer.Ordinal);
}

/// <summary>The client registry as the core reads it (store: <c>IClientRegistry</c>).</summary>
public interface IClientDirectory
{
    /// <summary>The active registration, or null when unknown <em>or revoked</em> (the core treats both alike).</summary>
    Task<RegisteredDevice?> FindAsync(string clientId, string kid, CancellationToken cancellationToken);
}
