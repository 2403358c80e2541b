using R2ps.Service.Ports;

namespace R2ps.Service;

/// <summary>Everything stateful the core talks to; each member is a port adapted to the store, the HSM or the saga.</summary>
public sealed record R2psServicePorts
{
    public required IClientDirectory Clients { get; init; }

    public required IRegistrationCodes RegistrationCodes { get; init; }

    public required IOpaqueRecords OpaqueRecords { get; init; }

    public required ILoginLockout Lockout { get; init; }

    public required INonceCache Nonces { get; init; }

    public required IAuditLog Audit { get; init; }

    /// <summary>
    /// The nonce and the audit record in one commit, for the read-only types. Without it (in-memory ports) the two are
    /// written one after the other, nonce first, with the same outcome.
    /// </summary>
    public IRequestLedger? Ledger { get; init; }

    public required IHsmKeyMetadata KeyMetadata { get; init; }

    public required IClientKeyOperations ClientKeys { get; init; }

    public required ISecretSealer Sealer { get; init; }

    public required IServerKeys ServerKeys { get; init; }

    public required ISignSessionGateway Sessions { get; init; }

    /// <summary>The secret vault (PROTOCOL.md 4).</summary>
    public required IVaultStore Vault { get; init; }

    /// <summary>The audit log's read side, for <c>audit_log</c>.</summary>
    public required IAuditTrail AuditTrail { get; init; }
}
