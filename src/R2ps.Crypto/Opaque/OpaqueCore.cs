using System.Buffers.Binary;
using System.Security.Cryptography;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace R2ps.Crypto.Opaque;

/// <summary>The RFC 9807 building blocks both sides share: KDF/MAC, labels, credentials, preamble and 3DH key schedule.</summary>
internal static class OpaqueCore
{
    public static ReadOnlySpan<byte> OprfKeyLabel => "OprfKey"u8;
    public static ReadOnlySpan<byte> MaskingKeyLabel => "MaskingKey"u8;
    public static ReadOnlySpan<byte> AuthKeyLabel => "AuthKey"u8;
    public static ReadOnlySpan<byte> ExportKeyLabel => "ExportKey"u8;
    public static ReadOnlySpan<byte> PrivateKeyLabel => "PrivateKey"u8;
    public static ReadOnlySpan<byte> CredentialResponsePadLabel => "CredentialResponsePad"u8;
    public static ReadOnlySpan<byte> OprfKeyInfo => "OPAQUE-DeriveKeyPair"u8;
    public static ReadOnlySpan<byte> DiffieHellmanKeyInfo => "OPAQUE-DeriveDiffieHellmanKeyPair"u8;
    private static ReadOnlySpan<byte> PreambleLabel => "OPAQUEv1-"u8;
    private static ReadOnlySpan<byte> ExpandLabelPrefix => "OPAQUE-"u8;

    public static void Trace(OpaqueOptions options, string name, ReadOnlySpan<byte> value) => options.Trace?.Record(name, value);

    /// <summary>HKDF-Extract with an empty salt (RFC 9807 uses Extract("", ·) throughout).</summary>
    public static byte[] Extract(ReadOnlySpan<byte> ikm)
    {
        var prk = new byte[OpaqueSizes.Hash];
        HKDF.Extract(HashAlgorithmName.SHA256, ikm, ReadOnlySpan<byte>.Empty, prk);
        return prk;
    }

    public static byte[] Expand(ReadOnlySpan<byte> prk, ReadOnlySpan<byte> info, int length)
    {
        var okm = new byte[length];
        HKDF.Expand(HashAlgorithmName.SHA256, prk, okm, info);
        return okm;
    }

    /// <summary>Expand(prk, prefix ‖ label, length): the RFC's concat(nonce-or-identifier, label) info strings.</summary>
    public static byte[] Expand(ReadOnlySpan<byte> prk, ReadOnlySpan<byte> infoPrefix, ReadOnlySpan<byte> label, int length)
    {
        var info = new byte[infoPrefix.Length + label.Length];
        infoPrefix.CopyTo(info);
        label.CopyTo(info.AsSpan(infoPrefix.Length));
        return Expand(prk, info, length);
    }

