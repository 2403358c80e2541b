using System.Collections.Concurrent;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm;

/// <summary>A client key as hsm_list_keys reports it (PROTOCOL.md 1.4).</summary>
public sealed record HsmKeyInfo(string Kid, EcCurve Curve, long CreationTime, EcPublicKey PublicKey)
{
    /// <summary>"P-256", "P-384" or "P-521".</summary>
    public string CurveName => Curve.Name;

    /// <summary>The <c>public_key</c> of hsm_list_keys: SPKI DER.</summary>
    public byte[] PublicKeySpki() => PublicKey.ToSpki();
}

/// <summary>
/// The clients' EC keys behind the hsm_* operations (PROTOCOL.md 1.4). Keys are token objects, private, sensitive
/// and never extractable; CKA_ID holds the SEC1 compressed public key (the kid is its lowercase hex) and CKA_LABEL
/// the owner and creation time (<see cref="ClientKeyLabel"/>). Every operation names its owner and finds the key by
/// kid <em>and</em> owner: another owner's kid is reported exactly like an unknown one.
/// </summary>
public sealed class HsmKeyService
{
    private static readonly nuint[] KeyAttributes = [Ck.CKA_LABEL, Ck.CKA_ID, Ck.CKA_EC_PARAMS];

    private readonly HsmConnection _connection;
    private readonly TimeProvider _time;

    // kid → object handle (with what the object said about itself). Handles live as long as the module's
    // initialisation; a key another process destroyed shows up as CKR_KEY_HANDLE_INVALID and is looked up again.
    private readonly ConcurrentDictionary<string, ClientKey> _handles = new(StringComparer.Ordinal);

