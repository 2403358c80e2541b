using System.Globalization;
using System.Text;

namespace R2ps.Hsm;

/// <summary>
/// The CKA_LABEL of a client key: <c>r2ps-client-key/1;created=&lt;epoch seconds&gt;;owner=&lt;client_id&gt;</c>.
/// </summary>
/// <remarks>
/// Why the label: the owner and the creation time must live on the HSM object itself (the metadata store comes later,
/// and the HSM must never let one owner use another's key even without it), and PKCS#11 offers no free attribute for
/// either on a private key: CKA_ID is the kid, CKA_START_DATE is a day, vendor attributes are refused by SoftHSM2. The
/// owner comes last and is taken verbatim, so any client_id (even one containing ';') parses back unchanged. The
/// prefix keeps client keys apart from service keys, which may therefore never use it.
/// </remarks>
internal static class ClientKeyLabel
{
    public const string Prefix = "r2ps-client-key/1;";
    private const string CreatedField = "created=";
    private const string OwnerField = ";owner=";

    /// <summary>Longest client_id accepted, in UTF-8 bytes.</summary>
    public const int MaxOwnerBytes = 512;

    public static string Format(string owner, long createdEpochSeconds) =>
        string.Concat(Prefix, CreatedField, createdEpochSeconds.ToString(CultureInfo.InvariantCulture), OwnerField, owner);

    public static bool TryParse(byte[]? label, out string owner, out long createdEpochSeconds)
    {
        owner = "";
        createdEpochSeconds = 0;
        if (label is null) return false;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(label);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        if (!text.StartsWith(Prefix + CreatedField, StringComparison.Ordinal)) return false;
        var rest = text.AsSpan((Prefix + CreatedField).Length);
        var end = rest.IndexOf(OwnerField, StringComparison.Ordinal);
        if (end <= 0 || end > 19) return false;
        foreach (var c in rest[..end])
            if (c is < '0' or > '9') return false;
        if (!long.TryParse(rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out createdEpochSeconds)) return false;
        owner = rest[(end + OwnerField.Length)..].ToString();
        return owner.Length > 0;
    }

    public static void ValidateOwner(string owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (owner.Length == 0) throw new HsmInvalidRequestException("The key owner (client_id) is empty.");
        if (Encoding.UTF8.GetByteCount(owner) > MaxOwnerBytes) throw new HsmInvalidRequestException($"The key owner (client_id) is longer than {MaxOwnerBytes} UTF-8 bytes.");
    }
}
