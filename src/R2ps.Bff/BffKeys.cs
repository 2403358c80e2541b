using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;
using R2ps.Hsm;

namespace R2ps.Bff;

/// <summary>
/// The BFF's keys, both in the HSM (section <c>Hsm</c>) and found or created at start: its long-term P-256 key (the HPKE
/// recipient of PROTOCOL.md 2.1, published by <c>GET /r2ps/v1/keys</c>) and the AES-256 key that seals device-session
/// keys at rest. Nothing secret is held in this process.
/// </summary>
public sealed class BffKeys
{
    /// <summary>Wraps keys already opened.</summary>
    public BffKeys(IEcPrivateKey key, HsmSealingKey sealingKey)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!ReferenceEquals(key.PublicKey.Curve, EcCurve.P256))
            throw new ArgumentException("The BFF key is a P-256 key.", nameof(key));
        Key = key;
        SealingKey = sealingKey ?? throw new ArgumentNullException(nameof(sealingKey));
    }

    /// <summary>The BFF key.</summary>
    public IEcPrivateKey Key { get; }

    /// <summary>The sealing key of device-session keys.</summary>
    public HsmSealingKey SealingKey { get; }

    /// <summary>Finds (or creates) both keys by label in the token <paramref name="connection"/> is logged into.</summary>
    public static async Task<BffKeys> OpenAsync(HsmConnection connection, BffOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        return new BffKeys(await HsmServiceKeys.GetOrCreateEcKeyAsync(connection, options.KeyLabel, EcCurve.P256, cancellationToken).ConfigureAwait(false),
            await HsmServiceKeys.GetOrCreateSealingKeyAsync(connection, options.SealingKeyLabel, cancellationToken).ConfigureAwait(false));
    }
}
