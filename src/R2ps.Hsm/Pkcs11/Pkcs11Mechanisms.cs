using System.Security.Cryptography;

namespace R2ps.Hsm.Pkcs11;

/// <summary>
/// The mechanisms the service uses, over one session: CKM_ECDSA, CKM_ECDH1_DERIVE (CKD_NULL) and CKM_AES_GCM. Their
/// parameter structures point into pinned managed memory for the duration of the call only.
/// </summary>
internal static unsafe class Pkcs11Mechanisms
{
    /// <summary>CKM_ECDSA over a prehash: the module returns raw R‖S, 2 × field-size bytes.</summary>
    public static byte[] SignEcdsa(Pkcs11Session session, nuint privateKey, ReadOnlySpan<byte> hash, int fieldSize)
    {
        var mechanism = new CkMechanism { Mechanism = Ck.CKM_ECDSA };
        var signature = new byte[2 * fieldSize];
        var length = session.Module.Sign(session.Id, &mechanism, privateKey, hash, signature);
        if (length != signature.Length) throw new Pkcs11Exception($"C_Sign returned {length} bytes; {signature.Length} expected for CKM_ECDSA.");
        return signature;
    }

    /// <summary>
    /// CKM_ECDH1_DERIVE with CKD_NULL into a session-only generic secret of field size, read and destroyed at once:
    /// the x-coordinate of d·peer. <paramref name="peerUncompressed"/> is the raw SEC1 point 04‖x‖y.
    /// </summary>
    public static byte[] DeriveEcdh(Pkcs11Session session, nuint privateKey, ReadOnlySpan<byte> peerUncompressed, int fieldSize)
    {
        using var template = new AttributeTemplate()
            .ULong(Ck.CKA_CLASS, Ck.CKO_SECRET_KEY)
            .ULong(Ck.CKA_KEY_TYPE, Ck.CKK_GENERIC_SECRET)
            .Bool(Ck.CKA_TOKEN, false)
            .Bool(Ck.CKA_SENSITIVE, false)
            .Bool(Ck.CKA_EXTRACTABLE, true)
            .ULong(Ck.CKA_VALUE_LEN, (nuint)fieldSize);
        nuint secretKey;
        fixed (byte* peer = peerUncompressed)
        {
            var parameters = new CkEcdh1DeriveParams
            {
                Kdf = Ck.CKD_NULL,
                PublicData = (nint)peer,
                PublicDataLength = (nuint)peerUncompressed.Length,
            };
            var mechanism = new CkMechanism { Mechanism = Ck.CKM_ECDH1_DERIVE, Parameter = (nint)(&parameters), ParameterLength = (nuint)sizeof(CkEcdh1DeriveParams) };
            secretKey = session.Module.DeriveKey(session.Id, &mechanism, privateKey, template);
        }
        byte[]? value = null;
        try
        {
            value = session.Module.GetAttributes(session.Id, secretKey, [Ck.CKA_VALUE])[0];
            if (value is null || value.Length != fieldSize) throw new Pkcs11Exception("C_DeriveKey produced no readable shared secret of field size.");
            var result = value;
            value = null;
            return result;
        }
        finally
        {
            if (value is not null) CryptographicOperations.ZeroMemory(value);
            session.Module.DestroyObject(session.Id, secretKey);
        }
    }

    public const int GcmNonceSize = 12;
    public const int GcmTagSize = 16;

    /// <summary>CKM_AES_GCM encryption: ciphertext‖tag (128-bit tag).</summary>
    public static byte[] EncryptAesGcm(Pkcs11Session session, nuint key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext)
    {
        var output = new byte[plaintext.Length + GcmTagSize];
        int length;
        fixed (byte* iv = nonce)
        fixed (byte* a = aad)
        {
            var parameters = GcmParameters(iv, nonce.Length, a, aad.Length);
            var mechanism = new CkMechanism { Mechanism = Ck.CKM_AES_GCM, Parameter = (nint)(&parameters), ParameterLength = (nuint)sizeof(CkGcmParams) };
            length = session.Module.Encrypt(session.Id, &mechanism, key, plaintext, output);
        }
        if (length != output.Length) throw new Pkcs11Exception($"C_Encrypt returned {length} bytes; {output.Length} expected for CKM_AES_GCM.");
        return output;
    }

    /// <summary>CKM_AES_GCM decryption of ciphertext‖tag; a tag mismatch surfaces as the module's CK_RV.</summary>
    public static byte[] DecryptAesGcm(Pkcs11Session session, nuint key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertextAndTag)
    {
        // Some modules want room for ciphertext+tag before they know the tag is stripped: give it, then trim.
        var output = new byte[ciphertextAndTag.Length];
        int length;
        fixed (byte* iv = nonce)
        fixed (byte* a = aad)
        {
            var parameters = GcmParameters(iv, nonce.Length, a, aad.Length);
            var mechanism = new CkMechanism { Mechanism = Ck.CKM_AES_GCM, Parameter = (nint)(&parameters), ParameterLength = (nuint)sizeof(CkGcmParams) };
            try
            {
                length = session.Module.Decrypt(session.Id, &mechanism, key, ciphertextAndTag, output);
            }
            catch
            {
                CryptographicOperations.ZeroMemory(output);
                throw;
            }
        }
        if (length == output.Length) return output;
        var plaintext = output[..length];
        CryptographicOperations.ZeroMemory(output);
        return plaintext;
    }

    private static CkGcmParams GcmParameters(byte* iv, int ivLength, byte* aad, int aadLength) => new()
    {
        Iv = (nint)iv,
        IvLength = (nuint)ivLength,
        IvBits = (nuint)ivLength * 8,
        Aad = (nint)aad,
        AadLength = (nuint)aadLength,
        TagBits = GcmTagSize * 8,
    };
}
