namespace R2ps.Crypto.Opaque;

/// <summary>RFC 9807 sizes for the suite P256-SHA256 (OPRF P256-SHA256, HKDF/HMAC/SHA-256), in bytes.</summary>
public static class OpaqueSizes
{
    /// <summary>Noe: a serialized OPRF element (SEC1 compressed).</summary>
    public const int Element = 33;

    /// <summary>Npk: a serialized public key (compressed).</summary>
    public const int PublicKey = 33;

    /// <summary>Nsk: a serialized private key.</summary>
    public const int PrivateKey = 32;

    /// <summary>Nn: every nonce.</summary>
    public const int Nonce = 32;

    /// <summary>Nseed: key-derivation seeds (ephemeral key shares, client key pair).</summary>
    public const int Seed = 32;

    /// <summary>Nh = Nm = Nx = Nok: hash, MAC, KDF and OPRF-key-seed length.</summary>
    public const int Hash = 32;

    /// <summary>Envelope = envelope_nonce ‖ auth_tag.</summary>
    public const int Envelope = Nonce + Hash;

    /// <summary>masked_response = masked(server_public_key ‖ envelope).</summary>
    public const int MaskedResponse = PublicKey + Envelope;

    public const int RegistrationRequest = Element;

    public const int RegistrationResponse = Element + PublicKey;

    /// <summary>RegistrationRecord = client_public_key ‖ masking_key ‖ envelope.</summary>
    public const int RegistrationRecord = PublicKey + Hash + Envelope;

    /// <summary>CredentialResponse = evaluated_message ‖ masking_nonce ‖ masked_response.</summary>
    public const int CredentialResponse = Element + Nonce + MaskedResponse;

    /// <summary>KE1 = blinded_message ‖ client_nonce ‖ client_public_keyshare.</summary>
    public const int Ke1 = Element + Nonce + PublicKey;

    /// <summary>KE2 = credential_response ‖ server_nonce ‖ server_public_keyshare ‖ server_mac.</summary>
    public const int Ke2 = CredentialResponse + Nonce + PublicKey + Hash;

    /// <summary>KE3 = client_mac.</summary>
    public const int Ke3 = Hash;

    /// <summary>The OPRF seed the server keeps (Nh).</summary>
    public const int OprfSeed = Hash;
}
