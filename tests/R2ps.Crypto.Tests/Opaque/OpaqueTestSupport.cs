using R2ps.Crypto.Encoding;
using R2ps.Crypto.Opaque;

namespace R2ps.Crypto.Tests.Opaque;

/// <summary>Replays fixed values per purpose, as the RFC 9807 App. C vectors give them (each may be drawn once).</summary>
internal sealed class FixedOpaqueRandom : IOpaqueRandom
{
    private readonly Dictionary<OpaqueRandomPurpose, byte[]> _values = [];

    public FixedOpaqueRandom With(OpaqueRandomPurpose purpose, string hex)
    {
        _values[purpose] = Hex.Decode(hex);
        return this;
    }

    public void Fill(OpaqueRandomPurpose purpose, Span<byte> destination)
    {
        if (!_values.Remove(purpose, out var value))
            throw new InvalidOperationException($"No fixed value (left) for {purpose}.");
        Assert.Equal(destination.Length, value.Length);
        value.CopyTo(destination);
    }
}

/// <summary>Collects the intermediates the implementation reports, as lowercase hex.</summary>
internal sealed class RecordingTrace : IOpaqueTrace
{
    public Dictionary<string, string> Values { get; } = [];

    public void Record(string name, ReadOnlySpan<byte> value) => Values[name] = Hex.Encode(value);
}
