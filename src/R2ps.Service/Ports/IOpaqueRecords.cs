namespace R2ps.Service.Ports;

/// <summary>OPAQUE registration records per <c>(client_id, kid)</c> (store: <c>IOpaqueRecordStore</c>).</summary>
public interface IOpaqueRecords
{
    /// <summary>The stored 129-byte record, or null when no PIN is set.</summary>
    Task<byte[]?> GetAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>Stores or replaces the record atomically.</summary>
    Task PutAsync(string clientId, string kid, ReadOnlyMemory<byte> record, CancellationToken cancellationToken);
}
