using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using R2ps.Crypto.Encoding;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;

namespace R2ps.Wallet;

/// <summary>
/// The last version of each secret id this wallet has seen (PROTOCOL.md 4, seed 004): a server that later answers an
/// older one has been rolled back. Versions are not secret; a CLI keeps them in its wallet folder.
/// </summary>
public interface IVaultVersionMemory
{
    /// <summary>The highest version seen for <paramref name="secretId"/>, 0 if none.</summary>
    long LastSeen(string secretId);

    /// <summary>Records <paramref name="version"/> if it is higher than what was seen (never lowers it).</summary>
    void Saw(string secretId, long version);
}

/// <summary>An <see cref="IVaultVersionMemory"/> for the life of the process.</summary>
public sealed class InMemoryVaultVersions : IVaultVersionMemory
{
    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);

    public long LastSeen(string secretId) => _seen.GetValueOrDefault(secretId);

    public void Saw(string secretId, long version) => _seen.AddOrUpdate(secretId, version, (_, old) => Math.Max(old, version));
}

/// <summary>What the vault found wrong with the server's answer.</summary>
public enum VaultTamperKind
{
    /// <summary>The server answered a version older than one this wallet already saw.</summary>
    Rollback,

    /// <summary>The ciphertext does not open under the vault key with its id and version (altered, moved, or another PIN's).</summary>
    Integrity,
}

/// <summary>The server's vault answer is not trustworthy: rolled back or altered. Never carries plaintext or keys.</summary>
public sealed class VaultTamperException : Exception
{
    public VaultTamperException()
    {
    }

    public VaultTamperException(string message) : base(message)
    {
    }

    public VaultTamperException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public VaultTamperException(VaultTamperKind kind, string secretId, string message) : base(message)
    {
        Kind = kind;
        SecretId = secretId;
    }

    public VaultTamperException(VaultTamperKind kind, string secretId, string message, Exception innerException) : base(message, innerException)
    {
        Kind = kind;
        SecretId = secretId;
    }

    public VaultTamperKind Kind { get; }

    public string? SecretId { get; }
}

/// <summary>A secret read back and decrypted. Dispose it to zero the plaintext.</summary>
public sealed class VaultSecret(string secretId, long version, byte[] plaintext, DateTimeOffset storedAt) : IDisposable
{
    public string SecretId { get; } = secretId;

    public long Version { get; } = version;

    /// <summary>The plaintext (owned: zeroed on <see cref="Dispose"/>).</summary>
    public byte[] Plaintext { get; } = plaintext;

    public DateTimeOffset StoredAt { get; } = storedAt;

    public void Dispose() => CryptographicOperations.ZeroMemory(Plaintext);
}

/// <summary>
/// The secret vault of PROTOCOL.md 4 in one login session. Encrypts on the device before anything is sent: AES-256-GCM
/// under HKDF-SHA256(salt empty, IKM export_key, info "R2PS-VAULT-KEY-v1", 32), 12-byte random IV, AAD
/// <c>secret_id|version</c>; the server only ever holds IV ‖ ct ‖ tag (and seals that once more in its HSM). Remembers
/// the last version seen per id and refuses an older one from the server (<see cref="VaultTamperException"/>).
/// Obtain it from <see cref="SignSession.Vault"/>; it lives as long as the session.
/// </summary>
public sealed partial class SecretVault
{
    private const int IvSize = 12;
    private const int TagSize = 16;

    /// <summary>Largest plaintext that fits the spec's 16 KiB ciphertext.</summary>
    public const int MaxPlaintextBytes = VaultRules.DefaultMaxCiphertextBytes - IvSize - TagSize;

    private readonly SignSession _session;
    private readonly byte[] _vaultKey;

    internal SecretVault(SignSession session, byte[] vaultKey, IVaultVersionMemory versions)
    {
        _session = session;
        _vaultKey = vaultKey;
        Versions = versions;
    }

    /// <summary>The versions this vault has seen.</summary>
    public IVaultVersionMemory Versions { get; }

    /// <summary>How many times <see cref="PutAsync"/> re-reads and retries after losing a race to another writer.</summary>
    public int MaxRaceRetries { get; init; } = 3;

