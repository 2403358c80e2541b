namespace R2ps.Store;

/// <summary>Fixed sizes of stored identifiers; they are part of the schema, so they are not configurable.</summary>
public static class StoreLimits
{
    /// <summary>Longest <c>client_id</c>, <c>kid</c> (device or HSM), nonce, context, worker id or request type, in characters.</summary>
    public const int MaxIdentifierLength = 256;

    /// <summary>Longest error code or outcome text in the audit log.</summary>
    public const int MaxCodeLength = 64;
}
