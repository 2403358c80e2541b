using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.HashToCurve;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Pin;

/// <summary>
/// The reference wallets' PIN hardening before OPAQUE (PROTOCOL.md §3): password = HKDF-SHA256(salt = "", info = "",
/// L = 32) of the x-coordinate of d_device · hash_to_curve_P256_XMD:SHA-256_SSWU_RO_(UTF-8 PIN,
/// DST "SE_EIDAS_WALLET_PIN_HARDENING"). Binding the PIN to the device key means a stolen OPAQUE record cannot be
/// attacked offline without that key.
/// </summary>
public static class PinHardening
{
    public const int PasswordSize = 32;

    /// <summary>The hash-to-curve domain separation tag.</summary>
    public static ReadOnlySpan<byte> Dst => "SE_EIDAS_WALLET_PIN_HARDENING"u8;

    /// <summary>Hardens <paramref name="pin"/> with the device key (P-256); the 32-byte result is the OPAQUE password.</summary>
    public static byte[] HardenPin(SoftwareEcKey deviceKey, string pin)
    {
        ArgumentNullException.ThrowIfNull(deviceKey);
        ArgumentNullException.ThrowIfNull(pin);
        if (!ReferenceEquals(deviceKey.Curve, EcCurve.P256))
            throw new CryptographicException("PIN hardening needs a P-256 device key.");
        if (pin.Length == 0) throw new ArgumentException("The PIN must not be empty.", nameof(pin));

        var pinBytes = System.Text.Encoding.UTF8.GetBytes(pin);
        byte[]? x = null;
        try
        {
            var hashed = P256HashToCurve.HashToCurve(pinBytes, Dst);
            var shared = EcCurve.P256.Multiply(hashed, deviceKey.PrivateScalar);
            if (shared.IsInfinity) throw new CryptographicException("PIN hardening produced the point at infinity.");
            x = EcCurve.P256.EncodeFieldElement(shared.AffineXCoord.ToBigInteger());
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, x, PasswordSize, salt: [], info: []);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pinBytes);
            if (x is not null) CryptographicOperations.ZeroMemory(x);
        }
    }
}
