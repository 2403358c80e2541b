namespace R2ps.Crypto.Hpke;

/// <summary>HPKE modes (RFC 9180 §5, Table 1). Only <see cref="Base"/> and <see cref="Auth"/> are implemented.</summary>
public enum HpkeMode : byte
{
    Base = 0x00,

    /// <summary>Not supported: the protocol never uses a pre-shared key; setting it up throws.</summary>
    Psk = 0x01,

    Auth = 0x02,

    /// <summary>Not supported: the protocol never uses a pre-shared key; setting it up throws.</summary>
    AuthPsk = 0x03,
}

/// <summary>KEM identifiers (RFC 9180 §7.1, Table 2) that this implementation supports.</summary>
public enum HpkeKem : ushort
{
    DhkemP256HkdfSha256 = 0x0010,
}

/// <summary>KDF identifiers (RFC 9180 §7.2, Table 3) that this implementation supports.</summary>
public enum HpkeKdf : ushort
{
    HkdfSha256 = 0x0001,
}

/// <summary>AEAD identifiers (RFC 9180 §7.3, Table 5) that this implementation supports.</summary>
public enum HpkeAead : ushort
{
    Aes128Gcm = 0x0001,
    Aes256Gcm = 0x0002,

    /// <summary>No AEAD: the context only exports secrets; Seal and Open throw.</summary>
    ExportOnly = 0xFFFF,
}
