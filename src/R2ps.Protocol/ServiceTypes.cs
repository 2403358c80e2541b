namespace R2ps.Protocol;

/// <summary>The R2PS service types of PROTOCOL.md 1.4.</summary>
public static class ServiceTypes
{
    public const string PinRegistration = "pin_registration";
    public const string Authenticate = "authenticate";
    public const string PinChange = "pin_change";
    public const string HsmEcKeygen = "hsm_ec_keygen";
    public const string HsmListKeys = "hsm_list_keys";
    public const string HsmEcdsa = "hsm_ecdsa";
    public const string HsmEcdh = "hsm_ecdh";
    public const string HsmEcDeleteKey = "hsm_ec_delete_key";
    public const string SessionEnd = "session_end";
    public const string SessionContextEnd = "session_context_end";

    // The secret vault (PROTOCOL.md 4): user types.
    public const string SecretStore = "secret_store";
    public const string SecretRetrieve = "secret_retrieve";
    public const string SecretList = "secret_list";
    public const string SecretDelete = "secret_delete";
    public const string AuditLog = "audit_log";

    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        PinRegistration, Authenticate, PinChange, HsmEcKeygen, HsmListKeys, HsmEcdsa, HsmEcdh, HsmEcDeleteKey, SessionEnd, SessionContextEnd,
        SecretStore, SecretRetrieve, SecretList, SecretDelete, AuditLog,
    };

    public static bool IsKnown(string? type) => type is not null && All.Contains(type);

    /// <summary>
    /// PROTOCOL.md 1.3: device types are encrypted with ECDH-ES to the server key (responses to the device key); user types
    /// with <c>dir</c> under the OPAQUE session key. <c>session_end</c> is a user type only when it names a session.
    /// </summary>
    public static EncryptionMode ModeOf(string type, bool hasPakeSessionId) => type switch
    {
        Authenticate or PinRegistration or SessionContextEnd => EncryptionMode.Device,
        SessionEnd => hasPakeSessionId ? EncryptionMode.User : EncryptionMode.Device,
        _ => EncryptionMode.User,
    };
}

/// <summary>How the envelope's <c>data</c> is encrypted (PROTOCOL.md 1.3).</summary>
public enum EncryptionMode
{
    /// <summary>JWE ECDH-ES + A256GCM between the device key and the server key.</summary>
    Device,

    /// <summary>JWE dir + A256GCM under the OPAQUE session key of <c>pake_session_id</c>.</summary>
    User,
}
