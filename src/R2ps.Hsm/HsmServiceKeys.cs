using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
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
    /// <summary>
    /// The P-256 key labelled <paramref name="label"/>, generated if the token has none. Like every service key got
    /// here, it is used through <see cref="HsmConnection.WorkingHandleAsync"/> (an in-memory copy where the module allows).
    /// </summary>
    public static Task<Pkcs11EcPrivateKey> GetOrCreateServerKeyAsync(HsmConnection connection, string label, CancellationToken cancellationToken = default) =>
        GetOrCreateEcKeyAsync(connection, label, EcCurve.P256, cancellationToken);

    public static async Task<Pkcs11EcPrivateKey> GetOrCreateEcKeyAsync(HsmConnection connection, string label, EcCurve curve, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(curve);
        CheckLabel(label);
        var key = await FindEcKeyAsync(connection, label, cancellationToken).ConfigureAwait(false)
            ?? await connection.RunSerialisedAsync(session =>
            {
                // Re-check under the lock: another thread of this process may just have created it.
                var raced = FindEcKey(session, connection, label);
                if (raced is not null) return raced;
                var (handle, publicKey) = HsmKeyService.GenerateKeyPair(session, curve, label);
                return new Pkcs11EcPrivateKey(connection, handle, label, publicKey);
            }, cancellationToken).ConfigureAwait(false);
        CheckCurve(key, curve);
        return key.WithHandle(await connection.WorkingHandleAsync(key.Handle, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The EC key labelled <paramref name="label"/>, or null.</summary>
    public static async Task<Pkcs11EcPrivateKey?> FindEcKeyAsync(HsmConnection connection, string label, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        CheckLabel(label);
        return await connection.RunAsync(session => FindEcKey(session, connection, label), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The AES-256 sealing key labelled <paramref name="label"/>, generated (non-extractable) if absent.</summary>
    public static async Task<HsmSealingKey> GetOrCreateSealingKeyAsync(HsmConnection connection, string label, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        CheckLabel(label);
        var handle = await connection.RunAsync(session => FindAesKey(session, label), cancellationToken).ConfigureAwait(false)
            ?? await connection.RunSerialisedAsync(session => FindAesKey(session, label) ?? GenerateAesKey(session, label), cancellationToken).ConfigureAwait(false);
        return new HsmSealingKey(connection, await connection.WorkingHandleAsync(handle, cancellationToken).ConfigureAwait(false), label);
    }

    /// <summary>A new AES-256 token key (private, sensitive, never extractable); <paramref name="copyable"/> false refuses C_CopyObject (tests).</summary>
    internal static IObjectHandle GenerateAesKey(ISession session, string label, bool copyable = true)
    {
        var factory = session.Factories.ObjectAttributeFactory;
        List<IObjectAttribute> template =
        [
            factory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            factory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            factory.Create(CKA.CKA_VALUE_LEN, 32UL),
            factory.Create(CKA.CKA_TOKEN, true),
            factory.Create(CKA.CKA_PRIVATE, true),
            factory.Create(CKA.CKA_SENSITIVE, true),
            factory.Create(CKA.CKA_EXTRACTABLE, false),
            factory.Create(CKA.CKA_ENCRYPT, true),
            factory.Create(CKA.CKA_DECRYPT, true),
            factory.Create(CKA.CKA_LABEL, label),
            factory.Create(CKA.CKA_ID, RandomNumberGenerator.GetBytes(16)),
        ];
        if (!copyable) template.Add(factory.Create(CKA.CKA_COPYABLE, false));
        try
        {
            using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
            return session.GenerateKey(mechanism, template);
        }
        finally
        {
            Pkcs11Mechanisms.DisposeAll(template);
        }
    }

    /// <summary>Imports a PKCS#8 PrivateKeyInfo (DER) EC key under <paramref name="label"/>; see <see cref="ImportEcKeyAsync"/>.</summary>
    public static async Task<Pkcs11EcPrivateKey> ImportPkcs8Async(HsmConnection connection, string label, ReadOnlyMemory<byte> pkcs8, CancellationToken cancellationToken = default)
    {
        using var key = ParsePkcs8(pkcs8.Span);
        return await ImportEcKeyAsync(connection, label, key, cancellationToken).ConfigureAwait(false);
    }

    private static SoftwareEcKey ParsePkcs8(ReadOnlySpan<byte> pkcs8)
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
        return SoftwareEcKey.FromDotNet(ecdsa);
    }

    /// <summary>Imports the EC private key of a PKCS#12 file (its first entry with an EC key) under <paramref name="label"/>.</summary>
    public static async Task<Pkcs11EcPrivateKey> ImportPkcs12Async(HsmConnection connection, string label, ReadOnlyMemory<byte> pkcs12, string? password, CancellationToken cancellationToken = default)
    {
        using var key = ParsePkcs12(pkcs12.Span, password);
        return await ImportEcKeyAsync(connection, label, key, cancellationToken).ConfigureAwait(false);
    }

    private static SoftwareEcKey ParsePkcs12(ReadOnlySpan<byte> pkcs12, string? password)
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
                return SoftwareEcKey.FromDotNet(copy);
            }
        }
        finally
        {
            foreach (var certificate in certificates) certificate.Dispose();
        }
        throw new HsmInvalidRequestException("The PKCS#12 file holds no EC private key.");
    }

    /// <summary>Imports a PEM "PRIVATE KEY" / "EC PRIVATE KEY" under <paramref name="label"/>.</summary>
    public static async Task<Pkcs11EcPrivateKey> ImportPemAsync(HsmConnection connection, string label, string pem, CancellationToken cancellationToken = default)
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
        using (key) return await ImportEcKeyAsync(connection, label, key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates a token object (private, sensitive, non-extractable, sign and derive) holding <paramref name="key"/>'s
    /// scalar under <paramref name="label"/>. Idempotent: importing the key that already has this label returns it;
    /// a different key under the label is refused rather than shadowed.
    /// </summary>
    public static async Task<Pkcs11EcPrivateKey> ImportEcKeyAsync(HsmConnection connection, string label, SoftwareEcKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(key);
        CheckLabel(label);
        return await connection.RunSerialisedAsync(session =>
        {
            if (FindEcKey(session, connection, label) is { } existing)
            {
                return existing.PublicKey.Equals(key.PublicKey)
                    ? existing
                    : throw new InvalidOperationException($"The token already holds a different EC key labelled '{label}'.");
            }
            var handle = CreateEcPrivateKey(session, key, label, token: true);
            return new Pkcs11EcPrivateKey(connection, handle, label, key.PublicKey);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>C_CreateObject of an EC private key; the scalar's managed and unmanaged copies are wiped afterwards.</summary>
    internal static IObjectHandle CreateEcPrivateKey(ISession session, SoftwareEcKey key, string label, bool token)
    {
        var factory = session.Factories.ObjectAttributeFactory;
        var scalar = key.Curve.EncodeFieldElement(key.PrivateScalar);
        List<IObjectAttribute> template = [];
        try
        {
            template.AddRange(
            [
                factory.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY),
                factory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_EC),
                factory.Create(CKA.CKA_TOKEN, token),
                factory.Create(CKA.CKA_PRIVATE, true),
                factory.Create(CKA.CKA_SENSITIVE, true),
                factory.Create(CKA.CKA_EXTRACTABLE, false),
                factory.Create(CKA.CKA_SIGN, true),
                factory.Create(CKA.CKA_DERIVE, true),
                factory.Create(CKA.CKA_LABEL, label),
                factory.Create(CKA.CKA_ID, key.PublicKey.ToCompressed()),
                factory.Create(CKA.CKA_EC_PARAMS, EcKeyEncoding.EcParameters(key.Curve)),
                factory.Create(CKA.CKA_VALUE, scalar),
            ]);
            return session.CreateObject(template);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
            Pkcs11Mechanisms.WipeAndDisposeAll(template);
        }
    }

    private static Pkcs11EcPrivateKey? FindEcKey(ISession session, HsmConnection connection, string label)
    {
        var template = HsmKeyService.EcPrivateKeyTemplate(session);
        template.Add(session.Factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, label));
        Pkcs11EcPrivateKey? best = null;
        byte[]? bestId = null;
        foreach (var handle in Pkcs11Mechanisms.FindObjects(session, template, 64))
        {
            var values = Pkcs11Mechanisms.GetAttributes(session, handle, [CKA.CKA_ID, CKA.CKA_EC_PARAMS]);
            if (values[0] is not { } id || values[1] is not { } parameters) continue;
            if (!EcKeyEncoding.TryCurveFromEcParameters(parameters, out var curve) || !EcPublicKey.TryFromSec1(curve, id, out var publicKey)) continue;
            if (bestId is not null && id.AsSpan().SequenceCompareTo(bestId) >= 0) continue;
            best = new Pkcs11EcPrivateKey(connection, handle, label, publicKey);
            bestId = id;
        }
        return best;
    }

    private static IObjectHandle? FindAesKey(ISession session, string label)
    {
        var factory = session.Factories.ObjectAttributeFactory;
        List<IObjectAttribute> template =
        [
            factory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            factory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            factory.Create(CKA.CKA_TOKEN, true),
            factory.Create(CKA.CKA_LABEL, label),
        ];
        IObjectHandle? best = null;
        byte[]? bestId = null;
        foreach (var handle in Pkcs11Mechanisms.FindObjects(session, template, 64))
        {
            var id = Pkcs11Mechanisms.GetAttributes(session, handle, [CKA.CKA_ID])[0] ?? [];
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
