namespace R2ps.Store;

/// <summary>Fixed sizes of stored identifiers; they are part of the schema, so they are not configurable.</summary>
public static class StoreLimits
{
    /// <summary>
    /// Longest <c>client_id</c>, <c>kid</c> (device or HSM), nonce, context, worker id or request type, in characters.
    /// The envelope parser's limit, so anything a request carries past the parse also fits the store (a longer value is
    /// ILLEGAL_REQUEST_DATA at the parse, never an argument error here).
    /// </summary>
    public const int MaxIdentifierLength = R2ps.Protocol.Envelopes.EnvelopeRules.MaxIdentifierLength;

    /// <summary>Longest vault <c>secret_id</c> (PROTOCOL.md 4).</summary>
    public const int MaxSecretIdLength = R2ps.Protocol.VaultRules.MaxSecretIdLength;

    /// <summary>Longest error code or outcome text in the audit log.</summary>
    public const int MaxCodeLength = 64;
}
