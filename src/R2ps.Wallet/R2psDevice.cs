using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;

namespace R2ps.Wallet;

/// <summary>
/// A wallet instance: its <c>client_id</c>, the <c>kid</c> of its registered device key and that P-256 key. The key signs
/// envelopes, opens device-mode responses and hardens the PIN. Owns the key: disposing the device zeroes it.
/// </summary>
public sealed class R2psDevice : IDisposable
{
    public R2psDevice(string clientId, string kid, SoftwareEcKey deviceKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentException.ThrowIfNullOrEmpty(kid);
        ArgumentNullException.ThrowIfNull(deviceKey);
        if (!ReferenceEquals(deviceKey.Curve, EcCurve.P256)) throw new ArgumentException("A device key is a P-256 key.", nameof(deviceKey));
        ClientId = clientId;
        Kid = kid;
        Key = deviceKey;
    }

    public string ClientId { get; }

    public string Kid { get; }

    public SoftwareEcKey Key { get; }

    public EcPublicKey PublicKey => Key.PublicKey;

    public void Dispose() => Key.Dispose();
}
