using System.Security.Cryptography;
using R2ps.Hsm;
using R2ps.Tools.SoftHsm;

namespace R2ps.Cli.Hosting;

/// <summary>
/// The embedded defaults' data folder, shared by <c>r2ps demo</c> and <c>r2ps serve</c>: the SoftHSM2 token (with its
/// configuration and PINs) under <c>hsm/</c>, the HSM service's SQLite database <c>r2ps.db</c> (store and saga) and the
/// BFF's <c>bff.db</c>. Created when absent, reused when present.
/// </summary>
internal sealed class DataFolder
{
    public const string TokenLabel = "r2ps";
    public const string Context = "hsm";

    private DataFolder(string root, SoftHsmToken token, string userPinFile)
    {
        Root = root;
        Token = token;
        UserPinFile = userPinFile;
    }

    public string Root { get; }

    public SoftHsmToken Token { get; }

    /// <summary>The token's user PIN, in a file readable only by this user.</summary>
    public string UserPinFile { get; }

    public string StoreConnectionString => $"Data Source={Path.Combine(Root, "r2ps.db")}";

    public string BffConnectionString => $"Data Source={Path.Combine(Root, "bff.db")}";

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds the token and its PINs. Points SOFTHSM2_CONF of this process at the
    /// folder's token directory, so call it before anything in this process opens a PKCS#11 module.
    /// </summary>
    public static DataFolder Ensure(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var root = Directory.CreateDirectory(Path.GetFullPath(directory)).FullName;
        // Processes starting at once on a fresh folder (serve bff, saga and workers) take turns here: the first creates
        // the PINs and the token, the others find them.
        using var initialisation = FolderLock.Acquire(root);
        var hsm = Directory.CreateDirectory(Path.Combine(root, "hsm")).FullName;
        var pinFile = Path.Combine(hsm, "user-pin");
        var soPinFile = pinFile + ".so";
        if (!File.Exists(pinFile))
        {
            // The user PIN is written last: its presence means both are complete.
            FolderLock.WriteSecretAtomically(soPinFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
            FolderLock.WriteSecretAtomically(pinFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        }
        var token = SoftHsmToken.Ensure(hsm, TokenLabel, File.ReadAllText(soPinFile), File.ReadAllText(pinFile));
        return new DataFolder(root, token, pinFile);
    }

    /// <summary>The configuration that points a worker and a BFF at this folder (the lowest-priority source of <c>serve</c>).</summary>
    public Dictionary<string, string?> Settings() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Worker:Context"] = Context,
        ["Hsm:ModulePath"] = Token.ModulePath,
        ["Hsm:TokenLabel"] = Token.Label,
        ["Hsm:UserPinFile"] = UserPinFile,
        ["Store:ConnectionString"] = StoreConnectionString,
        ["SignSessions:ConnectionString"] = StoreConnectionString,
        ["Bff:ConnectionString"] = BffConnectionString,
    };

    /// <summary>
    /// The environment of a separate <c>R2ps.Worker</c> process on this folder (started in r2ps's own folder, so it reads
    /// r2ps's appsettings.json, which names no PIN source).
    /// </summary>
    public Dictionary<string, string> WorkerEnvironment() => new(StringComparer.Ordinal)
    {
        ["DOTNET_ENVIRONMENT"] = "Production",
        [SoftHsmToken.ConfigurationVariable] = Token.ConfigurationPath,
        ["Hsm__UserPinFile"] = UserPinFile,
        ["Hsm__ModulePath"] = Token.ModulePath,
        ["Hsm__TokenLabel"] = Token.Label,
        ["Store__ConnectionString"] = StoreConnectionString,
        ["SignSessions__ConnectionString"] = StoreConnectionString,
        ["Worker__Context"] = Context,
    };

    /// <summary>
    /// Creates the service's server key and sealing key now, so that several worker processes starting at once find them
    /// instead of each creating its own.
    /// </summary>
    public async Task ProvisionServiceKeysAsync(CancellationToken cancellationToken)
    {
        // Under the folder's lock: two workers starting at once must not both find no key and both create one.
        using var initialisation = FolderLock.Acquire(Root);
        var defaults = new HsmOptions();
        using var connection = HsmConnection.Open(Token.CreateOptions(File.ReadAllText(UserPinFile), sessionPoolSize: 1));
        await HsmServiceKeys.GetOrCreateSealingKeyAsync(connection, defaults.SealingKeyLabel, cancellationToken).ConfigureAwait(false);
        await HsmServiceKeys.GetOrCreateServerKeyAsync(connection, defaults.ServerKeyLabel, cancellationToken).ConfigureAwait(false);
    }
}
