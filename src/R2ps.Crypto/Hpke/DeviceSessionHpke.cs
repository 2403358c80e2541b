using System.Security.Cryptography;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Hpke;

/// <summary>
/// The HPKE step of the BFF device-session establishment (PROTOCOL.md 2.1): mode_auth, DHKEM(P-256, HKDF-SHA256) /
/// HKDF-SHA256 / AES-256-GCM, info "R2PS-BFF-SESSION-v1", one Seal with empty aad, and the device-session key
/// Export("R2PS-BFF-SESSION-KEY", 32). The wallet (device key) is the sender, the BFF key the recipient.
/// </summary>
public static class DeviceSessionHpke
{
    public const string Info = "R2PS-BFF-SESSION-v1";

    public const string SessionKeyExportLabel = "R2PS-BFF-SESSION-KEY";

    public const int SessionKeyLength = 32;

    private static readonly byte[] InfoBytes = System.Text.Encoding.ASCII.GetBytes(Info);

    private static readonly byte[] SessionKeyExportLabelBytes = System.Text.Encoding.ASCII.GetBytes(SessionKeyExportLabel);

    public static HpkeSuite Suite => HpkeSuite.P256Sha256Aes256Gcm;

    /// <summary>Wallet side: seals <paramref name="plaintext"/> (the JSON establish request) to the BFF.</summary>
    public static DeviceSessionSealed Seal(EcPublicKey bffKey, IEcPrivateKey deviceKey, ReadOnlySpan<byte> plaintext)
    {
        using var context = Suite.SetupAuthS(bffKey, InfoBytes, deviceKey);
        return Sealed(context, plaintext);
    }

    /// <summary>Seal with a chosen ephemeral key: only for known-answer tests.</summary>
    internal static DeviceSessionSealed Seal(EcPublicKey bffKey, IEcPrivateKey deviceKey, ReadOnlySpan<byte> plaintext, IEcPrivateKey ephemeral)
    {
        using var context = Suite.SetupAuthS(bffKey, InfoBytes, deviceKey, ephemeral);
        return Sealed(context, plaintext);
    }

    /// <summary>
    /// BFF side: opens the wallet's <c>ct</c> under its <c>enc</c>, authenticating the sender as
    /// <paramref name="deviceKey"/>, and derives the device-session key.
    /// </summary>
    /// <exception cref="HpkeException">
    /// <see cref="HpkeError.InvalidEncapsulatedKey"/> for a malformed <c>enc</c> (a 400), <see cref="HpkeError.OpenFailed"/>
    /// when the ciphertext does not open under these keys (a 401).
    /// </exception>
    public static DeviceSessionOpened Open(ReadOnlySpan<byte> enc, ReadOnlySpan<byte> ciphertext, IEcPrivateKey bffKey, EcPublicKey deviceKey)
    {
        using var context = Suite.SetupAuthR(enc, bffKey, InfoBytes, deviceKey);
        var plaintext = context.Open(ciphertext, []);
        return new DeviceSessionOpened(plaintext, context.Export(SessionKeyExportLabelBytes, SessionKeyLength));
    }

    private static DeviceSessionSealed Sealed(HpkeSenderContext context, ReadOnlySpan<byte> plaintext)
    {
        var ciphertext = context.Seal(plaintext, []);
        return new DeviceSessionSealed(context.Enc, ciphertext, context.Export(SessionKeyExportLabelBytes, SessionKeyLength));
    }
}

/// <summary>What the wallet sends (<see cref="Enc"/>, <see cref="Ciphertext"/>) and keeps (<see cref="SessionKey"/>, zeroed on dispose).</summary>
public sealed class DeviceSessionSealed : IDisposable
{
    private readonly byte[] _sessionKey;
    private bool _disposed;

    internal DeviceSessionSealed(byte[] enc, byte[] ciphertext, byte[] sessionKey)
    {
        Enc = enc;
        Ciphertext = ciphertext;
        _sessionKey = sessionKey;
    }

    /// <summary>The 65-byte uncompressed encapsulated key (the body's <c>enc</c> before b64url).</summary>
    public byte[] Enc { get; }

    /// <summary>ciphertext‖tag (the body's <c>ct</c> before b64url).</summary>
    public byte[] Ciphertext { get; }

    /// <summary>The 32-byte device-session key; valid until disposal.</summary>
    public ReadOnlySpan<byte> SessionKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _sessionKey;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(_sessionKey);
    }
}

/// <summary>What the BFF learns: the establish request <see cref="Plaintext"/> and the <see cref="SessionKey"/> (zeroed on dispose).</summary>
public sealed class DeviceSessionOpened : IDisposable
{
    private readonly byte[] _sessionKey;
    private bool _disposed;

    internal DeviceSessionOpened(byte[] plaintext, byte[] sessionKey)
    {
        Plaintext = plaintext;
        _sessionKey = sessionKey;
    }

    /// <summary>The opened JSON <c>{"client_id","kid","iat","nonce"}</c> bytes.</summary>
    public byte[] Plaintext { get; }

    /// <summary>The 32-byte device-session key; valid until disposal.</summary>
    public ReadOnlySpan<byte> SessionKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _sessionKey;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(_sessionKey);
    }
}
