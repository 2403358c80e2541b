using System.Globalization;
using System.Text;

namespace R2ps.Protocol;

/// <summary>Fixed rules of the secret vault (PROTOCOL.md 4) shared by the service and the wallet.</summary>
public static class VaultRules
{
    /// <summary>Longest <c>secret_id</c>.</summary>
    public const int MaxSecretIdLength = 64;

    /// <summary>The spec's ciphertext limit (16 KiB of decoded bytes); the default of the configurable limit.</summary>
    public const int DefaultMaxCiphertextBytes = 16 * 1024;

    /// <summary>The spec's default limit of stored ids per client.</summary>
    public const int DefaultMaxSecretsPerClient = 32;

    /// <summary>The HKDF info of the wallet's vault key.</summary>
    public const string VaultKeyInfo = "R2PS-VAULT-KEY-v1";

    /// <summary><c>audit_log</c> <c>limit</c> bounds and default.</summary>
    public const int MinAuditLimit = 1;
    public const int MaxAuditLimit = 100;
    public const int DefaultAuditLimit = 50;

    /// <summary>Audit event outcomes.</summary>
    public const string AuditOk = ProtocolConstants.Ok;
    public const string AuditError = "ERROR";

    /// <summary>1–64 characters of [A-Za-z0-9._-].</summary>
    public static bool IsSecretId(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxSecretIdLength) return false;
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-')) return false;
        }
        return true;
    }

    /// <summary>The wallet layer's AES-GCM AAD: UTF-8 of <c>secret_id</c> ‖ <c>"|"</c> ‖ decimal <c>version</c>.</summary>
    public static byte[] ClientAad(string secretId, long version) =>
        Encoding.UTF8.GetBytes(secretId + "|" + version.ToString(CultureInfo.InvariantCulture));
}
