using System.Security.Cryptography;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Opaque;

/// <summary>
/// RFC 9807 §5.1 RegistrationRecord = client_public_key ‖ masking_key ‖ envelope (129 bytes), as the server stores it.
/// Parsing validates the client public key; the masking key is secret and zeroed on dispose.
/// </summary>
public sealed class RegistrationRecord : IDisposable
{
    private readonly byte[] _bytes;

    private RegistrationRecord(byte[] bytes, BcPoint clientPublicKey)
    {
        _bytes = bytes;
        ClientPublicKeyPoint = clientPublicKey;
    }

    /// <summary>The serialized client public key (33 bytes), also the default client identity.</summary>
    public ReadOnlySpan<byte> ClientPublicKey => _bytes.AsSpan(0, OpaqueSizes.PublicKey);

    /// <summary>The masking key (secret).</summary>
    public ReadOnlySpan<byte> MaskingKey => _bytes.AsSpan(OpaqueSizes.PublicKey, OpaqueSizes.Hash);

    /// <summary>envelope_nonce ‖ auth_tag (64 bytes).</summary>
    public ReadOnlySpan<byte> Envelope => _bytes.AsSpan(OpaqueSizes.PublicKey + OpaqueSizes.Hash, OpaqueSizes.Envelope);

    internal BcPoint ClientPublicKeyPoint { get; }

    /// <summary>Strictly parses a record (the <c>pin_registration</c> finalize upload): exact length, valid client key.</summary>
    public static RegistrationRecord Parse(ReadOnlySpan<byte> record)
    {
        if (record.Length != OpaqueSizes.RegistrationRecord)
            throw new OpaqueException(OpaqueError.InvalidLength, $"A registration record is {OpaqueSizes.RegistrationRecord} bytes.");
        var point = P256Group.DeserializeElement(record[..OpaqueSizes.PublicKey], "Client public key");
        return new RegistrationRecord(record.ToArray(), point);
    }

    /// <summary>
    /// RFC 9807 §10.9 fake record: a client public key and masking key with an all-zero envelope. Use
    /// <see cref="OpaqueServer.CreateFakeRecord"/> for one derived per credential identifier.
    /// </summary>
    public static RegistrationRecord CreateFake(ReadOnlySpan<byte> clientPublicKey, ReadOnlySpan<byte> maskingKey)
    {
        if (maskingKey.Length != OpaqueSizes.Hash)
            throw new OpaqueException(OpaqueError.InvalidLength, $"A masking key is {OpaqueSizes.Hash} bytes.");
        var point = P256Group.DeserializeElement(clientPublicKey, "Client public key");
        var bytes = new byte[OpaqueSizes.RegistrationRecord];
        clientPublicKey.CopyTo(bytes);
        maskingKey.CopyTo(bytes.AsSpan(OpaqueSizes.PublicKey));
        return new RegistrationRecord(bytes, point);
    }

    /// <summary>The 129-byte wire/storage form (a copy).</summary>
    public byte[] ToBytes() => (byte[])_bytes.Clone();

    public void Dispose() => CryptographicOperations.ZeroMemory(_bytes);
}
