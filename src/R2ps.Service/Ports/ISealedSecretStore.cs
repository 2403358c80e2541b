namespace R2ps.Service.Ports;

/// <summary>Durable named sealed blobs written once (the OPRF seed). Shared by every worker.</summary>
public interface ISealedSecretStore
{
    Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Stores the blob unless one with that name exists; false if another writer won.</summary>
    Task<bool> TryAddAsync(string name, byte[] sealedValue, CancellationToken cancellationToken);
}
