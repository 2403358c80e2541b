using System.Globalization;
using System.Text;

namespace R2ps.Service;

/// <summary>
/// Associated data for sealed session secrets: purpose, session id and binding. A sealed value copied to another
/// session, client or purpose does not open.
/// </summary>
internal static class Sealing
{
    public static byte[] LoginStateAad(string pakeSessionId, string clientId, string kid, string context) =>
        Aad("r2ps/login-state/v2", pakeSessionId, clientId, kid, context); // v2: record hash ‖ OPAQUE server state

    public static byte[] PinChangeMarkAad(string markId, string clientId, string kid, string context) =>
        Aad("r2ps/pin-change-mark/v1", markId, clientId, kid, context);

    public static byte[] SessionKeyAad(string pakeSessionId, string clientId, string kid, string context) =>
        Aad("r2ps/session-key/v1", pakeSessionId, clientId, kid, context);

    /// <summary>A vault secret version at rest: the copy of one row cannot open as another client's, id or version.</summary>
    public static byte[] VaultSecretAad(string clientId, string kid, string secretId, long version) =>
        Aad("r2ps/vault-secret/v1", clientId, kid, secretId, version.ToString(CultureInfo.InvariantCulture));

    // Each part is prefixed with its length in UTF-8 bytes (the unit of the bytes sealed), so no two different tuples
    // give the same bytes.
    internal static byte[] Aad(params ReadOnlySpan<string> parts)
    {
        var builder = new StringBuilder();
        foreach (var part in parts)
            builder.Append(Encoding.UTF8.GetByteCount(part).ToString(CultureInfo.InvariantCulture)).Append(':').Append(part).Append(';');
        return Encoding.UTF8.GetBytes(builder.ToString());
    }
}