    public static byte[] Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message) => HMACSHA256.HashData(key, message);

    /// <summary>RFC 9807 §6.4.1 Derive-Secret(secret, label, transcript) = Expand-Label(secret, label, transcript, Nx).</summary>
    public static byte[] DeriveSecret(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> label, ReadOnlySpan<byte> transcriptHash)
    {
        // CustomLabel = I2OSP(Length, 2) ‖ I2OSP(len("OPAQUE-" ‖ label), 1) ‖ "OPAQUE-" ‖ label ‖ I2OSP(len(context), 1) ‖ context
        var fullLabelLength = ExpandLabelPrefix.Length + label.Length;
        Span<byte> info = stackalloc byte[2 + 1 + fullLabelLength + 1 + transcriptHash.Length];
        BinaryPrimitives.WriteUInt16BigEndian(info, OpaqueSizes.Hash);
        info[2] = (byte)fullLabelLength;
        ExpandLabelPrefix.CopyTo(info[3..]);
        label.CopyTo(info[(3 + ExpandLabelPrefix.Length)..]);
        info[3 + fullLabelLength] = (byte)transcriptHash.Length;
        transcriptHash.CopyTo(info[(4 + fullLabelLength)..]);
        return Expand(secret, info, OpaqueSizes.Hash);
    }

    /// <summary>The OPRF key of a credential (RFC 9807 §5.3.2): DeriveKeyPair(Expand(oprf_seed, id ‖ "OprfKey"), ...).</summary>
    public static BcBigInteger DeriveOprfKey(ReadOnlySpan<byte> oprfSeed, ReadOnlySpan<byte> credentialIdentifier, OpaqueOptions options)
    {
        var seed = Expand(oprfSeed, credentialIdentifier, OprfKeyLabel, OpaqueSizes.Hash);
        try
        {
            var key = P256Sha256Oprf.DerivePrivateScalar(seed, OprfKeyInfo);
            if (options.Trace is not null) Trace(options, "oprf_key", P256Group.SerializeScalar(key));
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>RFC 9807 §4.1 DeriveDiffieHellmanKeyPair(seed): the private scalar only.</summary>
    public static BcBigInteger DeriveDiffieHellmanPrivateKey(ReadOnlySpan<byte> seed) =>
        P256Sha256Oprf.DerivePrivateScalar(seed, DiffieHellmanKeyInfo);

    /// <summary>randomized_password = Extract("", oprf_output ‖ Stretch(oprf_output)).</summary>
    public static byte[] RandomizePassword(byte[] oprfOutput, OpaqueOptions options)
    {
        var stretched = options.Stretch is null ? (byte[])oprfOutput.Clone() : options.Stretch(oprfOutput);
        var ikm = new byte[oprfOutput.Length + stretched.Length];
        try
        {
            oprfOutput.CopyTo(ikm, 0);
            stretched.CopyTo(ikm, oprfOutput.Length);
            var randomizedPassword = Extract(ikm);
            Trace(options, "randomized_password", randomizedPassword);
            return randomizedPassword;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ikm);
            CryptographicOperations.ZeroMemory(stretched);
        }
    }

    public static void CheckIdentity(byte[]? identity, string what)
    {
        if (identity is not null && identity.Length > ushort.MaxValue)
            throw new OpaqueException(OpaqueError.InvalidInput, $"{what} is longer than 65535 bytes.");
    }

    /// <summary>RFC 9807 §4.1.2 CleartextCredentials: server_public_key ‖ len ‖ server_identity ‖ len ‖ client_identity.</summary>
    public static byte[] CleartextCredentials(ReadOnlySpan<byte> serverPublicKey, ReadOnlySpan<byte> serverIdentity, ReadOnlySpan<byte> clientIdentity)
    {
        var result = new byte[serverPublicKey.Length + 2 + serverIdentity.Length + 2 + clientIdentity.Length];
        var span = result.AsSpan();
        serverPublicKey.CopyTo(span);
        span = span[serverPublicKey.Length..];
        span = WriteLengthPrefixed(span, serverIdentity);
        WriteLengthPrefixed(span, clientIdentity);
        return result;
    }

    /// <summary>"OPAQUEv1-" ‖ I2OSP(len(context), 2) ‖ context: the fixed start of every preamble.</summary>
    public static byte[] PreamblePrefix(IReadOnlyList<byte> context)
    {
        if (context.Count > ushort.MaxValue) throw new OpaqueException(OpaqueError.InvalidInput, "The context is longer than 65535 bytes.");
        var result = new byte[PreambleLabel.Length + 2 + context.Count];
        PreambleLabel.CopyTo(result);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(PreambleLabel.Length), (ushort)context.Count);
        for (var i = 0; i < context.Count; i++) result[PreambleLabel.Length + 2 + i] = context[i];
        return result;
    }

    /// <summary>
    /// RFC 9807 §6.4.2 Preamble: prefix ‖ len ‖ client_identity ‖ KE1 ‖ len ‖ server_identity ‖ credential_response ‖
    /// server_nonce ‖ server_public_keyshare. The last three are the first 227 bytes of KE2, passed as one span.
    /// </summary>
    public static byte[] Preamble(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> clientIdentity, ReadOnlySpan<byte> ke1,
        ReadOnlySpan<byte> serverIdentity, ReadOnlySpan<byte> ke2WithoutMac)
    {
        var result = new byte[prefix.Length + 2 + clientIdentity.Length + ke1.Length + 2 + serverIdentity.Length + ke2WithoutMac.Length];
        var span = result.AsSpan();
        prefix.CopyTo(span);
        span = WriteLengthPrefixed(span[prefix.Length..], clientIdentity);
        ke1.CopyTo(span);
        span = WriteLengthPrefixed(span[ke1.Length..], serverIdentity);
        ke2WithoutMac.CopyTo(span);
        return result;
    }

    /// <summary>
    /// RFC 9807 §6.4.2 DeriveKeys plus both MACs: server_mac = MAC(Km2, H(preamble)), client_mac = MAC(Km3,
    /// H(preamble ‖ server_mac)). Consumes (zeroes) <paramref name="ikm"/>.
    /// </summary>
    public static AuthenticationKeys DeriveAuthenticationKeys(byte[] ikm, ReadOnlySpan<byte> preamble, OpaqueOptions options)
    {
        using var transcript = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        transcript.AppendData(preamble);
        Span<byte> preambleHash = stackalloc byte[OpaqueSizes.Hash];
        transcript.GetCurrentHash(preambleHash);

        var prk = Extract(ikm);
        CryptographicOperations.ZeroMemory(ikm);
        var handshakeSecret = DeriveSecret(prk, "HandshakeSecret"u8, preambleHash);
        var sessionKey = DeriveSecret(prk, "SessionKey"u8, preambleHash);
        var km2 = DeriveSecret(handshakeSecret, "ServerMAC"u8, ReadOnlySpan<byte>.Empty);
        var km3 = DeriveSecret(handshakeSecret, "ClientMAC"u8, ReadOnlySpan<byte>.Empty);
        if (options.Trace is not null)
        {
            Trace(options, "handshake_secret", handshakeSecret);
            Trace(options, "server_mac_key", km2);
            Trace(options, "client_mac_key", km3);
        }

        var serverMac = Mac(km2, preambleHash);
        transcript.AppendData(serverMac);
        Span<byte> fullHash = stackalloc byte[OpaqueSizes.Hash];
        transcript.GetHashAndReset(fullHash);
        var clientMac = Mac(km3, fullHash);

        CryptographicOperations.ZeroMemory(prk);
        CryptographicOperations.ZeroMemory(handshakeSecret);
        CryptographicOperations.ZeroMemory(km2);
        CryptographicOperations.ZeroMemory(km3);
        return new AuthenticationKeys(serverMac, clientMac, sessionKey);
    }

    /// <summary>xor(pad, data) in place into <paramref name="destination"/>.</summary>
    public static void Xor(ReadOnlySpan<byte> pad, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        for (var i = 0; i < data.Length; i++) destination[i] = (byte)(pad[i] ^ data[i]);
    }

    private static Span<byte> WriteLengthPrefixed(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)value.Length);
        value.CopyTo(destination[2..]);
        return destination[(2 + value.Length)..];
    }
}

/// <summary>The 3DH outputs: the server MAC, the (expected) client MAC and the session key. Zeroed on dispose.</summary>
internal sealed class AuthenticationKeys(byte[] serverMac, byte[] clientMac, byte[] sessionKey) : IDisposable
{
    public byte[] ServerMac { get; } = serverMac;

    public byte[] ClientMac { get; } = clientMac;

    public byte[] SessionKey { get; } = sessionKey;

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(ServerMac);
        CryptographicOperations.ZeroMemory(ClientMac);
        CryptographicOperations.ZeroMemory(SessionKey);
    }
}
