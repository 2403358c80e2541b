using System.Security.Cryptography;

namespace R2ps.Crypto.HashToCurve;

/// <summary>RFC 9380 §5.3.1 expand_message_xmd with SHA-256 (b_in_bytes 32, s_in_bytes 64).</summary>
public static class ExpandMessageXmd
{
    private const int HashSize = 32;
    private const int BlockSize = 64;
    private const int MaxDstLength = 255;

    /// <summary>RFC 9380 §5.3.3: a DST longer than 255 bytes is replaced by H("H2C-OVERSIZE-DST-" ‖ DST).</summary>
    private static ReadOnlySpan<byte> OversizePrefix => "H2C-OVERSIZE-DST-"u8;

    /// <summary>Expands <paramref name="message"/> into <paramref name="lengthInBytes"/> uniform bytes.</summary>
    public static byte[] Expand(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst, int lengthInBytes)
    {
        var output = new byte[lengthInBytes];
        Expand(message, dst, output);
        return output;
    }

    /// <summary>Expands <paramref name="message"/> into <paramref name="output"/> (its length is len_in_bytes).</summary>
    public static void Expand(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst, Span<byte> output)
    {
        var length = output.Length;
        var ell = (length + HashSize - 1) / HashSize;
        if (length == 0 || ell > 255 || length > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(output), "expand_message_xmd output must be 1..8160 bytes.");
        if (dst.IsEmpty) throw new ArgumentException("The domain separation tag must not be empty.", nameof(dst));

        // DST_prime = DST ‖ I2OSP(len(DST), 1), with an oversized DST first replaced by its hash.
        Span<byte> dstBuffer = stackalloc byte[MaxDstLength + 1];
        int dstLength;
        if (dst.Length > MaxDstLength)
        {
            using var oversize = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            oversize.AppendData(OversizePrefix);
            oversize.AppendData(dst);
            dstLength = oversize.GetHashAndReset(dstBuffer);
        }
        else
        {
            dst.CopyTo(dstBuffer);
            dstLength = dst.Length;
        }
        dstBuffer[dstLength] = (byte)dstLength;
        ReadOnlySpan<byte> dstPrime = dstBuffer[..(dstLength + 1)];

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> b0 = stackalloc byte[HashSize];
        Span<byte> bi = stackalloc byte[HashSize];
        Span<byte> counterOrLength = stackalloc byte[3];

        // b_0 = H(Z_pad ‖ msg ‖ I2OSP(len_in_bytes, 2) ‖ I2OSP(0, 1) ‖ DST_prime)
        hash.AppendData(stackalloc byte[BlockSize]);
        hash.AppendData(message);
        counterOrLength[0] = (byte)(length >> 8);
        counterOrLength[1] = (byte)length;
        counterOrLength[2] = 0;
        hash.AppendData(counterOrLength);
        hash.AppendData(dstPrime);
        hash.GetHashAndReset(b0);

        // b_1 = H(b_0 ‖ I2OSP(1, 1) ‖ DST_prime); b_i = H(strxor(b_0, b_(i-1)) ‖ I2OSP(i, 1) ‖ DST_prime)
        for (var i = 1; i <= ell; i++)
        {
            if (i == 1)
            {
                b0.CopyTo(bi);
            }
            else
            {
                for (var j = 0; j < HashSize; j++) bi[j] ^= b0[j];
            }
            hash.AppendData(bi);
            counterOrLength[0] = (byte)i;
            hash.AppendData(counterOrLength[..1]);
            hash.AppendData(dstPrime);
            hash.GetHashAndReset(bi);

            var offset = (i - 1) * HashSize;
            var take = Math.Min(HashSize, length - offset);
            bi[..take].CopyTo(output[offset..]);
        }

        CryptographicOperations.ZeroMemory(b0);
        CryptographicOperations.ZeroMemory(bi);
    }
}