    /// <summary>The vault key from the OPAQUE export key (PROTOCOL.md 4). The caller owns (and zeroes) the result.</summary>
    public static byte[] DeriveVaultKey(ReadOnlySpan<byte> exportKey)
    {
        var key = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, exportKey, key, salt: [], info: Encoding.ASCII.GetBytes(VaultRules.VaultKeyInfo));
        return key;
    }

    /// <summary>
    /// Stores <paramref name="plaintext"/> as the next version of <paramref name="secretId"/>: the version after the last
    /// one seen. If another writer got there first (ILLEGAL_STATE), the current version is re-read (refusing one older
    /// than seen) and the store is tried again above it, at most <see cref="MaxRaceRetries"/> times. Returns the stored version.
    /// </summary>
    public async Task<long> PutAsync(string secretId, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken = default)
    {
        CheckId(secretId);
        var version = Versions.LastSeen(secretId) + 1;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await StoreVersionAsync(secretId, version, plaintext, cancellationToken).ConfigureAwait(false);
            }
            catch (R2psClientException ex) when (ex.Code == ErrorCode.IllegalState && attempt < MaxRaceRetries)
            {
                version = await CurrentVersionAsync(secretId, ex.Message, cancellationToken).ConfigureAwait(false) + 1;
            }
        }
    }

    /// <summary>
    /// Stores exactly <paramref name="version"/> (no retry): <see cref="R2psClientException"/> ILLEGAL_STATE when it is not
    /// the server's version + 1, for callers that merge concurrent changes themselves.
    /// </summary>
    public async Task<long> StoreVersionAsync(string secretId, long version, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken = default)
    {
        CheckId(secretId);
        if (plaintext.Length > MaxPlaintextBytes)
            throw new ArgumentException($"A vault secret holds at most {MaxPlaintextBytes} bytes.", nameof(plaintext));
        var ciphertext = Encrypt(secretId, version, plaintext.Span);
        var reply = await _session.SendAsync(ServiceTypes.SecretStore,
            EnvelopeJson.Serialize(new SecretStoreRequest(secretId, version, Base64Std.Encode(ciphertext))), cancellationToken).ConfigureAwait(false);
        var stored = Read<SecretStoreResponse>(reply, "secret_store response");
        if (!string.Equals(stored.SecretId, secretId, StringComparison.Ordinal) || stored.Version != version)
            throw new ClientEnvelopeException("The secret_store response names another secret or version.");
        Versions.Saw(secretId, version);
        return version;
    }

    /// <summary>
    /// Reads and decrypts the secret. <see cref="VaultTamperException"/> if the server answers a version older than one
    /// seen (rollback) or a ciphertext that does not open for this id and version.
    /// </summary>
    public async Task<VaultSecret> GetAsync(string secretId, CancellationToken cancellationToken = default)
    {
        CheckId(secretId);
        var reply = await _session.SendAsync(ServiceTypes.SecretRetrieve, EnvelopeJson.Serialize(new SecretIdRequest(secretId)), cancellationToken).ConfigureAwait(false);
        var read = Read<SecretRetrieveResponse>(reply, "secret_retrieve response");
        if (!string.Equals(read.SecretId, secretId, StringComparison.Ordinal))
            throw new ClientEnvelopeException("The secret_retrieve response names another secret.");
        CheckNotRolledBack(secretId, read.Version);
        if (!Base64Std.TryDecode(read.Ciphertext, out var ciphertext))
            throw new ClientEnvelopeException("The secret_retrieve ciphertext is not base64.");
        var plaintext = Decrypt(secretId, read.Version, ciphertext);
        Versions.Saw(secretId, read.Version);
        return new VaultSecret(secretId, read.Version, plaintext, DateTimeOffset.FromUnixTimeSeconds(read.StoredAt));
    }

    /// <summary>The stored secrets (ids, versions, sizes); a listed version older than one seen is a rollback.</summary>
    public async Task<IReadOnlyList<SecretInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var reply = await _session.SendAsync(ServiceTypes.SecretList, "{}"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        var list = Read<SecretListResponse>(reply, "secret_list response").Secrets;
        foreach (var secret in list)
        {
            CheckNotRolledBack(secret.SecretId, secret.Version);
            Versions.Saw(secret.SecretId, secret.Version);
        }
        return list;
    }

    /// <summary>Deletes the secret; the server keeps its version counter, so a re-created id continues above it.</summary>
    public async Task DeleteAsync(string secretId, CancellationToken cancellationToken = default)
    {
        CheckId(secretId);
        R2psWallet.ExpectOk(await _session.SendAsync(ServiceTypes.SecretDelete, EnvelopeJson.Serialize(new SecretIdRequest(secretId)), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>This key's audit trail, newest first (<c>audit_log</c>).</summary>
    public async Task<IReadOnlyList<AuditEvent>> AuditAsync(DateTimeOffset? since = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        var reply = await _session.SendAsync(ServiceTypes.AuditLog,
            EnvelopeJson.Serialize(new AuditLogRequest(since?.ToUnixTimeSeconds(), limit)), cancellationToken).ConfigureAwait(false);
        return Read<AuditLogResponse>(reply, "audit_log response").Events;
    }

    /// <summary>The wallet layer: IV ‖ AES-256-GCM(vault key, AAD secret_id|version) ‖ tag.</summary>
    internal byte[] Encrypt(string secretId, long version, ReadOnlySpan<byte> plaintext)
    {
        var output = new byte[IvSize + plaintext.Length + TagSize];
        RandomNumberGenerator.Fill(output.AsSpan(0, IvSize));
        using var aes = new AesGcm(_vaultKey, TagSize);
        aes.Encrypt(output.AsSpan(0, IvSize), plaintext, output.AsSpan(IvSize, plaintext.Length), output.AsSpan(IvSize + plaintext.Length), VaultRules.ClientAad(secretId, version));
        return output;
    }

    private byte[] Decrypt(string secretId, long version, byte[] ciphertext)
    {
        if (ciphertext.Length < IvSize + TagSize)
            throw new VaultTamperException(VaultTamperKind.Integrity, secretId, $"The stored secret {secretId} is too short to be a vault ciphertext.");
        var plaintext = new byte[ciphertext.Length - IvSize - TagSize];
        try
        {
            using var aes = new AesGcm(_vaultKey, TagSize);
            aes.Decrypt(ciphertext.AsSpan(0, IvSize), ciphertext.AsSpan(IvSize, plaintext.Length), ciphertext.AsSpan(IvSize + plaintext.Length), plaintext, VaultRules.ClientAad(secretId, version));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException ex)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw new VaultTamperException(VaultTamperKind.Integrity, secretId, $"The stored secret {secretId} version {version} does not open under this vault key (altered, moved, or stored under another PIN).", ex);
        }
    }

    private void CheckNotRolledBack(string secretId, long version)
    {
        var seen = Versions.LastSeen(secretId);
        if (version < seen)
            throw new VaultTamperException(VaultTamperKind.Rollback, secretId, string.Create(CultureInfo.InvariantCulture,
                $"The server answered version {version} of {secretId}, older than version {seen} seen before: rolled back."));
    }

    /// <summary>After a lost race: the server's current version, re-read (and checked against rollback).</summary>
    private async Task<long> CurrentVersionAsync(string secretId, string conflictMessage, CancellationToken cancellationToken)
    {
        var listed = (await ListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(s => string.Equals(s.SecretId, secretId, StringComparison.Ordinal));
        long current;
        if (listed is not null)
            current = listed.Version;
        else
        {
            // A deleted id is not listed, yet keeps its counter: the refusal names it.
            var match = StoredVersionPattern().Match(conflictMessage);
            if (!match.Success || !long.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out current))
                throw new ClientEnvelopeException("The service refused the version but named no current version.");
            CheckNotRolledBack(secretId, current);
        }
        Versions.Saw(secretId, current);
        return current;
    }

    [GeneratedRegex(@"stored version is (\d{1,18})", RegexOptions.CultureInvariant)]
    private static partial Regex StoredVersionPattern();

    private static void CheckId(string secretId)
    {
        if (!VaultRules.IsSecretId(secretId))
            throw new ArgumentException($"A secret id is 1–{VaultRules.MaxSecretIdLength} characters of A-Z a-z 0-9 . _ -.", nameof(secretId));
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
