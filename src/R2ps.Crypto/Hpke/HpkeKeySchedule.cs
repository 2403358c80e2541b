using System.Security.Cryptography;

namespace R2ps.Crypto.Hpke;

/// <summary>
/// The key schedule's outputs (RFC 9180 §5.1) for modes base and auth: psk and psk_id are the empty strings, so the
/// psk checks of VerifyPSKInputs reduce to refusing the psk modes. Disposing zeroes every secret.
/// </summary>
internal sealed class HpkeKeySchedule : IDisposable
{
    private HpkeKeySchedule(byte[] keyScheduleContext, byte[] secret, byte[] key, byte[] baseNonce, byte[] exporterSecret)
    {
        KeyScheduleContext = keyScheduleContext;
        Secret = secret;
        Key = key;
        BaseNonce = baseNonce;
        ExporterSecret = exporterSecret;
    }

    public byte[] KeyScheduleContext { get; }

    public byte[] Secret { get; }

    public byte[] Key { get; }

    public byte[] BaseNonce { get; }

    public byte[] ExporterSecret { get; }

    public static HpkeKeySchedule Derive(HpkeSuite suite, HpkeMode mode, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> info)
    {
        ArgumentNullException.ThrowIfNull(suite);
        RequireSupportedMode(mode);
        if (sharedSecret.Length != DhkemP256.SharedSecretLength)
            throw new ArgumentException($"The KEM shared secret is {DhkemP256.SharedSecretLength} bytes.", nameof(sharedSecret));
        if (info.Length > HpkeSuite.MaxInfoLength)
            throw new ArgumentException($"HPKE info is limited to {HpkeSuite.MaxInfoLength} bytes.", nameof(info));

        var suiteId = suite.SuiteId;
        var pskIdHash = HpkeLabeledKdf.LabeledExtract(suiteId, [], "psk_id_hash"u8, []);
        var infoHash = HpkeLabeledKdf.LabeledExtract(suiteId, [], "info_hash"u8, info);
        byte[] context = [(byte)mode, .. pskIdHash, .. infoHash];
        var secret = HpkeLabeledKdf.LabeledExtract(suiteId, sharedSecret, "secret"u8, []);
        var key = HpkeLabeledKdf.LabeledExpand(suiteId, secret, "key"u8, context, suite.KeyLength);
        var baseNonce = HpkeLabeledKdf.LabeledExpand(suiteId, secret, "base_nonce"u8, context, suite.NonceLength);
        var exporterSecret = HpkeLabeledKdf.LabeledExpand(suiteId, secret, "exp"u8, context, HpkeLabeledKdf.HashLength);
        return new HpkeKeySchedule(context, secret, key, baseNonce, exporterSecret);
    }

    /// <summary>Only base and auth: the psk modes would need a pre-shared key this protocol never has.</summary>
    internal static void RequireSupportedMode(HpkeMode mode)
    {
        switch (mode)
        {
            case HpkeMode.Base:
            case HpkeMode.Auth:
                return;
            case HpkeMode.Psk:
            case HpkeMode.AuthPsk:
                throw new HpkeException(HpkeError.UnsupportedMode, $"HPKE mode {mode} (0x{(byte)mode:x2}) is not supported: only base (0x00) and auth (0x02) are implemented.");
            default:
                throw new HpkeException(HpkeError.UnsupportedMode, $"0x{(byte)mode:x2} is not an HPKE mode.");
        }
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(Secret);
        CryptographicOperations.ZeroMemory(Key);
        CryptographicOperations.ZeroMemory(BaseNonce);
        CryptographicOperations.ZeroMemory(ExporterSecret);
    }
}
