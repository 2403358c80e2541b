using System.Collections.Concurrent;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
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
    private static readonly List<CKA> KeyAttributes = [CKA.CKA_LABEL, CKA.CKA_ID, CKA.CKA_EC_PARAMS];
    private static readonly List<CKA> IdentityAttributes = [CKA.CKA_CLASS, CKA.CKA_KEY_TYPE, CKA.CKA_ID, CKA.CKA_LABEL];
    private static readonly byte[] PrivateKeyClass = BitConverter.GetBytes((ulong)CKO.CKO_PRIVATE_KEY); // CK_ULONG, native order
    private static readonly byte[] EcKeyType = BitConverter.GetBytes((ulong)CKK.CKK_EC);

    private readonly HsmConnection _connection;
    private readonly TimeProvider _time;

    // kid → object handle (with what the object said about itself). A handle is only a hint: once another worker
    // destroys the key, a module may hand the same handle to a new object, possibly another owner's key. So before
    // each use the object's class, key type, CKA_ID and CKA_LABEL (owner and creation time) are read back and must be
    // byte-for-byte what was cached; otherwise the entry is dropped and the key looked up by kid and owner again.
    private readonly ConcurrentDictionary<string, ClientKey> _handles = new(StringComparer.Ordinal);

    public HsmKeyService(HsmConnection connection, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>hsm_ec_keygen: a new key pair on <paramref name="curve"/> owned by <paramref name="owner"/>.</summary>
    public async Task<HsmKeyInfo> GenerateKeyAsync(string owner, EcCurve curve, CancellationToken cancellationToken = default)
    {
        ClientKeyLabel.ValidateOwner(owner);
        ArgumentNullException.ThrowIfNull(curve);
        var created = _time.GetUtcNow().ToUnixTimeSeconds();
        var label = ClientKeyLabel.Format(owner, created);
        var (handle, publicKey) = await _connection.RunSerialisedAsync(session => GenerateKeyPair(session, curve, label), cancellationToken).ConfigureAwait(false);
        var info = new HsmKeyInfo(Hex.Encode(publicKey.ToCompressed()), curve, created, publicKey);
        _handles[info.Kid] = new ClientKey(handle, owner, info, System.Text.Encoding.UTF8.GetBytes(label), publicKey.ToCompressed());
        return info;
    }

    /// <summary>
    /// Generates with CKA_LABEL set and CKA_ID added once the public point is known. A crash in between leaves an
    /// object without an ID, which listing and lookup ignore (it can be swept by label).
    /// </summary>
    internal static (IObjectHandle Handle, EcPublicKey PublicKey) GenerateKeyPair(ISession session, EcCurve curve, string label, bool token = true)
    {
        var factory = session.Factories.ObjectAttributeFactory;
        List<IObjectAttribute> publicTemplate =
        [
            factory.Create(CKA.CKA_TOKEN, false),
            factory.Create(CKA.CKA_EC_PARAMS, EcKeyEncoding.EcParameters(curve)),
            factory.Create(CKA.CKA_VERIFY, true),
        ];
        List<IObjectAttribute> privateTemplate =
        [
            factory.Create(CKA.CKA_TOKEN, token),
            factory.Create(CKA.CKA_PRIVATE, true),
            factory.Create(CKA.CKA_SENSITIVE, true),
            factory.Create(CKA.CKA_EXTRACTABLE, false),
            factory.Create(CKA.CKA_SIGN, true),
            factory.Create(CKA.CKA_DERIVE, true),
            factory.Create(CKA.CKA_LABEL, label),
        ];
        IObjectHandle publicHandle, privateHandle;
        try
        {
            using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_EC_KEY_PAIR_GEN);
            session.GenerateKeyPair(mechanism, publicTemplate, privateTemplate, out publicHandle, out privateHandle);
        }
        finally
        {
            Pkcs11Mechanisms.DisposeAll(publicTemplate);
            Pkcs11Mechanisms.DisposeAll(privateTemplate);
        }
        try
        {
            var ecPoint = Pkcs11Mechanisms.GetAttributes(session, publicHandle, [CKA.CKA_EC_POINT])[0]
                ?? throw new HsmPkcs11Exception("The generated public key has no CKA_EC_POINT.");
            var publicKey = EcKeyEncoding.PublicKeyFromEcPoint(curve, ecPoint);
            List<IObjectAttribute> id = [factory.Create(CKA.CKA_ID, publicKey.ToCompressed())];
            try
            {
                session.SetAttributeValue(privateHandle, id);
            }
            finally
            {
                Pkcs11Mechanisms.DisposeAll(id);
            }
            return (privateHandle, publicKey);
        }
        catch
        {
            session.DestroyObject(privateHandle);
            throw;
        }
        finally
        {
            session.DestroyObject(publicHandle);
        }
    }

    /// <summary>hsm_list_keys: the owner's keys, on the given curves (null or empty: all), oldest first.</summary>
    public async Task<IReadOnlyList<HsmKeyInfo>> ListKeysAsync(string owner, IReadOnlyCollection<EcCurve>? curves = null, CancellationToken cancellationToken = default)
    {
        ClientKeyLabel.ValidateOwner(owner);
        var keys = await _connection.RunAsync(session =>
        {
            var result = new List<ClientKey>();
            foreach (var handle in Pkcs11Mechanisms.FindObjects(session, EcPrivateKeyTemplate(session), int.MaxValue))
                if (TryReadClientKey(session, handle, out var key) && key.Owner == owner) result.Add(key);
            return result;
        }, cancellationToken).ConfigureAwait(false);
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
    public async Task<byte[]> SignHashAsync(string owner, string kid, ReadOnlyMemory<byte> hash, CancellationToken cancellationToken = default)
    {
        if (hash.Length is not (32 or 48 or 64)) throw new HsmInvalidRequestException($"tbs_hash is {hash.Length} bytes; 32, 48 or 64 are accepted.");
        var input = hash.ToArray();
        var raw = await WithKeyAsync(owner, kid, (session, key) =>
            Pkcs11Mechanisms.SignEcdsa(session, key.Handle, EcKeyEncoding.TruncateHash(key.Info.Curve, input).ToArray(), key.Info.Curve.FieldSize), cancellationToken).ConfigureAwait(false);
        return EcKeyEncoding.RawSignatureToDer(raw);
    }

    /// <summary>hsm_ecdh: the x-coordinate of d·peer (field-size bytes) for a peer given as SPKI DER on the key's curve.</summary>
    public Task<byte[]> DeriveSharedSecretAsync(string owner, string kid, ReadOnlyMemory<byte> peerSpki, CancellationToken cancellationToken = default)
    {
        if (!EcPublicKey.TryFromSpki(peerSpki.Span, out var peer))
            throw new HsmInvalidRequestException("public_key is not an EC SubjectPublicKeyInfo with a valid point on P-256, P-384 or P-521.");
        return WithKeyAsync(owner, kid, (session, key) =>
        {
            if (!ReferenceEquals(peer.Curve, key.Info.Curve))
                throw new HsmInvalidRequestException($"public_key is on {peer.Curve.Name}; the key is on {key.Info.Curve.Name}.");
            return Pkcs11Mechanisms.DeriveEcdh(session, key.Handle, peer.ToUncompressed(), key.Info.Curve.FieldSize);
        }, cancellationToken);
    }

    /// <summary>The owner's key's public information, or <see cref="HsmKeyNotFoundException"/>.</summary>
    public Task<HsmKeyInfo> GetKeyAsync(string owner, string kid, CancellationToken cancellationToken = default) =>
        WithKeyAsync(owner, kid, (_, key) => key.Info, cancellationToken);

    /// <summary>hsm_ec_delete_key.</summary>
    public async Task DeleteKeyAsync(string owner, string kid, CancellationToken cancellationToken = default)
    {
        await WithKeyAsync(owner, kid, (session, key) =>
        {
            lock (_connection.Module.ObjectLifecycleLock) session.DestroyObject(key.Handle);
            return 0;
        }, cancellationToken).ConfigureAwait(false);
        _handles.TryRemove(kid, out _);
    }

    /// <summary>
    /// Finds the owner's key (cache first) and runs <paramref name="operation"/> with it. A cached handle is used only
    /// if the object behind it still carries the cached identity (see <see cref="StillNames"/>); one that does not, or
    /// that the module stops knowing in between (CKR_KEY_HANDLE_INVALID), is dropped and the key looked up once more.
    /// </summary>
    /// <remarks>
    /// The check and the operation are two calls: a key destroyed by another worker and its handle reused in the
    /// microseconds between them is not excluded (PKCS#11 has no compare-and-use); it is the same window as a fresh
    /// C_FindObjects followed by C_Sign.
    /// </remarks>
    private async Task<T> WithKeyAsync<T>(string owner, string kid, Func<ISession, ClientKey, T> operation, CancellationToken cancellationToken)
    {
        ClientKeyLabel.ValidateOwner(owner);
        var id = ParseKid(kid);
        for (var attempt = 0; ; attempt++)
        {
            var fromCache = _handles.TryGetValue(kid, out var cached) && cached.Owner == owner;
            try
            {
                return await _connection.RunAsync(session =>
                {
                    ClientKey key;
                    if (fromCache && StillNames(session, cached!))
                    {
                        key = cached!;
                    }
                    else
                    {
                        if (fromCache) _handles.TryRemove(KeyValuePair.Create(kid, cached!));
                        key = Find(session, owner, kid, id);
                    }
                    return operation(session, key);
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (HsmPkcs11Exception e) when (fromCache && attempt == 0 &&
                e.ReturnValue is CKR.CKR_KEY_HANDLE_INVALID or CKR.CKR_OBJECT_HANDLE_INVALID)
            {
                _handles.TryRemove(kid, out _);
            }
        }
    }

    private ClientKey Find(ISession session, string owner, string kid, byte[] id)
    {
        var template = EcPrivateKeyTemplate(session);
        template.Add(session.Factories.ObjectAttributeFactory.Create(CKA.CKA_ID, id));
        foreach (var handle in Pkcs11Mechanisms.FindObjects(session, template, 16))
        {
            if (!TryReadClientKey(session, handle, out var key) || key.Owner != owner || key.Info.Kid != kid) continue;
            _handles[kid] = key;
            return key;
        }
        throw new HsmKeyNotFoundException();
    }

    /// <summary>Whether the cached handle still names the object it was cached for (one C_GetAttributeValue).</summary>
    private static bool StillNames(ISession session, ClientKey key) =>
        Pkcs11Mechanisms.HasAttributes(session, key.Handle, IdentityAttributes, [PrivateKeyClass, EcKeyType, key.Id, key.Label]);

    /// <summary>The search template of token EC private keys (the caller may add to it; the search disposes it).</summary>
    internal static List<IObjectAttribute> EcPrivateKeyTemplate(ISession session)
    {
        var factory = session.Factories.ObjectAttributeFactory;
        return
        [
            factory.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY),
            factory.Create(CKA.CKA_KEY_TYPE, CKK.CKK_EC),
            factory.Create(CKA.CKA_TOKEN, true),
        ];
    }

    /// <summary>Test seam: the cached handle for <paramref name="kid"/>, if any.</summary>
    internal ulong? CachedHandle(string kid) => _handles.TryGetValue(kid, out var key) ? key.Handle.ObjectId : null;

    /// <summary>Test seam: points the cache entry for <paramref name="kid"/> at another handle, as a module that reuses handles would.</summary>
    internal void RedirectCachedHandle(string kid, ulong handle) =>
        _handles[kid] = _handles[kid] with { Handle = _connection.Module.Factories.ObjectHandleFactory.Create(handle) };

    /// <summary>Reads a private key object as a client key; false for service keys and half-made or foreign objects.</summary>
    private static bool TryReadClientKey(ISession session, IObjectHandle handle, out ClientKey key)
    {
        key = null!;
        var values = Pkcs11Mechanisms.GetAttributes(session, handle, KeyAttributes);
        if (!ClientKeyLabel.TryParse(values[0], out var owner, out var created)) return false;
        if (values[2] is null || !EcKeyEncoding.TryCurveFromEcParameters(values[2], out var curve)) return false;
        if (values[1] is null || !EcPublicKey.TryFromSec1(curve, values[1], out var publicKey) || values[1]![0] == 0x04) return false;
        key = new ClientKey(handle, owner, new HsmKeyInfo(Hex.Encode(values[1]), curve, created, publicKey), values[0]!, values[1]!);
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

    /// <summary>A found key; <paramref name="Label"/> and <paramref name="Id"/> are the object's raw CKA_LABEL and CKA_ID, to re-check a cached handle against.</summary>
    private sealed record ClientKey(IObjectHandle Handle, string Owner, HsmKeyInfo Info, byte[] Label, byte[] Id);
}
