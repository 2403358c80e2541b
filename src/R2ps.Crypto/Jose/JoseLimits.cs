namespace R2ps.Crypto.Jose;

/// <summary>
/// Size limits applied before any decoding, so that oversized input costs nothing. The default is PROTOCOL.md 1.1's
/// 64 KiB request limit. A JWE that wraps a whole 64 KiB JWS (the BFF layer, PROTOCOL.md 2.2) is about 4/3 larger
/// after base64url, so that layer needs a larger limit, e.g. <c>new JoseLimits { MaxCompactLength = 96 * 1024 }</c>.
/// </summary>
public sealed record JoseLimits
{
    public const int DefaultMaxCompactLength = 64 * 1024;

    public static JoseLimits Default { get; } = new();

    private readonly int _maxCompactLength = DefaultMaxCompactLength;
    private readonly int _maxHeaderLength = 4 * 1024;

    /// <summary>Maximum characters of the whole compact serialization.</summary>
    public int MaxCompactLength
    {
        get => _maxCompactLength;
        init => _maxCompactLength = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "The limit must be positive.");
    }

    /// <summary>Maximum decoded bytes of the protected header (headers are small; this stops huge JSON early).</summary>
    public int MaxHeaderLength
    {
        get => _maxHeaderLength;
        init => _maxHeaderLength = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "The limit must be positive.");
    }
}
