using System.Text;
using R2ps.Crypto.Encoding;

namespace R2ps.Protocol.Envelopes;

/// <summary>
/// The envelope's <c>data</c> member: base64 (with padding) of the ASCII bytes of a compact JWE — the JWE is encoded twice,
/// as the reference implementation does (PROTOCOL.md 1.1).
/// </summary>
public static class EnvelopeData
{
    public static string Wrap(string compactJwe) => Base64Std.Encode(Encoding.ASCII.GetBytes(compactJwe));

    /// <summary>Returns the compact JWE, or throws ILLEGAL_REQUEST_DATA for anything that is not canonical base64 of ASCII.</summary>
    public static string Unwrap(string data)
    {
        if (!Base64Std.TryDecode(data, out var bytes))
            throw new R2psException(ErrorCode.IllegalRequestData, "The envelope's data is not canonical base64.");
        foreach (var b in bytes)
        {
            if (b is < 0x21 or > 0x7e)
                throw new R2psException(ErrorCode.IllegalRequestData, "The envelope's data is not a compact JWE.");
        }
        return Encoding.ASCII.GetString(bytes);
    }
}
