namespace R2ps.Hsm.Pkcs11;

/// <summary>
/// The PKCS#11 v2.40 constants this binding uses. CK_ULONG is <see cref="nuint"/>: 8 bytes on LP64 Unix (Linux x64),
/// the only platform the binding targets (Windows' CK_ULONG is 4 bytes; see <see cref="Pkcs11Module"/>).
/// </summary>
internal static class Ck
{
    public const byte True = 1;
    public const byte False = 0;
    public static readonly nuint UnavailableInformation = nuint.MaxValue;

    // Flags.
    public const nuint CKF_OS_LOCKING_OK = 0x2;
    public const nuint CKF_RW_SESSION = 0x2;
    public const nuint CKF_SERIAL_SESSION = 0x4;
    public const nuint CKF_USER_PIN_INITIALIZED = 0x8;
    public const nuint CKF_TOKEN_INITIALIZED = 0x400;
    public const nuint CKF_USER_PIN_LOCKED = 0x40000;

    // Users.
    public const nuint CKU_SO = 0;
    public const nuint CKU_USER = 1;

    // Object classes and key types.
    public const nuint CKO_PUBLIC_KEY = 2;
    public const nuint CKO_PRIVATE_KEY = 3;
    public const nuint CKO_SECRET_KEY = 4;
    public const nuint CKK_EC = 3;
    public const nuint CKK_GENERIC_SECRET = 0x10;
    public const nuint CKK_AES = 0x1f;

    // Attributes.
    public const nuint CKA_CLASS = 0x0;
    public const nuint CKA_TOKEN = 0x1;
    public const nuint CKA_PRIVATE = 0x2;
    public const nuint CKA_LABEL = 0x3;
    public const nuint CKA_VALUE = 0x11;
    public const nuint CKA_KEY_TYPE = 0x100;
    public const nuint CKA_ID = 0x102;
    public const nuint CKA_SENSITIVE = 0x103;
    public const nuint CKA_ENCRYPT = 0x104;
    public const nuint CKA_DECRYPT = 0x105;
    public const nuint CKA_SIGN = 0x108;
    public const nuint CKA_VERIFY = 0x10A;
    public const nuint CKA_DERIVE = 0x10C;
    public const nuint CKA_VALUE_LEN = 0x161;
    public const nuint CKA_EXTRACTABLE = 0x162;
    public const nuint CKA_EC_PARAMS = 0x180;
    public const nuint CKA_EC_POINT = 0x181;

    // Mechanisms.
    public const nuint CKM_EC_KEY_PAIR_GEN = 0x1040;
    public const nuint CKM_ECDSA = 0x1041;
    public const nuint CKM_ECDH1_DERIVE = 0x1050;
    public const nuint CKM_AES_KEY_GEN = 0x1080;
    public const nuint CKM_AES_GCM = 0x1087;

    // Key derivation functions.
    public const nuint CKD_NULL = 0x1;
}
