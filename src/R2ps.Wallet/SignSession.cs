using System.Security.Cryptography;
using System.Text;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;

namespace R2ps.Wallet;

/// <summary>
/// An active OPAQUE session: its id, expiry and the 32-byte session key that encrypts every user-mode request. Dispose
/// it when done: the key is zeroed (the service-side session stays until it expires or <see cref="CloseAsync"/>).
/// </summary>
public sealed class SignSession : IDisposable
{
    private readonly R2psWallet _wallet;
    private readonly byte[] _sessionKey;
    private readonly byte[]? _vaultKey;
    private SecretVault? _vault;
    private bool _disposed;

    /// <param name="vaultKey">The vault key from this login's export key (copied), or null for a resumed session.</param>
    internal SignSession(R2psWallet wallet, string pakeSessionId, byte[] sessionKey, DateTimeOffset expiresAt, string? task, byte[]? vaultKey = null)
    {
        _wallet = wallet;
        PakeSessionId = pakeSessionId;
        _sessionKey = (byte[])sessionKey.Clone();
        _vaultKey = (byte[]?)vaultKey?.Clone();
        ExpiresAt = expiresAt;
        Task = task;
    }

    public string PakeSessionId { get; }

    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The task the service confirmed, if one was asked for.</summary>
    public string? Task { get; }

    /// <summary>
    /// A copy of the session key, for a wallet that keeps the session between processes (see
    /// <see cref="R2psWallet.ResumeSession"/>). The caller owns the copy: protect it at rest and zero it when done.
    /// </summary>
    public byte[] ExportSessionKey()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return (byte[])_sessionKey.Clone();
    }

    /// <summary>Whether this session came from a login here (it holds the vault key); a resumed session does not.</summary>
    public bool HasVault => _vaultKey is not null;

    /// <summary>
    /// The secret vault (PROTOCOL.md 4) of this login: its key comes from the OPAQUE export key, which only a login with
    /// the PIN yields, so a resumed session has none (<see cref="InvalidOperationException"/>). It remembers versions in
    /// the wallet's <see cref="R2psWalletOptions.VaultVersions"/>.
    /// </summary>
    public SecretVault Vault
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_vaultKey is null) throw new InvalidOperationException("A resumed session has no vault key; log in with the PIN to use the vault.");
            return _vault ??= new SecretVault(this, _vaultKey, _wallet.VaultVersions);
        }
    }

    /// <summary><c>pin_change</c> (within the service's window after login). Every session of the key ends, this one too.</summary>
    public Task ChangePinAsync(string newPin, CancellationToken cancellationToken = default) =>
        _wallet.RegisterRecordAsync(newPin, null, (type, pake, ct) => SendAsync(type, EnvelopeJson.Serialize(pake), ct), ServiceTypes.PinChange, cancellationToken);

    /// <summary><c>hsm_ec_keygen</c>: returns the curve the service confirmed.</summary>
    public async Task<string> GenerateKeyAsync(EcCurve curve, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(curve);
        var reply = await SendAsync(ServiceTypes.HsmEcKeygen, EnvelopeJson.Serialize(new KeygenRequest(curve.Name)), cancellationToken).ConfigureAwait(false);
        return Read<KeygenResponse>(reply, "hsm_ec_keygen response").CreatedKey;
    }

    /// <summary><c>hsm_list_keys</c> on the given curves (none = all).</summary>
    public async Task<IReadOnlyList<KeyInfo>> ListKeysAsync(IReadOnlyCollection<EcCurve>? curves = null, CancellationToken cancellationToken = default)
    {
        var request = new ListKeysRequest(curves?.Select(c => c.Name).ToList() ?? []);
        var reply = await SendAsync(ServiceTypes.HsmListKeys, EnvelopeJson.Serialize(request), cancellationToken).ConfigureAwait(false);
        return Read<ListKeysResponse>(reply, "hsm_list_keys response").KeyInfo;
    }

    /// <summary><c>hsm_ecdsa</c>: the DER ECDSA-Sig-Value over <paramref name="hash"/> (32, 48 or 64 bytes).</summary>
    public Task<byte[]> SignAsync(string kid, ReadOnlyMemory<byte> hash, CancellationToken cancellationToken = default) =>
        SendAsync(ServiceTypes.HsmEcdsa, EnvelopeJson.Serialize(new EcdsaRequest(kid, Base64Std.Encode(hash.Span))), cancellationToken);

    /// <summary><c>hsm_ecdh</c>: the shared x-coordinate with the peer (SPKI DER on the key's curve).</summary>
    public Task<byte[]> EcdhAsync(string kid, ReadOnlyMemory<byte> peerSpki, CancellationToken cancellationToken = default) =>
        SendAsync(ServiceTypes.HsmEcdh, EnvelopeJson.Serialize(new EcdhRequest(kid, Base64Std.Encode(peerSpki.Span))), cancellationToken);

    /// <summary><c>hsm_ec_delete_key</c>.</summary>
    public async Task DeleteKeyAsync(string kid, CancellationToken cancellationToken = default) =>
        R2psWallet.ExpectOk(await SendAsync(ServiceTypes.HsmEcDeleteKey, EnvelopeJson.Serialize(new DeleteKeyRequest(kid)), cancellationToken).ConfigureAwait(false));

    /// <summary><c>session_end</c>, user form: ends this session at the service.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default) =>
        R2psWallet.ExpectOk(await SendAsync(ServiceTypes.SessionEnd, Encoding.ASCII.GetBytes("close"), cancellationToken).ConfigureAwait(false));

    /// <summary>Any user-mode request in this session: the decrypted response data.</summary>
    public Task<byte[]> SendAsync(string type, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _wallet.SendUserRequestAsync(type, plaintext, PakeSessionId, _sessionKey, cancellationToken);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CryptographicOperations.ZeroMemory(_sessionKey);
        if (_vaultKey is not null) CryptographicOperations.ZeroMemory(_vaultKey);
    }

    private static T Read<T>(byte[] data, string what)
    {
        try
        {
            return R2psJson.Deserialize<T>(data, what);
        }
        catch (R2psException ex)
        {
            throw new ClientEnvelopeException(ex.Message, ex);
        }
    }
}
