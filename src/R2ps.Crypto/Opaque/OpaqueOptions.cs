namespace R2ps.Crypto.Opaque;

/// <summary>Settings shared by <see cref="OpaqueClient"/> and <see cref="OpaqueServer"/>.</summary>
public sealed class OpaqueOptions
{
    /// <summary>The context R2PS puts into the 3DH preamble (PROTOCOL.md §1.5).</summary>
    public static IReadOnlyList<byte> R2psContext { get; } = Array.AsReadOnly(System.Text.Encoding.ASCII.GetBytes("RPS-Ops"));

    /// <summary>The RFC 9807 §6.1 context bound into the preamble; both sides must agree. Defaults to "RPS-Ops".</summary>
    public IReadOnlyList<byte> Context { get; init; } = R2psContext;

    /// <summary>Where nonces, blinds and ephemeral seeds come from; tests inject fixed values.</summary>
    public IOpaqueRandom Random { get; init; } = SystemOpaqueRandom.Instance;

    /// <summary>
    /// The client's key-stretching function (RFC 9807 §4.3 Stretch); null = Identity, as R2PS (the wallet hardens the
    /// PIN before OPAQUE, see <c>R2ps.Crypto.Pin</c>) and the App. C vectors use. The server never calls it.
    /// </summary>
    public Func<byte[], byte[]>? Stretch { get; init; }

    /// <summary>Test hook: receives named intermediates (secrets!) so App. C values can be checked. Never set in production.</summary>
    internal IOpaqueTrace? Trace { get; init; }
}

/// <summary>Receives named protocol intermediates; only tests implement it.</summary>
internal interface IOpaqueTrace
{
    void Record(string name, ReadOnlySpan<byte> value);
}
