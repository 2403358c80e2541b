using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Wallet;

namespace R2ps.Cli.WalletState;

/// <summary>What <c>wallet.json</c> holds: the device's ids and, after the first contact, the pinned BFF and server keys.</summary>
internal sealed record WalletIdentity(
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("kid")] string Kid,
    [property: JsonPropertyName("bff_key")] string? BffKey = null,
    [property: JsonPropertyName("server_key")] string? ServerKey = null,
    [property: JsonPropertyName("bff_url")] string? BffUrl = null);

/// <summary>What <c>session.json</c> holds: the current sign session (its key in the clear, see <see cref="WalletFolder"/>).</summary>
internal sealed record StoredSession(
    [property: JsonPropertyName("pake_session_id")] string PakeSessionId,
    [property: JsonPropertyName("session_key")] string SessionKey,
    [property: JsonPropertyName("expires_at")] long ExpiresAt);

/// <summary>
/// The CLI wallet's state in a folder: <c>wallet.json</c> (ids and pinned keys), <c>device-key.p8</c> (the device key,
/// PKCS#8 DER) and <c>session.json</c> (the current sign session's id and 32-byte key). The two secret files are created
/// with mode 0600 — never world-readable, not even for a moment — and the folder is 0700. They are NOT sealed: a sealing
/// key would have to live in this same folder (there is no OS keystore or user secret to derive one from here), so it
/// would stop no one who can read the folder; file permissions are the real protection. The session key is short-lived
/// (the session's TTL) and <c>wallet close</c> deletes it.
/// </summary>
internal sealed class WalletFolder
{
    private const string IdentityFile = "wallet.json";
    private const string DeviceKeyFile = "device-key.p8";
    private const string SessionFile = "session.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public WalletFolder(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Root = Path.GetFullPath(directory);
    }

    public string Root { get; }

    public bool Exists => File.Exists(Path.Combine(Root, IdentityFile)) && File.Exists(Path.Combine(Root, DeviceKeyFile));

    /// <summary>Creates a new P-256 device key and the identity; refuses to overwrite an existing wallet.</summary>
    public WalletIdentity Initialize(string clientId)
    {
        if (Exists)
            throw new InvalidOperationException($"A wallet already exists in {Root}; use another --wallet folder.");
        var directory = Directory.CreateDirectory(Root);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(directory.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = key.ExportPkcs8PrivateKey();
        try
        {
            WriteSecret(DeviceKeyFile, pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
        using var device = SoftwareEcKey.FromDotNet(key);
        var identity = new WalletIdentity(clientId, Base64Std.Encode(device.PublicKey.ToCompressed()));
        SaveIdentity(identity);
        return identity;
    }

    public WalletIdentity LoadIdentity()
    {
        if (!Exists)
            throw new InvalidOperationException($"No wallet in {Root}; run 'r2ps wallet init' first.");
        return JsonSerializer.Deserialize<WalletIdentity>(File.ReadAllBytes(Path.Combine(Root, IdentityFile)), Json)
            ?? throw new InvalidDataException($"{IdentityFile} is empty.");
    }

    public void SaveIdentity(WalletIdentity identity) =>
        File.WriteAllBytes(Path.Combine(Root, IdentityFile), JsonSerializer.SerializeToUtf8Bytes(identity, Json));

    /// <summary>The device (owns its key: dispose it).</summary>
    public R2psDevice OpenDevice(WalletIdentity identity)
    {
        var pkcs8 = File.ReadAllBytes(Path.Combine(Root, DeviceKeyFile));
        try
        {
            using var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            return new R2psDevice(identity.ClientId, identity.Kid, SoftwareEcKey.FromDotNet(key));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    public StoredSession? LoadSession()
    {
        var path = Path.Combine(Root, SessionFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<StoredSession>(File.ReadAllBytes(path), Json) : null;
    }

    public void SaveSession(SignSession session)
    {
        var key = session.ExportSessionKey();
        try
        {
            WriteSecret(SessionFile, JsonSerializer.SerializeToUtf8Bytes(
                new StoredSession(session.PakeSessionId, Base64Std.Encode(key), session.ExpiresAt.ToUnixTimeSeconds()), Json));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public void DeleteSession() => File.Delete(Path.Combine(Root, SessionFile));

    // Created 0600 from the start (no window in which another user could open it); replaced, never appended.
    private void WriteSecret(string name, ReadOnlySpan<byte> content)
    {
        var path = Path.Combine(Root, name);
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(content);
    }
}
