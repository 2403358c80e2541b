namespace R2ps.Store;

/// <summary>Argument checks shared by the stores: typed exceptions with clear messages, never a database error.</summary>
internal static class Guard
{
    public static string Identifier(string? value, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(value, parameterName);
        if (value.Length == 0)
        {
            throw new ArgumentException("The value must not be empty.", parameterName);
        }

        if (value.Length > StoreLimits.MaxIdentifierLength)
        {
            throw new ArgumentException($"The value is longer than {StoreLimits.MaxIdentifierLength} characters.", parameterName);
        }

        return value;
    }

    public static void Bytes(ReadOnlyMemory<byte> value, int maxLength, string parameterName)
    {
        if (value.IsEmpty)
        {
            throw new ArgumentException("The value must not be empty.", parameterName);
        }

        if (value.Length > maxLength)
        {
            throw new ArgumentException($"The value is longer than {maxLength} bytes.", parameterName);
        }
    }

    public static long ToUnixMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static DateTimeOffset FromUnixMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
