using System.Buffers.Binary;
using System.Security.Cryptography;
using R2ps.Crypto.HashToCurve;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Opaque;

/// <summary>The output of <see cref="P256Sha256Oprf.Blind"/>: the secret blind and the element sent to the server.</summary>
public sealed class OprfBlindResult : IDisposable
{
    internal OprfBlindResult(byte[] blind, byte[] blindedElement)
    {
        Blind = blind;
        BlindedElement = blindedElement;
    }

    /// <summary>The blind scalar (secret; zeroed on dispose).</summary>
    public byte[] Blind { get; }

    /// <summary>The serialized blinded element (33 bytes).</summary>
    public byte[] BlindedElement { get; }

    public void Dispose() => CryptographicOperations.ZeroMemory(Blind);
}

/// <summary>
/// RFC 9497 OPRF, suite P256-SHA256, modeOPRF (mode 0): contextString = "OPRFV1-" ‖ 0x00 ‖ "-P256-SHA256".
/// Scalars cross this API as 32-byte big-endian arrays so callers can zero them.
/// </summary>
public static class P256Sha256Oprf
{
    public const int ElementSize = P256Group.ElementSize;
    public const int ScalarSize = P256Group.ScalarSize;
    public const int OutputSize = 32;

    /// <summary>RFC 9497 §3.2.1: a seed of Ns bytes.</summary>
    public const int SeedSize = 32;

    private const int MaxBlindAttempts = 64;

    /// <summary>"OPRFV1-" ‖ I2OSP(0, 1) ‖ "-P256-SHA256".</summary>
    public static ReadOnlySpan<byte> ContextString => "OPRFV1-\0-P256-SHA256"u8;

    private static ReadOnlySpan<byte> HashToGroupDst => "HashToGroup-OPRFV1-\0-P256-SHA256"u8;

    private static ReadOnlySpan<byte> HashToScalarDst => "HashToScalar-OPRFV1-\0-P256-SHA256"u8;

    private static ReadOnlySpan<byte> DeriveKeyPairDst => "DeriveKeyPairOPRFV1-\0-P256-SHA256"u8;

    private static ReadOnlySpan<byte> FinalizeLabel => "Finalize"u8;

    /// <summary>RFC 9497 §4.3 HashToGroup: hash_to_curve with DST "HashToGroup-" ‖ contextString.</summary>
    public static BcPoint HashToGroup(ReadOnlySpan<byte> input) => P256HashToCurve.HashToCurve(input, HashToGroupDst);

    /// <summary>RFC 9497 §4.3 HashToScalar: hash_to_field mod n with DST "HashToScalar-" ‖ contextString.</summary>
    public static BcBigInteger HashToScalar(ReadOnlySpan<byte> input) => HashToScalar(input, HashToScalarDst);

    /// <summary>HashToScalar with an explicit DST (DeriveKeyPair uses its own).</summary>
    public static BcBigInteger HashToScalar(ReadOnlySpan<byte> input, ReadOnlySpan<byte> dst) =>
        P256HashToCurve.HashToField(input, dst, 1, P256Group.Order)[0];

    /// <summary>RFC 9497 §3.2.1 DeriveKeyPair: (skS, pkS) as 32-byte scalar and 33-byte element.</summary>
    public static (byte[] PrivateKey, byte[] PublicKey) DeriveKeyPair(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> info)
    {
        var scalar = DerivePrivateScalar(seed, info);
        return (P256Group.SerializeScalar(scalar), P256Group.SerializeElement(P256Group.MultiplyGenerator(scalar)));
    }

