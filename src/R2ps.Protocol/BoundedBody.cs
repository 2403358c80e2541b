namespace R2ps.Protocol;

/// <summary>
/// Reads an HTTP body of at most a given size, the same way on both ends (the BFF reading a request, the wallet reading
/// an answer). A body whose length is declared is read straight into an array of that length: R2PS bodies are a few
/// KiB, and a growing buffer that starts large (it used to be 16 KiB on the BFF and 8 KiB plus a MemoryStream in the
/// wallet) was the largest allocation of the request path's own code (issue 9's allocation profile).
/// </summary>
public static class BoundedBody
{
    /// <summary>First buffer for a body without a declared length (chunked): larger than most R2PS bodies.</summary>
    internal const int UndeclaredInitialBytes = 4 * 1024;

    /// <summary>
    /// The whole of <paramref name="body"/>, or null as soon as it is longer than <paramref name="maxBytes"/> (nothing beyond
    /// the limit is buffered). <paramref name="declaredLength"/> (Content-Length) sizes the buffer when it is within the
    /// limit; a declared length over the limit is refused before reading. A body that turns out longer than declared is
    /// read on within the limit; a shorter one is returned as it is (the HTTP stack reports truncation itself).
    /// </summary>
    public static async Task<byte[]?> ReadAsync(Stream body, long? declaredLength, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (declaredLength > maxBytes)
            return null;

        byte[] buffer;
        int length;
        if (declaredLength is { } declared and >= 0)
        {
            buffer = new byte[declared];
            length = await FillAsync(body, buffer, cancellationToken).ConfigureAwait(false);
            if (length < buffer.Length)
                return buffer.AsSpan(0, length).ToArray();
            // Full: one more byte tells a body of exactly the declared length from a longer one.
            var probe = new byte[1];
            if (await body.ReadAsync(probe, cancellationToken).ConfigureAwait(false) == 0)
                return buffer;
            if (length + 1 > maxBytes)
                return null;
            Array.Resize(ref buffer, Grown(buffer.Length, maxBytes));
            buffer[length++] = probe[0];
        }
        else
        {
            buffer = new byte[Math.Min(maxBytes + 1, UndeclaredInitialBytes)];
            length = 0;
        }

        while (true)
        {
            if (length == buffer.Length)
                Array.Resize(ref buffer, Grown(buffer.Length, maxBytes));
            var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                return buffer.AsSpan(0, length).ToArray();
            length += read;
            if (length > maxBytes)
                return null;
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the body ends; the bytes read.</summary>
    private static async Task<int> FillAsync(Stream body, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                break;
            length += read;
        }

        return length;
    }

    /// <summary>Double, but never past one byte over the limit (the byte that proves a body too long).</summary>
    private static int Grown(int size, int maxBytes) => (int)Math.Min((long)maxBytes + 1, Math.Max(2L * size, 16));
}
