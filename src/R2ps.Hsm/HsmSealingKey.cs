using System.Security.Cryptography;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm;

/// <summary>
/// An AES-256 key inside the HSM (never extractable) that seals small secrets, e.g. OPAQUE session keys and the
/// pending login state, with AES-GCM: <c>Seal</c> → nonce (12) ‖ ciphertext ‖ tag (16). Nonces are random; at
/// 2^32 seals per key the collision probability stays below 2^-32 (NIST SP 800-38D §8.3), far beyond this use.
/// </summary>
public sealed class HsmSealingKey
{
    /// <summary>Largest plaintext accepted: this key seals small secrets, not documents.</summary>
    public const int MaxPlaintextLength = 64 * 1024;

    public const int Overhead = Pkcs11Mechanisms.GcmNonceSize + Pkcs11Mechanisms.GcmTagSize;

    private readonly HsmConnection _connection;
    private readonly nuint _handle;

    internal HsmSealingKey(HsmConnection connection, nuint handle, string label)
    {
        _connection = connection;
        _handle = handle;
        Label = label;
    }

    public string Label { get; }

    public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        if (plaintext.Length > MaxPlaintextLength) throw new ArgumentException($"At most {MaxPlaintextLength} bytes can be sealed.", nameof(plaintext));
        if (associatedData.Length > MaxPlaintextLength) throw new ArgumentException($"At most {MaxPlaintextLength} bytes of associated data.", nameof(associatedData));
        var nonce = RandomNumberGenerator.GetBytes(Pkcs11Mechanisms.GcmNonceSize);
        var input = plaintext.ToArray();
        var aad = associatedData.ToArray();
        try
        {
            var ciphertext = _connection.Run(session => Pkcs11Mechanisms.EncryptAesGcm(session, _handle, nonce, aad, input));
            return [.. nonce, .. ciphertext];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    /// <summary>The plaintext; <see cref="CryptographicException"/> if the sealed data or the associated data were altered.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData)
    {
        if (sealedData.Length < Overhead || sealedData.Length > MaxPlaintextLength + Overhead)
            throw new CryptographicException("Sealed data has an impossible length.");
        var nonce = sealedData[..Pkcs11Mechanisms.GcmNonceSize].ToArray();
        var ciphertext = sealedData[Pkcs11Mechanisms.GcmNonceSize..].ToArray();
        var aad = associatedData.ToArray();
        try
        {
            return _connection.Run(session => Pkcs11Mechanisms.DecryptAesGcm(session, _handle, nonce, aad, ciphertext));
        }
        // A tag mismatch is reported by C_Decrypt (not C_DecryptInit) with a code each module picks: SoftHSM2 2.6
        // says CKR_GENERAL_ERROR, others CKR_ENCRYPTED_DATA_INVALID or CKR_SIGNATURE_INVALID.
        catch (Pkcs11Exception e) when (e.Function == "C_Decrypt" && e.ReturnValue is Pkcs11ReturnValues.CKR_ENCRYPTED_DATA_INVALID
                                            or Pkcs11ReturnValues.CKR_ENCRYPTED_DATA_LEN_RANGE or Pkcs11ReturnValues.CKR_DATA_INVALID
                                            or Pkcs11ReturnValues.CKR_SIGNATURE_INVALID or Pkcs11ReturnValues.CKR_GENERAL_ERROR
                                            or Pkcs11ReturnValues.CKR_FUNCTION_FAILED)
        {
            throw new CryptographicException("Sealed data did not authenticate.", e);
        }
    }
}
