using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace R2ps.Tools.Fuzzing;

/// <summary>
/// FsCheck generators that mutate a valid input: random bytes alone are refused at the first parse and never reach the
/// deep checks, so most generated inputs here stay close to something the service accepts.
/// </summary>
public static class Mutations
{
    static readonly string[] Unicode = ["é", "\u0000", "\uFFFD", "\u202E", "😀", "\uD800", "𝔘𝔫𝔦", "\u00A0", "ﬀ", "\r\n"];

    /// <summary>A byte-level change: bit flip, truncation, insertion, deletion, duplication of a range.</summary>
    public static Gen<byte[]> Bytes(byte[] seed) =>
        Gen.OneOf(
            Gen.Choose(0, Math.Max(0, seed.Length * 8 - 1)).Select(bit => Flip(seed, bit)),
            Gen.Choose(0, seed.Length).Select(length => seed[..length]),
            Gen.Choose(0, seed.Length).SelectMany(at => RandomBytes(1, 16).Select(extra => (byte[])[.. seed[..at], .. extra, .. seed[at..]])),
            Gen.Choose(0, seed.Length).SelectMany(at => Gen.Choose(0, seed.Length - at).Select(n => (byte[])[.. seed[..at], .. seed[(at + n)..]])),
            Gen.Choose(0, seed.Length).SelectMany(at => Gen.Choose(0, Math.Min(64, seed.Length - at)).Select(n => (byte[])[.. seed[..(at + n)], .. seed[at..]])));

