using R2ps.Protocol;
using R2ps.Protocol.Envelopes;

namespace R2ps.Wallet;

/// <summary>Settings of an <see cref="R2psWallet"/>; the OPAQUE values must match the service's.</summary>
public sealed record R2psWalletOptions
{
    public static R2psWalletOptions Default { get; } = new();

    /// <summary>The service context the wallet talks to.</summary>
    public string Context { get; init; } = "hsm";

    /// <summary>The OPAQUE server identity the service is configured with.</summary>
    public string ServerIdentity { get; init; } = ProtocolConstants.DefaultServerIdentity;

    /// <summary>The OPAQUE context string.</summary>
    public string OpaqueContext { get; init; } = ProtocolConstants.OpaqueContext;

    /// <summary>Clock for <c>iat</c> and for checking response <c>iat</c>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where the vault remembers the last version seen per secret id; null = in memory, per wallet.</summary>
    public IVaultVersionMemory? VaultVersions { get; init; }

    /// <summary>Response checks (iat window, size).</summary>
    public ClientEnvelopeOptions Envelope { get; init; } = ClientEnvelopeOptions.Default;
}
