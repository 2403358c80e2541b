using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace R2ps.Hsm.Pkcs11;

/// <summary>
/// What the key services do over one Pkcs11Interop session: CKM_ECDSA, CKM_ECDH1_DERIVE (CKD_NULL), CKM_AES_GCM, and
/// bounded searches and attribute reads. The checks on what the module hands back (output lengths, readable values)
/// are ours; the marshalling is Pkcs11Interop's.
/// Every mechanism is disposed where it is made (<c>using</c>): a Pkcs11Interop mechanism frees the unmanaged copy of its
/// parameters in its finalizer, and one left to the GC becomes unreachable as soon as the session has read its struct,
/// so the finalizer could free CK_GCM_PARAMS or CK_ECDH1_DERIVE_PARAMS while the module was still reading them (SIGSEGV
/// in C_DecryptInit, CKR_MECHANISM_PARAM_INVALID from C_DeriveKey; <c>MechanismLifetimeTests</c>).
/// </summary>
internal static class Pkcs11Mechanisms
{
    public const int GcmNonceSize = 12;
    public const int GcmTagSize = 16;

    /// <summary>CKM_ECDSA over a prehash: the module returns raw R‖S, 2 × field-size bytes; any other length is refused.</summary>
    public static byte[] SignEcdsa(ISession session, IObjectHandle privateKey, byte[] hash, int fieldSize)
    {
        using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_ECDSA);
        var signature = session.Sign(mechanism, privateKey, hash);
        if (signature.Length != 2 * fieldSize)
            throw new HsmPkcs11Exception($"C_Sign returned {signature.Length} bytes; {2 * fieldSize} expected for CKM_ECDSA.");
        return signature;
    }

    /// <summary>
    /// CKM_ECDH1_DERIVE with CKD_NULL into a session-only generic secret of field size, read and destroyed at once:
    /// the x-coordinate of d·peer. <paramref name="peerUncompressed"/> is the raw SEC1 point 04‖x‖y.
    /// </summary>
    public static byte[] DeriveEcdh(ISession session, IObjectHandle privateKey, byte[] peerUncompressed, int fieldSize)
    {
        var factory = session.Factories.ObjectAttributeFactory;
        var template = new List<IObjectAttribute>
        {
            factory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            factory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_GENERIC_SECRET),
            factory.Create(CKA.CKA_TOKEN, false),
            factory.Create(CKA.CKA_SENSITIVE, false),
            factory.Create(CKA.CKA_EXTRACTABLE, true),
            factory.Create(CKA.CKA_VALUE_LEN, (ulong)fieldSize),
        };
        IObjectHandle secretKey;
        using (var parameters = session.Factories.MechanismParamsFactory.CreateCkEcdh1DeriveParams((ulong)CKD.CKD_NULL, null, peerUncompressed))
        {
            using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_ECDH1_DERIVE, parameters);
            try
            {
                secretKey = session.DeriveKey(mechanism, privateKey, template);
            }
            finally
            {
                DisposeAll(template);
            }
        }
        try
        {
            return ReadSecret(session, secretKey, fieldSize);
        }
        finally
        {
            session.DestroyObject(secretKey);
        }
    }

    /// <summary>CKA_VALUE of a derived secret, exactly <paramref name="length"/> bytes; Pkcs11Interop's unmanaged copy is wiped.</summary>
    private static byte[] ReadSecret(ISession session, IObjectHandle secretKey, int length)
    {
        var attributes = session.GetAttributeValue(secretKey, [CKA.CKA_VALUE]);
        try
        {
            var attribute = attributes[0];
            if (attribute.CannotBeRead) throw new HsmPkcs11Exception("C_DeriveKey produced no readable shared secret.");
            var value = attribute.GetValueAsByteArray() ?? [];
            if (value.Length == length) return value;
            CryptographicOperations.ZeroMemory(value);
            throw new HsmPkcs11Exception($"C_DeriveKey produced a shared secret of {value.Length} bytes; {length} expected.");
        }
        finally
        {
            foreach (var attribute in attributes) WipeAndDispose(attribute);
        }
    }

    /// <summary>CKM_AES_GCM encryption: ciphertext‖tag (128-bit tag); any other length is refused.</summary>
    public static byte[] EncryptAesGcm(ISession session, IObjectHandle key, byte[] nonce, byte[] aad, byte[] plaintext)
    {
        using var parameters = session.Factories.MechanismParamsFactory.CreateCkGcmParams(nonce, (ulong)nonce.Length * 8, aad, GcmTagSize * 8);
        using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
        var output = session.Encrypt(mechanism, key, plaintext);
        if (output.Length != plaintext.Length + GcmTagSize)
            throw new HsmPkcs11Exception($"C_Encrypt returned {output.Length} bytes; {plaintext.Length + GcmTagSize} expected for CKM_AES_GCM.");
        return output;
    }

    /// <summary>CKM_AES_GCM decryption of ciphertext‖tag; a tag mismatch surfaces as the module's CK_RV.</summary>
    public static byte[] DecryptAesGcm(ISession session, IObjectHandle key, byte[] nonce, byte[] aad, byte[] ciphertextAndTag)
    {
        using var parameters = session.Factories.MechanismParamsFactory.CreateCkGcmParams(nonce, (ulong)nonce.Length * 8, aad, GcmTagSize * 8);
        using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
        var plaintext = session.Decrypt(mechanism, key, ciphertextAndTag);
        if (plaintext.Length == ciphertextAndTag.Length - GcmTagSize) return plaintext;
        CryptographicOperations.ZeroMemory(plaintext);
        throw new HsmPkcs11Exception($"C_Decrypt returned {plaintext.Length} bytes; {ciphertextAndTag.Length - GcmTagSize} expected for CKM_AES_GCM.");
    }

    /// <summary>At most <paramref name="max"/> objects matching <paramref name="template"/> (which is disposed).</summary>
    public static List<IObjectHandle> FindObjects(ISession session, List<IObjectAttribute> template, int max)
    {
        try
        {
            session.FindObjectsInit(template);
            var found = new List<IObjectHandle>();
            try
            {
                while (found.Count < max)
                {
                    var batch = session.FindObjects(Math.Min(64, max - found.Count));
                    if (batch.Count == 0) break;
                    found.AddRange(batch.Take(max - found.Count));
                }
            }
            finally
            {
                session.FindObjectsFinal();
            }
            return found;
        }
        finally
        {
            DisposeAll(template);
        }
    }

    /// <summary>
    /// Several attributes as bytes: null for one that is absent, sensitive or unknown to the object (callers that need
    /// it turn null into their own typed error).
    /// </summary>
    public static byte[]?[] GetAttributes(ISession session, IObjectHandle handle, List<CKA> types)
    {
        var attributes = session.GetAttributeValue(handle, types);
        try
        {
            return [.. attributes.Select(a => a.CannotBeRead ? null : a.GetValueAsByteArray() ?? [])];
        }
        finally
        {
            DisposeAll(attributes);
        }
    }

    /// <summary>
    /// Whether the object behind <paramref name="handle"/> has exactly these attribute values. False (never an error)
    /// for a handle the module does not know any more or an attribute it will not show: a handle from earlier may name
    /// another object now. Other failures (session, token) throw.
    /// </summary>
    public static bool HasAttributes(ISession session, IObjectHandle handle, List<CKA> types, IReadOnlyList<byte[]> expected)
    {
        byte[]?[] values;
        try
        {
            values = GetAttributes(session, handle, types);
        }
        catch (Net.Pkcs11Interop.Common.Pkcs11Exception e) when (e.RV is CKR.CKR_OBJECT_HANDLE_INVALID or CKR.CKR_KEY_HANDLE_INVALID)
        {
            return false;
        }
        for (var i = 0; i < values.Length; i++)
            if (values[i] is not { } value || !value.AsSpan().SequenceEqual(expected[i])) return false;
        return true;
    }

    public static void DisposeAll(IEnumerable<IObjectAttribute> attributes)
    {
        foreach (var attribute in attributes) attribute.Dispose();
    }

    /// <summary>Zeroes the unmanaged copy of an attribute's value (a key or derived secret) before it is freed.</summary>
    public static void WipeAndDispose(IObjectAttribute attribute)
    {
        var (value, length) = attribute.ToMarshalableStructure() switch
        {
            Net.Pkcs11Interop.LowLevelAPI81.CK_ATTRIBUTE a => (a.value, (long)(ulong)a.valueLen),
            Net.Pkcs11Interop.LowLevelAPI80.CK_ATTRIBUTE a => (a.value, (long)(ulong)a.valueLen),
            _ => (0, 0),
        };
        if (value != 0 && length is > 0 and <= int.MaxValue) Marshal.Copy(new byte[length], 0, value, (int)length);
        attribute.Dispose();
    }

    public static void WipeAndDisposeAll(IEnumerable<IObjectAttribute> attributes)
    {
        foreach (var attribute in attributes) WipeAndDispose(attribute);
    }
}