    /// <summary>DeriveKeyPair without the public key (the OPRF server never needs pkS in modeOPRF).</summary>
    internal static BcBigInteger DerivePrivateScalar(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> info)
    {
        if (seed.Length != SeedSize) throw new OpaqueException(OpaqueError.InvalidLength, $"A DeriveKeyPair seed must be {SeedSize} bytes.");
        if (info.Length > ushort.MaxValue) throw new OpaqueException(OpaqueError.InvalidInput, "DeriveKeyPair info is too long.");

        // deriveInput ‖ I2OSP(counter, 1), with deriveInput = seed ‖ I2OSP(len(info), 2) ‖ info
        var buffer = new byte[seed.Length + 2 + info.Length + 1];
        try
        {
            seed.CopyTo(buffer);
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(seed.Length), (ushort)info.Length);
            info.CopyTo(buffer.AsSpan(seed.Length + 2));
            for (var counter = 0; counter <= 255; counter++)
            {
                buffer[^1] = (byte)counter;
                var scalar = HashToScalar(buffer, DeriveKeyPairDst);
                if (scalar.SignValue != 0) return scalar;
            }
            throw new OpaqueException(OpaqueError.DeriveKeyPairFailed, "DeriveKeyPair found no valid scalar.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>RFC 9497 §3.3.1 Blind: a random blind and blind · HashToGroup(input).</summary>
    public static OprfBlindResult Blind(ReadOnlySpan<byte> input, IOpaqueRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var blind = RandomScalar(random);
        var blindedElement = BlindWith(input, blind);
        return new OprfBlindResult(P256Group.SerializeScalar(blind), blindedElement);
    }

    internal static byte[] BlindWith(ReadOnlySpan<byte> input, BcBigInteger blind)
    {
        var inputElement = HashToGroup(input);
        if (inputElement.IsInfinity) throw new OpaqueException(OpaqueError.InvalidInput, "The OPRF input hashes to the identity element.");
        return P256Group.SerializeElement(P256Group.Multiply(inputElement, blind));
    }

    /// <summary>RFC 9497 §3.3.1 BlindEvaluate: skS · blindedElement, with strict decoding of the client's element.</summary>
    public static byte[] BlindEvaluate(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> blindedElement) =>
        BlindEvaluate(P256Group.DeserializeScalar(privateKey, "OPRF private key"), blindedElement);

    internal static byte[] BlindEvaluate(BcBigInteger privateKey, ReadOnlySpan<byte> blindedElement)
    {
        var element = P256Group.DeserializeElement(blindedElement, "Blinded element");
        return P256Group.SerializeElement(P256Group.Multiply(element, privateKey));
    }

    /// <summary>RFC 9497 §3.3.1 Finalize: Hash(len ‖ input ‖ len ‖ blind⁻¹ · evaluatedElement ‖ "Finalize").</summary>
    public static byte[] Finalize(ReadOnlySpan<byte> input, ReadOnlySpan<byte> blind, ReadOnlySpan<byte> evaluatedElement)
    {
        if (input.Length > ushort.MaxValue) throw new OpaqueException(OpaqueError.InvalidInput, "The OPRF input is too long.");
        var blindScalar = P256Group.DeserializeScalar(blind, "Blind");
        var element = P256Group.DeserializeElement(evaluatedElement, "Evaluated element");
        var unblinded = P256Group.SerializeElement(P256Group.Multiply(element, blindScalar.ModInverse(P256Group.Order)));

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)input.Length);
        hash.AppendData(length);
        hash.AppendData(input);
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)unblinded.Length);
        hash.AppendData(length);
        hash.AppendData(unblinded);
        hash.AppendData(FinalizeLabel);
        CryptographicOperations.ZeroMemory(unblinded);
        return hash.GetHashAndReset();
    }

    /// <summary>RFC 9497 §4.7 RandomScalar by rejection sampling (never reduced, so uniform in [1, n-1]).</summary>
    internal static BcBigInteger RandomScalar(IOpaqueRandom random)
    {
        var candidate = new byte[ScalarSize];
        try
        {
            for (var attempt = 0; attempt < MaxBlindAttempts; attempt++)
            {
                random.Fill(OpaqueRandomPurpose.Blind, candidate);
                var scalar = new BcBigInteger(1, candidate);
                if (scalar.SignValue > 0 && scalar.CompareTo(P256Group.Order) < 0) return scalar;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(candidate);
        }
        throw new OpaqueException(OpaqueError.InvalidScalar, "The random source produced no valid scalar.");
    }
}
