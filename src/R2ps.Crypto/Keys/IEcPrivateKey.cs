using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Keys;

/// <summary>
/// An EC private key that may live outside this process (an HSM through PKCS#11) or in software. Protocol code
/// (JOSE, HPKE, OPAQUE) depends only on this, so the server key can be an HSM key and the wallet's a software key.
/// </summary>
public interface IEcPrivateKey
{
    EcPublicKey PublicKey { get; }

    /// <summary>ECDSA over a prehash; the signature as raw R‖S, each field-size bytes (the JWS form).</summary>
    byte[] SignHash(ReadOnlySpan<byte> hash);

    /// <summary>ECDH: the x-coordinate of d·peer, field-size bytes (SEC1 §3.3.1, the JOSE and HPKE "Z").</summary>
    byte[] DeriveSharedSecret(EcPublicKey peer);

    /// <summary>
    /// ECDH returning the whole point d·peer, for protocols that hash the full element (OPAQUE-3DH serializes it
    /// compressed). An HSM that returns only x recovers y, e.g. from a second derive.
    /// </summary>
    BcPoint DeriveSharedPoint(EcPublicKey peer);
}
