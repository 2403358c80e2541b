using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
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
    private readonly IObjectHandle _handle;

    internal HsmSealingKey(HsmConnection connection, IObjectHandle handle, string label)
    {
        _connection = connection;
        _handle = handle;
        Label = label;
    }

    public string Label { get; }

    /// <summary>The object this key seals with (a session-object copy, or the token object itself).</summary>
    internal IObjectHandle Handle => _handle;

    public async Task<byte[]> SealAsync(ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> associatedData, CancellationToken cancellationToken = default)
    {
        if (plaintext.Length > MaxPlaintextLength) throw new ArgumentException($"At most {MaxPlaintextLength} bytes can be sealed.", nameof(plaintext));
        if (associatedData.Length > MaxPlaintextLength) throw new ArgumentException($"At most {MaxPlaintextLength} bytes of associated data.", nameof(associatedData));
        var nonce = RandomNumberGenerator.GetBytes(Pkcs11Mechanisms.GcmNonceSize);
        var input = plaintext.ToArray();
        var aad = associatedData.ToArray();
        try
        {
            var ciphertext = await _connection.RunAsync(session => Pkcs11Mechanisms.EncryptAesGcm(session, _handle, nonce, aad, input), cancellationToken).ConfigureAwait(false);
            return [.. nonce, .. ciphertext];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    /// <summary>The plaintext; <see cref="CryptographicException"/> if the sealed data or the associated data were altered.</summary>
    public async Task<byte[]> OpenAsync(ReadOnlyMemory<byte> sealedData, ReadOnlyMemory<byte> associatedData, CancellationToken cancellationToken = default)
    {
        if (sealedData.Length < Overhead || sealedData.Length > MaxPlaintextLength + Overhead)
            throw new CryptographicException("Sealed data has an impossible length.");
        var nonce = sealedData[..Pkcs11Mechanisms.GcmNonceSize].ToArray();
        var ciphertext = sealedData[Pkcs11Mechanisms.GcmNonceSize..].ToArray();
        var aad = associatedData.ToArray();
        try
        {
            return await _connection.RunAsync(session => Pkcs11Mechanisms.DecryptAesGcm(session, _handle, nonce, aad, ciphertext), cancellationToken).ConfigureAwait(false);
        }
        // A tag mismatch is reported by C_Decrypt (not C_DecryptInit) with a code each module picks: SoftHSM2 2.6
        // says CKR_GENERAL_ERROR, others CKR_ENCRYPTED_DATA_INVALID or CKR_SIGNATURE_INVALID.
        catch (HsmPkcs11Exception e) when (e.Function == "C_Decrypt" && e.ReturnValue is CKR.CKR_ENCRYPTED_DATA_INVALID
                                               or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE or CKR.CKR_DATA_INVALID
                                               or CKR.CKR_SIGNATURE_INVALID or CKR.CKR_GENERAL_ERROR
                                               or CKR.CKR_FUNCTION_FAILED)
        {
            throw new CryptographicException("Sealed data did not authenticate.", e);
        }
    }
}
