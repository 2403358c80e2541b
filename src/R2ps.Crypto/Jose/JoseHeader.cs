using System.Text.Json;
using System.Text.Unicode;
using R2ps.Crypto.Encoding;

namespace R2ps.Crypto.Jose;

/// <summary>
/// A parsed JOSE protected header. Parsing is strict: canonical base64url, valid UTF-8 without BOM, one JSON object,
/// no duplicate member in any object (RFC 7515 §5.2 allows rejecting them; JSON parsers disagree on which copy wins,
/// which is how header-confusion attacks start), and every string readable.
/// </summary>
public sealed class JoseHeader
{
    private const int MaxJsonDepth = 4; // the header object, epk inside it, and slack; JOSE headers are flat

    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        MaxDepth = MaxJsonDepth,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    private readonly byte[] _utf8;
    private readonly Dictionary<string, JsonElement> _members;

    private JoseHeader(string segment, byte[] utf8, Dictionary<string, JsonElement> members)
    {
        Segment = segment;
        _utf8 = utf8;
        _members = members;
    }

    /// <summary>The base64url segment exactly as received: the JWS signing input prefix and the JWE AAD.</summary>
    public string Segment { get; }

    /// <summary>The member names (unescaped).</summary>
    public IReadOnlyCollection<string> MemberNames => _members.Keys;

    /// <summary>A copy of the decoded header bytes (UTF-8 JSON).</summary>
    public byte[] ToUtf8() => (byte[])_utf8.Clone();

    public bool Contains(string name) => _members.ContainsKey(name);

    /// <summary>The string value of a member; null when absent. A member of another JSON type is an <see cref="JoseError.InvalidHeader"/>.</summary>
    public string? GetString(string name)
    {
        if (!_members.TryGetValue(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.String)
            throw new JoseException(JoseError.InvalidHeader, $"Header member '{name}' must be a JSON string.");
        return value.GetString();
    }

    /// <summary>A member's raw JSON value (a detached copy), e.g. the <c>epk</c> object.</summary>
    public bool TryGetMember(string name, out JsonElement value) => _members.TryGetValue(name, out value);

    /// <summary>
    /// True when the header has exactly these members, each a JSON string with exactly this value (ordinal); member
    /// order and JSON spelling (whitespace, escapes) do not matter. R2PS compares members, not bytes, because other
    /// JOSE libraries (Nimbus) may serialize the same header in another member order.
    /// </summary>
    public bool HasExactly(IReadOnlyDictionary<string, string> expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        if (_members.Count != expected.Count) return false;
        foreach (var (name, expectedValue) in expected)
        {
            if (!_members.TryGetValue(name, out var value) || value.ValueKind != JsonValueKind.String) return false;
            if (!string.Equals(value.GetString(), expectedValue, StringComparison.Ordinal)) return false;
        }
        return true;
    }

    /// <summary>Parses and validates a protected-header segment.</summary>
    public static JoseHeader Parse(string segment, JoseLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(segment);
        limits ??= JoseLimits.Default;
        // Bound the work before decoding: base64url needs 4 characters per 3 bytes.
        if (segment.Length > (limits.MaxHeaderLength + 2) / 3 * 4)
            throw new JoseException(JoseError.InputTooLarge, "The protected header exceeds the size limit.");
        if (segment.Length == 0)
            throw new JoseException(JoseError.MalformedCompact, "The protected header segment is empty.");
        if (!Base64Url.TryDecode(segment, out var utf8))
            throw new JoseException(JoseError.InvalidBase64Url, "The protected header is not canonical base64url.");
        if (utf8.Length > limits.MaxHeaderLength)
            throw new JoseException(JoseError.InputTooLarge, "The protected header exceeds the size limit.");
        return new JoseHeader(segment, utf8, ParseMembers(utf8));
    }

    /// <summary>Parses header JSON given as bytes (for headers this process builds or a caller supplies for signing).</summary>
    internal static JoseHeader FromUtf8(byte[] utf8) => new(Base64Url.Encode(utf8), utf8, ParseMembers(utf8));

    private static Dictionary<string, JsonElement> ParseMembers(byte[] utf8)
    {
        // JsonDocument silently skips a UTF-8 BOM and tolerates some invalid UTF-8 outside strings; JOSE wants neither.
        if (utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF)
            throw new JoseException(JoseError.InvalidHeader, "The protected header starts with a byte order mark.");
        if (!Utf8.IsValid(utf8))
            throw new JoseException(JoseError.InvalidHeader, "The protected header is not valid UTF-8.");

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(utf8, ParseOptions);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new JoseException(JoseError.InvalidHeader, "The protected header is not valid JSON.", e);
        }

        if (root.ValueKind != JsonValueKind.Object)
            throw new JoseException(JoseError.InvalidHeader, "The protected header is not a JSON object.");
        try
        {
            CheckStrict(root);
            var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject()) members.Add(property.Name, property.Value);
            return members;
        }
        catch (InvalidOperationException e)
        {
            // Escaped lone surrogates ("\ud800") cannot become a .NET string.
            throw new JoseException(JoseError.InvalidHeader, "The protected header contains an unreadable string.", e);
        }
    }

    /// <summary>Rejects duplicate names in every object and forces every string to decode.</summary>
    private static void CheckStrict(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    // Name is the unescaped name, so "a\u006cg" and "alg" collide as they should.
                    if (!names.Add(property.Name))
                        throw new JoseException(JoseError.DuplicateHeaderMember, $"The protected header repeats the member '{Printable(property.Name)}'.");
                    CheckStrict(property.Value);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) CheckStrict(item);
                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }

    /// <summary>Header names come from the sender: keep messages short and free of control characters.</summary>
    internal static string Printable(string name)
    {
        var shortened = name.Length > 32 ? name[..32] + "…" : name;
        return string.Create(shortened.Length, shortened, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++) span[i] = char.IsControl(source[i]) ? '?' : source[i];
        });
    }
}
