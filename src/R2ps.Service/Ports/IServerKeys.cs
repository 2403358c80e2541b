using R2ps.Crypto.Keys;

namespace R2ps.Service.Ports;

/// <summary>The server's long-term P-256 key per context this worker serves (an HSM key in production).</summary>
public interface IServerKeys
{
    /// <summary>The key for <paramref name="context"/>, or null when this worker does not serve it.</summary>
    IEcPrivateKey? Find(string context);
}
