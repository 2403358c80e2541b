namespace R2ps.Store;

/// <summary>The OPAQUE registration record (RFC 9807 RegistrationRecord) per <c>(client_id, kid)</c>.</summary>
public interface IOpaqueRecordStore
{
    /// <summary>The stored record, or null if no PIN is set.</summary>
    Task<byte[]?> GetAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>Stores the record, replacing an earlier one (PIN change), in one atomic statement.</summary>
    /// <exception cref="ArgumentException">The record is empty or longer than <see cref="StoreOptions.MaxOpaqueRecordBytes"/>.</exception>
    Task PutAsync(string clientId, string kid, ReadOnlyMemory<byte> record, CancellationToken cancellationToken);

    /// <summary>Deletes the record; false if there was none.</summary>
    Task<bool> DeleteAsync(string clientId, string kid, CancellationToken cancellationToken);
}
