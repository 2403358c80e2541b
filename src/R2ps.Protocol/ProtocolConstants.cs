namespace R2ps.Protocol;

/// <summary>Fixed values of the wire profile.</summary>
public static class ProtocolConstants
{
    /// <summary>The only accepted <c>ver</c>.</summary>
    public const string Version = "1.0";

    public const string EncDevice = "device";
    public const string EncUser = "user";

    /// <summary>The exact protected header of request and response JWS.</summary>
    public const string JwsProtectedHeader = "{\"typ\":\"JOSE\",\"alg\":\"ES256\"}";

    /// <summary>Default OPAQUE context (PROTOCOL.md 1.5); must stay stable across releases.</summary>
    public const string OpaqueContext = "RPS-Ops";

    /// <summary>Default OPAQUE server identity (PROTOCOL.md 1.5).</summary>
    public const string DefaultServerIdentity = "r2ps.local";

    /// <summary>The body the close operations answer (PROTOCOL.md 1.4).</summary>
    public const string Ok = "OK";

    /// <summary>Envelope size limit of PROTOCOL.md 1.1 (the default of the configurable limit).</summary>
    public const int DefaultMaxEnvelopeBytes = 64 * 1024;

    public const string ContentTypeJose = "application/jose";

    /// <summary>The BFF device-session HPKE info and exporter label (PROTOCOL.md 2.1).</summary>
    public const string DeviceSessionInfo = "R2PS-BFF-SESSION-v1";
    public const string DeviceSessionExportLabel = "R2PS-BFF-SESSION-KEY";
}