    public HsmKeyService(HsmConnection connection, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>hsm_ec_keygen: a new key pair on <paramref name="curve"/> owned by <paramref name="owner"/>.</summary>
    public HsmKeyInfo GenerateKey(string owner, EcCurve curve)
    {
        ClientKeyLabel.ValidateOwner(owner);
        ArgumentNullException.ThrowIfNull(curve);
        var created = _time.GetUtcNow().ToUnixTimeSeconds();
        var label = ClientKeyLabel.Format(owner, created);
        var (handle, publicKey) = _connection.RunSerialised(session => GenerateKeyPair(session, curve, label));
        var info = new HsmKeyInfo(Hex.Encode(publicKey.ToCompressed()), curve, created, publicKey);
        _handles[info.Kid] = new ClientKey(handle, owner, info);
        return info;
    }

    /// <summary>
    /// Generates with CKA_LABEL set and CKA_ID added once the public point is known. A crash in between leaves an
    /// object without an ID, which listing and lookup ignore (it can be swept by label).
    /// </summary>
    internal static (nuint Handle, EcPublicKey PublicKey) GenerateKeyPair(Pkcs11Session session, EcCurve curve, string label, bool token = true)
    {
        var module = session.Module;
        using var publicTemplate = new AttributeTemplate()
            .Bool(Ck.CKA_TOKEN, false)
            .Bytes(Ck.CKA_EC_PARAMS, EcKeyEncoding.EcParameters(curve))
            .Bool(Ck.CKA_VERIFY, true);
        using var privateTemplate = new AttributeTemplate()
            .Bool(Ck.CKA_TOKEN, token)
            .Bool(Ck.CKA_PRIVATE, true)
            .Bool(Ck.CKA_SENSITIVE, true)
            .Bool(Ck.CKA_EXTRACTABLE, false)
            .Bool(Ck.CKA_SIGN, true)
            .Bool(Ck.CKA_DERIVE, true)
            .Utf8(Ck.CKA_LABEL, label);
        var (publicHandle, privateHandle) = module.GenerateKeyPair(session.Id, new CkMechanism { Mechanism = Ck.CKM_EC_KEY_PAIR_GEN }, publicTemplate, privateTemplate);
        try
        {
            var ecPoint = module.GetAttributes(session.Id, publicHandle, [Ck.CKA_EC_POINT])[0]
                ?? throw new Pkcs11Exception("The generated public key has no CKA_EC_POINT.");
            var publicKey = EcKeyEncoding.PublicKeyFromEcPoint(curve, ecPoint);
            using var id = new AttributeTemplate().Bytes(Ck.CKA_ID, publicKey.ToCompressed());
            module.SetAttributes(session.Id, privateHandle, id);
            return (privateHandle, publicKey);
        }
        catch
        {
            module.DestroyObject(session.Id, privateHandle);
            throw;
        }
        finally
        {
            module.DestroyObject(session.Id, publicHandle);
        }
    }

    /// <summary>hsm_list_keys: the owner's keys, on the given curves (null or empty: all), oldest first.</summary>
    public IReadOnlyList<HsmKeyInfo> ListKeys(string owner, IReadOnlyCollection<EcCurve>? curves = null)
    {
        ClientKeyLabel.ValidateOwner(owner);
        var keys = _connection.Run(session =>
        {
            using var template = new AttributeTemplate()
                .ULong(Ck.CKA_CLASS, Ck.CKO_PRIVATE_KEY)
                .ULong(Ck.CKA_KEY_TYPE, Ck.CKK_EC)
                .Bool(Ck.CKA_TOKEN, true);
            var result = new List<ClientKey>();
            foreach (var handle in session.Module.FindObjects(session.Id, template, int.MaxValue))
                if (TryReadClientKey(session, handle, out var key) && key.Owner == owner) result.Add(key);
            return result;
        });
        foreach (var key in keys) _handles[key.Info.Kid] = key;
        return keys
            .Select(k => k.Info)
            .Where(k => curves is null || curves.Count == 0 || curves.Contains(k.Curve))
            .OrderBy(k => k.CreationTime).ThenBy(k => k.Kid, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// hsm_ecdsa: ECDSA over <paramref name="hash"/> (32, 48 or 64 bytes; longer than the order → its leftmost bits),
    /// the signature as DER ECDSA-Sig-Value.
    /// </summary>
    public byte[] SignHash(string owner, string kid, ReadOnlySpan<byte> hash)
    {
        if (hash.Length is not (32 or 48 or 64)) throw new HsmInvalidRequestException($"tbs_hash is {hash.Length} bytes; 32, 48 or 64 are accepted.");
        var input = hash.ToArray();
        var raw = WithKey(owner, kid, (session, key) =>
            Pkcs11Mechanisms.SignEcdsa(session, key.Handle, EcKeyEncoding.TruncateHash(key.Info.Curve, input), key.Info.Curve.FieldSize));
        return EcKeyEncoding.RawSignatureToDer(raw);
    }

    /// <summary>hsm_ecdh: the x-coordinate of d·peer (field-size bytes) for a peer given as SPKI DER on the key's curve.</summary>
    public byte[] DeriveSharedSecret(string owner, string kid, ReadOnlySpan<byte> peerSpki)
    {
        if (!EcPublicKey.TryFromSpki(peerSpki, out var peer))
            throw new HsmInvalidRequestException("public_key is not an EC SubjectPublicKeyInfo with a valid point on P-256, P-384 or P-521.");
        return WithKey(owner, kid, (session, key) =>
        {
            if (!ReferenceEquals(peer.Curve, key.Info.Curve))
                throw new HsmInvalidRequestException($"public_key is on {peer.Curve.Name}; the key is on {key.Info.Curve.Name}.");
            return Pkcs11Mechanisms.DeriveEcdh(session, key.Handle, peer.ToUncompressed(), key.Info.Curve.FieldSize);
        });
    }

    /// <summary>The owner's key's public information, or <see cref="HsmKeyNotFoundException"/>.</summary>
    public HsmKeyInfo GetKey(string owner, string kid) => WithKey(owner, kid, (_, key) => key.Info);

    /// <summary>hsm_ec_delete_key.</summary>
    public void DeleteKey(string owner, string kid)
    {
        WithKey(owner, kid, (session, key) =>
        {
            lock (session.Module.ObjectLifecycleLock) session.Module.DestroyObject(session.Id, key.Handle);
            return 0;
        });
        _handles.TryRemove(kid, out _);
    }

    /// <summary>
    /// Finds the owner's key (cache first) and runs <paramref name="operation"/> with it. A cached handle the module
    /// no longer knows (the key was deleted by another process) is dropped and the key looked up once more.
    /// </summary>
    private T WithKey<T>(string owner, string kid, Func<Pkcs11Session, ClientKey, T> operation)
    {
        ClientKeyLabel.ValidateOwner(owner);
        var id = ParseKid(kid);
        for (var attempt = 0; ; attempt++)
        {
            var fromCache = _handles.TryGetValue(kid, out var cached) && cached.Owner == owner;
            try
            {
                return _connection.Run(session =>
                {
                    var key = fromCache ? cached! : Find(session, owner, kid, id);
                    return operation(session, key);
                });
            }
            catch (Pkcs11Exception e) when (fromCache && attempt == 0 &&
                e.ReturnValue is Pkcs11ReturnValues.CKR_KEY_HANDLE_INVALID or Pkcs11ReturnValues.CKR_OBJECT_HANDLE_INVALID)
            {
                _handles.TryRemove(kid, out _);
            }
        }
    }

    private ClientKey Find(Pkcs11Session session, string owner, string kid, byte[] id)
    {
        using var template = new AttributeTemplate()
            .ULong(Ck.CKA_CLASS, Ck.CKO_PRIVATE_KEY)
            .ULong(Ck.CKA_KEY_TYPE, Ck.CKK_EC)
            .Bool(Ck.CKA_TOKEN, true)
            .Bytes(Ck.CKA_ID, id);
        foreach (var handle in session.Module.FindObjects(session.Id, template, 16))
        {
            if (!TryReadClientKey(session, handle, out var key) || key.Owner != owner || key.Info.Kid != kid) continue;
            _handles[kid] = key;
            return key;
        }
        throw new HsmKeyNotFoundException();
    }

    /// <summary>Reads a private key object as a client key; false for service keys and half-made or foreign objects.</summary>
    private static bool TryReadClientKey(Pkcs11Session session, nuint handle, out ClientKey key)
    {
        key = null!;
        var values = session.Module.GetAttributes(session.Id, handle, KeyAttributes);
        if (!ClientKeyLabel.TryParse(values[0], out var owner, out var created)) return false;
        if (values[2] is null || !EcKeyEncoding.TryCurveFromEcParameters(values[2], out var curve)) return false;
        if (values[1] is null || !EcPublicKey.TryFromSec1(curve, values[1], out var publicKey) || values[1]![0] == 0x04) return false;
        key = new ClientKey(handle, owner, new HsmKeyInfo(Hex.Encode(values[1]), curve, created, publicKey));
        return true;
    }

    /// <summary>A kid is the lowercase hex of a compressed point on one of the three curves.</summary>
    private static byte[] ParseKid(string kid)
    {
        ArgumentNullException.ThrowIfNull(kid);
        foreach (var curve in EcCurve.All)
        {
            if (Hex.IsLowerHex(kid, curve.CompressedPointSize))
            {
                var bytes = Hex.Decode(kid);
                if (bytes[0] is 0x02 or 0x03) return bytes;
            }
        }
        throw new HsmInvalidRequestException("kid is not the lowercase hex of a compressed P-256, P-384 or P-521 public key.");
    }

    private sealed record ClientKey(nuint Handle, string Owner, HsmKeyInfo Info);
}
