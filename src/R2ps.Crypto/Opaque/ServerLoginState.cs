using System.Security.Cryptography;

namespace R2ps.Crypto.Opaque;

/// <summary>
/// What the server keeps between KE2 and KE3: the expected client MAC and the session key. Secret: the service seals it
/// (or keeps it in memory) and disposes it; the serialized form is version ‖ expected_client_mac ‖ session_key.
/// </summary>
public sealed class ServerLoginState : IDisposable
{
    /// <summary>Serialized size: 1 version byte + 32 + 32.</summary>
    public const int SerializedSize = 1 + OpaqueSizes.Hash + OpaqueSizes.Hash;

    private const byte Version = 1;

    private readonly byte[] _bytes;

    private ServerLoginState(byte[] bytes) => _bytes = bytes;

    internal ReadOnlySpan<byte> ExpectedClientMac => _bytes.AsSpan(1, OpaqueSizes.Hash);

    internal ReadOnlySpan<byte> SessionKey => _bytes.AsSpan(1 + OpaqueSizes.Hash, OpaqueSizes.Hash);

    internal static ServerLoginState Create(ReadOnlySpan<byte> expectedClientMac, ReadOnlySpan<byte> sessionKey)
    {
        var bytes = new byte[SerializedSize];
        bytes[0] = Version;
        expectedClientMac.CopyTo(bytes.AsSpan(1));
        sessionKey.CopyTo(bytes.AsSpan(1 + OpaqueSizes.Hash));
        return new ServerLoginState(bytes);
    }

    /// <summary>A copy of the serialized state; the caller owns (and should zero) it.</summary>
    public byte[] Serialize() => (byte[])_bytes.Clone();

    public static ServerLoginState Deserialize(ReadOnlySpan<byte> serialized)
    {
        if (serialized.Length != SerializedSize)
            throw new OpaqueException(OpaqueError.InvalidLength, $"A server login state is {SerializedSize} bytes.");
        if (serialized[0] != Version)
            throw new OpaqueException(OpaqueError.InvalidInput, "Unknown server login state version.");
        return new ServerLoginState(serialized.ToArray());
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_bytes);
}
