using System.Buffers.Binary;
using System.Text;

namespace R2ps.Service;

/// <summary>
/// The OPAQUE credential identifier of PROTOCOL.md 1.5: <c>I2OSP(len(client_id),2) ‖ client_id ‖ I2OSP(len(kid),2) ‖ kid</c>
/// (UTF-8). Kids are unique only per client (reference wallets all use <c>wallet-hsm-key-1</c>), so the kid alone
/// would give two clients the same OPRF key, and one client's charged evaluates would be an oracle for the other's
/// PIN. Server-side only: it keys the OPRF key and the fake record and never appears on the wire.
/// </summary>
internal static class CredentialIdentifier
{
    public static byte[] For(string clientId, string kid)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(kid);
        var clientIdLength = Encoding.UTF8.GetByteCount(clientId);
        var kidLength = Encoding.UTF8.GetByteCount(kid);
        // Envelope rules bound both far below this; checked anyway, a silently truncated prefix would be ambiguous.
        if (clientIdLength > ushort.MaxValue || kidLength > ushort.MaxValue)
            throw new ArgumentException("A client id or kid is longer than 65535 bytes.");
        var result = new byte[2 + clientIdLength + 2 + kidLength];
        BinaryPrimitives.WriteUInt16BigEndian(result, (ushort)clientIdLength);
        Encoding.UTF8.GetBytes(clientId, result.AsSpan(2));
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(2 + clientIdLength), (ushort)kidLength);
        Encoding.UTF8.GetBytes(kid, result.AsSpan(4 + clientIdLength));
        return result;
    }
}