    public static Gen<byte[]> RandomBytes(int min, int max) =>
        Gen.Choose(min, max).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n));

    /// <summary>A text-level change of <paramref name="seed"/> (its UTF-8 bytes mutated, read back leniently).</summary>
    public static Gen<string> Text(string seed) => Bytes(Encoding.UTF8.GetBytes(seed)).Select(b => Encoding.UTF8.GetString(b));

    /// <summary>A value of any JSON type, including the awkward ones: huge and non-integral numbers, unicode, deep nesting.</summary>
    public static Gen<JsonNode?> Value() =>
        Gen.OneOf(
            Node(null),
            Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b)),
            Gen.Elements("0", "-1", "1e400", "-1e400", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
                "1.5", "-0", "1E-400", "123456789012345678901234567890").Select(n => JsonNode.Parse(n)),
            ArbMap.Default.GeneratorFor<long>().Select(n => (JsonNode?)JsonValue.Create(n)),
            ArbMap.Default.GeneratorFor<string>().Select(s => (JsonNode?)JsonValue.Create(s ?? string.Empty)),
            Gen.Elements(Unicode).SelectMany(u => Gen.Choose(1, 40).Select(n => (JsonNode?)JsonValue.Create(string.Concat(Enumerable.Repeat(u, n))))),
            Gen.Elements("", " ", "hsm", "1.0", "device", "user", "authenticate", new string('a', 64), new string('0', 64), new string('x', 70_000))
                .Select(s => (JsonNode?)JsonValue.Create(s)),
            Gen.Choose(1, 200).Select(depth => (JsonNode?)Nested(depth, array: true)),
            Gen.Choose(1, 200).Select(depth => (JsonNode?)Nested(depth, array: false)),
            Node(new JsonArray()),
            Node(new JsonObject()));

    /// <summary>
    /// One structural change of the JSON object <paramref name="seed"/>: a member removed, duplicated, renamed, added, or
    /// its value replaced by one of another type (<see cref="Value"/>).
    /// </summary>
    public static Gen<string> Json(string seed)
    {
        if (!IsObject(seed)) return Text(seed);
        var names = (JsonNode.Parse(seed) as JsonObject ?? throw new ArgumentException("Not a JSON object.", nameof(seed))).Select(m => m.Key).ToArray();
        if (names.Length == 0) return Value().Select(v => new JsonObject { ["x"] = v }.ToJsonString());
        var name = Gen.Elements(names);
        return Gen.OneOf(
            name.Select(n => Edit(seed, o => o.Remove(n))),
            name.SelectMany(n => Value().Select(v => Edit(seed, o => o[n] = v))),
            name.Select(n => Duplicate(seed, n)),
            name.Select(n => Edit(seed, o => { var v = o[n]; o.Remove(n); o[n.ToUpperInvariant()] = v; })),
            ArbMap.Default.GeneratorFor<string>().SelectMany(n => Value().Select(v => Edit(seed, o => o[n ?? string.Empty] = v))),
            Value().Select(v => v?.ToJsonString() ?? "null"),
            Text(seed));
    }

    /// <summary>One or two <see cref="Json"/> changes in a row.</summary>
    public static Gen<string> JsonOnceOrTwice(string seed) =>
        Gen.OneOf(Json(seed), Json(seed).SelectMany(once => IsObject(once) ? Json(once) : Gen.Constant(once)));

    /// <summary>
    /// A change of a compact JOSE serialisation: segments swapped, dropped, duplicated or taken from
    /// <paramref name="other"/>; one segment's bytes mutated; the protected header's JSON mutated; stray characters.
    /// </summary>
    public static Gen<string> Compact(string seed, string other)
    {
        var segments = seed.Split('.');
        var foreign = other.Split('.');
        var index = Gen.Choose(0, segments.Length - 1);
        return Gen.OneOf(
            index.SelectMany(i => index.Select(j => Join(Swap(segments, i, j)))),
            index.Select(i => Join([.. segments[..i], .. segments[(i + 1)..]])),
            index.Select(i => Join([.. segments[..(i + 1)], .. segments[i..]])),
            index.SelectMany(i => Gen.Elements(foreign).Select(f => Join(Replace(segments, i, f)))),
            index.SelectMany(i => Bytes(Decode(segments[i])).Select(b => Join(Replace(segments, i, Encode(b))))),
            IsObject(Encoding.UTF8.GetString(Decode(segments[0])))
                ? JsonOnceOrTwice(Encoding.UTF8.GetString(Decode(segments[0]))).Select(h => Join(Replace(segments, 0, Encode(Encoding.UTF8.GetBytes(h)))))
                : Text(seed),
            Gen.Elements("=", "+", "/", " ", "..", "\u00e9", "%00").SelectMany(c => index.Select(i => Join(Replace(segments, i, segments[i] + c)))),
            Text(seed));
    }

    static Gen<JsonNode?> Node(JsonNode? node) => Gen.Constant(node);

    static byte[] Flip(byte[] seed, int bit)
    {
        if (seed.Length == 0) return [0];
        var copy = (byte[])seed.Clone();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    static JsonNode Nested(int depth, bool array)
    {
        JsonNode node = JsonValue.Create(1);
        for (var i = 0; i < depth; i++) node = array ? new JsonArray(node) : new JsonObject { ["a"] = node };
        return node;
    }

    static string Edit(string seed, Action<JsonObject> change)
    {
        var json = (JsonObject)JsonNode.Parse(seed)!;
        change(json);
        return json.ToJsonString();
    }

    // JsonObject refuses duplicate names, so a duplicate is spliced into the text: the same name again, another value.
    static string Duplicate(string seed, string name)
    {
        var json = (JsonObject)JsonNode.Parse(seed)!;
        var value = json[name]?.ToJsonString() ?? "null";
        var text = json.ToJsonString();
        return "{" + System.Text.Json.JsonSerializer.Serialize(name) + ":" + value + "," + text[1..];
    }

    static bool IsObject(string text)
    {
        try
        {
            // Count makes JsonObject read its members, which throws on a duplicate name (a mutation makes those).
            return JsonNode.Parse(text) is JsonObject o && o.Count >= 0;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException)
        {
            return false;
        }
    }

    static string[] Swap(string[] segments, int i, int j)
    {
        var copy = (string[])segments.Clone();
        (copy[i], copy[j]) = (copy[j], copy[i]);
        return copy;
    }

    static string[] Replace(string[] segments, int i, string value)
    {
        var copy = (string[])segments.Clone();
        copy[i] = value;
        return copy;
    }

    static string Join(string[] segments) => string.Join('.', segments);

    static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static byte[] Decode(string segment)
    {
        var s = segment.Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
        try
        {
            return Convert.FromBase64String(s);
        }
        catch (FormatException)
        {
            return Encoding.UTF8.GetBytes(segment);
        }
    }
}
