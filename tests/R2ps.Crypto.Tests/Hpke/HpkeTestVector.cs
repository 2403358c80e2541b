using System.Buffers.Binary;
using System.Text.Json;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Hpke;

namespace R2ps.Crypto.Tests.Hpke;

/// <summary>One encryption of an RFC 9180 test vector: sequence number, pt, aad, nonce, ct (hex).</summary>
internal sealed record HpkeTestEncryption(ulong Seq, string Pt, string Aad, string Nonce, string Ct);

/// <summary>One export of an RFC 9180 test vector: exporter_context (hex), L, exported_value (hex).</summary>
internal sealed record HpkeTestExport(string Context, int Length, string Value);

/// <summary>
/// An RFC 9180 test vector (field names as in the official test-vectors.json). Sender-key fields are null in base mode.
/// </summary>
internal sealed record HpkeTestVector(
    string Name,
    HpkeMode Mode,
    HpkeAead Aead,
    string Info,
    string IkmR,
    string? IkmS,
    string IkmE,
    string SkRm,
    string? SkSm,
    string SkEm,
    string PkRm,
    string? PkSm,
    string PkEm,
    string Enc,
    string SharedSecret,
    string KeyScheduleContext,
    string Secret,
    string Key,
    string BaseNonce,
    string ExporterSecret,
    IReadOnlyList<HpkeTestEncryption> Encryptions,
    IReadOnlyList<HpkeTestExport> Exports)
{
    public override string ToString() => Name;

    /// <summary>The vectors of a shared JSON file (the upstream objects unchanged), for the exhaustive check.</summary>
    public static IReadOnlyList<HpkeTestVector> LoadAll(string relativePath)
    {
        using var document = R2ps.Testing.SharedFiles.ReadJson(relativePath);
        var vectors = new List<HpkeTestVector>();
        foreach (var v in document.RootElement.GetProperty("vectors").EnumerateArray())
        {
            Assert.Equal(0x0010, v.GetProperty("kem_id").GetInt32());
            Assert.Equal(0x0001, v.GetProperty("kdf_id").GetInt32());
            var baseNonce = Text(v, "base_nonce");
            var encryptions = v.GetProperty("encryptions").EnumerateArray()
                .Select(e => new HpkeTestEncryption(
                    SequenceOf(baseNonce, Text(e, "nonce")), Text(e, "pt"), Text(e, "aad"), Text(e, "nonce"), Text(e, "ct")))
                .ToList();
            var exports = v.GetProperty("exports").EnumerateArray()
                .Select(e => new HpkeTestExport(Text(e, "exporter_context"), e.GetProperty("L").GetInt32(), Text(e, "exported_value")))
                .ToList();
            vectors.Add(new HpkeTestVector(
                Text(v, "name"),
                (HpkeMode)v.GetProperty("mode").GetInt32(),
                (HpkeAead)v.GetProperty("aead_id").GetInt32(),
                Text(v, "info"),
                Text(v, "ikmR"),
                OptionalText(v, "ikmS"),
                Text(v, "ikmE"),
                Text(v, "skRm"),
                OptionalText(v, "skSm"),
                Text(v, "skEm"),
                Text(v, "pkRm"),
                OptionalText(v, "pkSm"),
                Text(v, "pkEm"),
                Text(v, "enc"),
                Text(v, "shared_secret"),
                Text(v, "key_schedule_context"),
                Text(v, "secret"),
                Text(v, "key"),
                baseNonce,
                Text(v, "exporter_secret"),
                encryptions,
                exports));
        }
        return vectors;
    }

    private static string Text(JsonElement element, string name) => element.GetProperty(name).GetString()!;

    private static string? OptionalText(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.GetString() : null;

    /// <summary>
    /// The sequence number an encryption used: nonce XOR base_nonce (RFC 9180 §5.2). The trimmed file keeps only some
    /// encryptions, so their position in the list is not their sequence number.
    /// </summary>
    private static ulong SequenceOf(string baseNonceHex, string nonceHex)
    {
        var baseNonce = Hex.Decode(baseNonceHex);
        var nonce = Hex.Decode(nonceHex);
        for (var i = 0; i < nonce.Length; i++) nonce[i] ^= baseNonce[i];
        Assert.All(nonce[..^8], b => Assert.Equal(0, b));
        return BinaryPrimitives.ReadUInt64BigEndian(nonce.AsSpan(nonce.Length - 8));
    }
}
