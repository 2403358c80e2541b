using System.Text.Json;
using R2ps.Wallet;

namespace R2ps.Cli.WalletState;

/// <summary>
/// The vault's memory of versions between CLI commands: <c>vault-versions.json</c> in the wallet folder, id → the
/// highest version seen (PROTOCOL.md 4: the evidence against a rolled-back server). Not secret; written after every
/// change, through a temporary file so a crash never leaves it half-written.
/// </summary>
internal sealed class VaultVersionFile : IVaultVersionMemory
{
    private const string FileName = "vault-versions.json";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly string _path;
    private readonly Dictionary<string, long> _seen;
    private readonly object _gate = new();

    public VaultVersionFile(string walletRoot)
    {
        _path = Path.Combine(walletRoot, FileName);
        _seen = File.Exists(_path)
            ? JsonSerializer.Deserialize<Dictionary<string, long>>(File.ReadAllBytes(_path)) ?? []
            : [];
    }

    public long LastSeen(string secretId)
    {
        lock (_gate) return _seen.GetValueOrDefault(secretId);
    }

    public void Saw(string secretId, long version)
    {
        lock (_gate)
        {
            if (_seen.GetValueOrDefault(secretId) >= version) return;
            _seen[secretId] = version;
            var temporary = _path + ".tmp";
            File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(_seen, Indented));
            File.Move(temporary, _path, overwrite: true);
        }
    }
}
