using System.Security.Cryptography;

namespace R2ps.Crypto.Opaque;

/// <summary>What a random draw is for, so a test can replay the RFC vectors' fixed values draw by draw.</summary>
public enum OpaqueRandomPurpose
{
    /// <summary>An OPRF blind: 32 bytes read as a big-endian scalar; redrawn when 0 or ≥ n.</summary>
    Blind,

    /// <summary>The envelope nonce of registration (Nn).</summary>
    EnvelopeNonce,

    /// <summary>The client nonce of KE1 (Nn).</summary>
    ClientNonce,

    /// <summary>The seed of the client's ephemeral key share (Nseed).</summary>
    ClientKeyshareSeed,

    /// <summary>The masking nonce of KE2 (Nn).</summary>
    MaskingNonce,

    /// <summary>The server nonce of KE2 (Nn).</summary>
    ServerNonce,

    /// <summary>The seed of the server's ephemeral key share (Nseed).</summary>
    ServerKeyshareSeed,
}

/// <summary>The randomness OPAQUE consumes; injectable so that RFC 9807 App. C vectors reproduce byte for byte.</summary>
public interface IOpaqueRandom
{
    /// <summary>Fills <paramref name="destination"/> with random bytes for <paramref name="purpose"/>.</summary>
    void Fill(OpaqueRandomPurpose purpose, Span<byte> destination);
}

/// <summary>The production source: the operating system CSPRNG.</summary>
public sealed class SystemOpaqueRandom : IOpaqueRandom
{
    public static SystemOpaqueRandom Instance { get; } = new();

    private SystemOpaqueRandom()
    {
    }

    public void Fill(OpaqueRandomPurpose purpose, Span<byte> destination) => RandomNumberGenerator.Fill(destination);
}
