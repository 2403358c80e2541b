using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm;

/// <summary>
/// The service's own keys on the token, found by CKA_LABEL: the P-256 server key (generated, or imported from
/// PKCS#8 / PKCS#12 when migrating) and the AES-256 sealing key. Service EC keys carry CKA_ID = compressed public key
/// like client keys, which is how the public key is known without a public-key object.
/// </summary>
/// <remarks>
/// Two workers starting on an empty token at the same moment could each create a key under the same label. Lookups
/// therefore pick the object with the smallest CKA_ID, a choice every process makes alike; provisioning the keys
/// before scaling out (one get-or-create at deployment) avoids the situation altogether.
/// </remarks>
public static class HsmServiceKeys
{
    /// <summary>The P-256 key labelled <paramref name="label"/>, generated if the token has none.</summary>
    public static Pkcs11EcPrivateKey GetOrCreateServerKey(HsmConnection connection, string label) =>
        GetOrCreateEcKey(connection, label, EcCurve.P256);

    public static Pkcs11EcPrivateKey GetOrCreateEcKey(HsmConnection connection, string label, EcCurve curve)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(curve);
        CheckLabel(label);
        var existing = FindEcKey(connection, label);
        if (existing is not null) return CheckCurve(existing, curve);
        return connection.RunSerialised(session =>
        {
            // Re-check under the lock: another thread of this process may just have created it.
            var raced = FindEcKey(session, connection, label);
            if (raced is not null) return CheckCurve(raced, curve);
            var (handle, publicKey) = HsmKeyService.GenerateKeyPair(session, curve, label);
            return new Pkcs11EcPrivateKey(connection, handle, label, publicKey);
        });
    }

    /// <summary>The EC key labelled <paramref name="label"/>, or null.</summary>
    public static Pkcs11EcPrivateKey? FindEcKey(HsmConnection connection, string label)
    {
        ArgumentNullException.ThrowIfNull(connection);
        CheckLabel(label);
        return connection.Run(session => FindEcKey(session, connection, label));
    }

    /// <summary>The AES-256 sealing key labelled <paramref name="label"/>, generated (non-extractable) if absent.</summary>
    public static HsmSealingKey GetOrCreateSealingKey(HsmConnection connection, string label)
    {
        ArgumentNullException.ThrowIfNull(connection);
        CheckLabel(label);
        var existing = connection.Run(session => FindAesKey(session, label));
        if (existing is { } handle) return new HsmSealingKey(connection, handle, label);
        return connection.RunSerialised(session =>
        {
            if (FindAesKey(session, label) is { } raced) return new HsmSealingKey(connection, raced, label);
            using var template = new AttributeTemplate()
                .ULong(Ck.CKA_CLASS, Ck.CKO_SECRET_KEY)
                .ULong(Ck.CKA_KEY_TYPE, Ck.CKK_AES)
                .ULong(Ck.CKA_VALUE_LEN, 32)
                .Bool(Ck.CKA_TOKEN, true)
                .Bool(Ck.CKA_PRIVATE, true)
                .Bool(Ck.CKA_SENSITIVE, true)
                .Bool(Ck.CKA_EXTRACTABLE, false)
                .Bool(Ck.CKA_ENCRYPT, true)
                .Bool(Ck.CKA_DECRYPT, true)
                .Utf8(Ck.CKA_LABEL, label)
                .Bytes(Ck.CKA_ID, RandomNumberGenerator.GetBytes(16));
            var created = session.Module.GenerateKey(session.Id, new CkMechanism { Mechanism = Ck.CKM_AES_KEY_GEN }, template);
            return new HsmSealingKey(connection, created, label);
        });
    }

    /// <summary>Imports a PKCS#8 PrivateKeyInfo (DER) EC key under <paramref name="label"/>; see <see cref="ImportEcKey"/>.</summary>
    public static Pkcs11EcPrivateKey ImportPkcs8(HsmConnection connection, string label, ReadOnlySpan<byte> pkcs8)
    {
        using var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length) throw new CryptographicException("Trailing data after the PKCS#8 key.");
        }
        catch (CryptographicException e)
        {
            throw new HsmInvalidRequestException("Not an EC PKCS#8 private key.", e);
        }
        using var key = SoftwareEcKey.FromDotNet(ecdsa);
        return ImportEcKey(connection, label, key);
    }

    /// <summary>Imports the EC private key of a PKCS#12 file (its first entry with an EC key) under <paramref name="label"/>.</summary>
    public static Pkcs11EcPrivateKey ImportPkcs12(HsmConnection connection, string label, ReadOnlySpan<byte> pkcs12, string? password)
    {
        X509Certificate2Collection certificates;
        try
        {
            certificates = X509CertificateLoader.LoadPkcs12Collection(pkcs12, password, X509KeyStorageFlags.Exportable | X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException e)
        {
            throw new HsmInvalidRequestException("The PKCS#12 file could not be opened (wrong password or not PKCS#12).", e);
        }
        try
        {
            foreach (var certificate in certificates)
            {
                using var ecdsa = certificate.GetECDsaPrivateKey();
                if (ecdsa is null) continue;
                // The platform key may refuse a parameter export; a PKCS#8 round trip always works for Exportable.
                using var copy = ECDsa.Create();
                var pkcs8 = ecdsa.ExportPkcs8PrivateKey();
                try
                {
                    copy.ImportPkcs8PrivateKey(pkcs8, out _);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(pkcs8);
                }
                using var key = SoftwareEcKey.FromDotNet(copy);
                return ImportEcKey(connection, label, key);
            }
        }
        finally
        {
            foreach (var certificate in certificates) certificate.Dispose();
        }
        throw new HsmInvalidRequestException("The PKCS#12 file holds no EC private key.");
    }

    /// <summary>Imports a PEM "PRIVATE KEY" / "EC PRIVATE KEY" under <paramref name="label"/>.</summary>
    public static Pkcs11EcPrivateKey ImportPem(HsmConnection connection, string label, string pem)
    {
        SoftwareEcKey key;
        try
        {
            key = SoftwareEcKey.FromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new HsmInvalidRequestException("Not a PEM EC private key.", e);
        }
        using (key) return ImportEcKey(connection, label, key);
    }

    /// <summary>
    /// Creates a token object (private, sensitive, non-extractable, sign and derive) holding <paramref name="key"/>'s
    /// scalar under <paramref name="label"/>. Idempotent: importing the key that already has this label returns it;
    /// a different key under the label is refused rather than shadowed.
    /// </summary>
    public static Pkcs11EcPrivateKey ImportEcKey(HsmConnection connection, string label, SoftwareEcKey key)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(key);
        CheckLabel(label);
        return connection.RunSerialised(session =>
        {
            if (FindEcKey(session, connection, label) is { } existing)
            {
                return existing.PublicKey.Equals(key.PublicKey)
                    ? existing
                    : throw new InvalidOperationException($"The token already holds a different EC key labelled '{label}'.");
            }
            var handle = CreateEcPrivateKey(session, key, label, token: true);
            return new Pkcs11EcPrivateKey(connection, handle, label, key.PublicKey);
        });
    }

    /// <summary>C_CreateObject of an EC private key; the scalar is copied into a template that is wiped on dispose.</summary>
    internal static nuint CreateEcPrivateKey(Pkcs11Session session, SoftwareEcKey key, string label, bool token)
    {
        var scalar = key.Curve.EncodeFieldElement(key.PrivateScalar);
        try
        {
            using var template = new AttributeTemplate()
                .ULong(Ck.CKA_CLASS, Ck.CKO_PRIVATE_KEY)
                .ULong(Ck.CKA_KEY_TYPE, Ck.CKK_EC)
                .Bool(Ck.CKA_TOKEN, token)
                .Bool(Ck.CKA_PRIVATE, true)
                .Bool(Ck.CKA_SENSITIVE, true)
                .Bool(Ck.CKA_EXTRACTABLE, false)
                .Bool(Ck.CKA_SIGN, true)
                .Bool(Ck.CKA_DERIVE, true)
                .Utf8(Ck.CKA_LABEL, label)
                .Bytes(Ck.CKA_ID, key.PublicKey.ToCompressed())
                .Bytes(Ck.CKA_EC_PARAMS, EcKeyEncoding.EcParameters(key.Curve))
                .Bytes(Ck.CKA_VALUE, scalar);
            return session.Module.CreateObject(session.Id, template);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }
    }

    private static Pkcs11EcPrivateKey? FindEcKey(Pkcs11Session session, HsmConnection connection, string label)
    {
        using var template = new AttributeTemplate()
            .ULong(Ck.CKA_CLASS, Ck.CKO_PRIVATE_KEY)
            .ULong(Ck.CKA_KEY_TYPE, Ck.CKK_EC)
            .Bool(Ck.CKA_TOKEN, true)
            .Utf8(Ck.CKA_LABEL, label);
        Pkcs11EcPrivateKey? best = null;
        byte[]? bestId = null;
        foreach (var handle in session.Module.FindObjects(session.Id, template, 64))
        {
            var values = session.Module.GetAttributes(session.Id, handle, [Ck.CKA_ID, Ck.CKA_EC_PARAMS]);
            if (values[0] is not { } id || values[1] is not { } parameters) continue;
            if (!EcKeyEncoding.TryCurveFromEcParameters(parameters, out var curve) || !EcPublicKey.TryFromSec1(curve, id, out var publicKey)) continue;
            if (bestId is not null && id.AsSpan().SequenceCompareTo(bestId) >= 0) continue;
            best = new Pkcs11EcPrivateKey(connection, handle, label, publicKey);
            bestId = id;
        }
        return best;
    }

    private static nuint? FindAesKey(Pkcs11Session session, string label)
    {
        using var template = new AttributeTemplate()
            .ULong(Ck.CKA_CLASS, Ck.CKO_SECRET_KEY)
            .ULong(Ck.CKA_KEY_TYPE, Ck.CKK_AES)
            .Bool(Ck.CKA_TOKEN, true)
            .Utf8(Ck.CKA_LABEL, label);
        nuint? best = null;
        byte[]? bestId = null;
        foreach (var handle in session.Module.FindObjects(session.Id, template, 64))
        {
            var id = session.Module.GetAttributes(session.Id, handle, [Ck.CKA_ID])[0] ?? [];
            if (bestId is not null && id.AsSpan().SequenceCompareTo(bestId) >= 0) continue;
            best = handle;
            bestId = id;
        }
        return best;
    }

    private static Pkcs11EcPrivateKey CheckCurve(Pkcs11EcPrivateKey key, EcCurve curve) =>
        ReferenceEquals(key.Curve, curve)
            ? key
            : throw new InvalidOperationException($"The key labelled '{key.Label}' is on {key.Curve.Name}, not {curve.Name}.");

    private static void CheckLabel(string label)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        if (label.StartsWith(ClientKeyLabel.Prefix, StringComparison.Ordinal))
            throw new ArgumentException($"Service key labels must not start with '{ClientKeyLabel.Prefix}'.", nameof(label));
    }
}
