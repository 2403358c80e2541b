using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace R2ps.Tools.SoftHsm;

/// <summary>
/// The temporary folder of one run of a whole system on this machine (<c>r2ps bench e2e</c>, <c>r2ps faults</c>): random
/// user and SO PINs, the user PIN also in an owner-only file (what the worker processes and the BFF read), and SoftHSM2
/// tokens made on request under <c>hsm/</c>. The run's SQLite files live in <see cref="Directory"/> too. Disposing clears
/// SQLite's connection pools, so no pooled handle keeps a file open, and deletes the folder.
/// </summary>
internal sealed class ThrowAwaySoftHsm : IDisposable
{
    private readonly DirectoryInfo _directory;
    private readonly string _soPin;

    private ThrowAwaySoftHsm(DirectoryInfo directory, string userPin, string soPin)
    {
        _directory = directory;
        UserPin = userPin;
        _soPin = soPin;
        UserPinFile = Path.Combine(directory.FullName, "user-pin");
    }

    /// <summary>The folder; everything of the run is in it.</summary>
    public string Directory => _directory.FullName;

    /// <summary>The user PIN of every token made here.</summary>
    public string UserPin { get; }

    /// <summary>The file holding <see cref="UserPin"/>, readable by its owner only.</summary>
    public string UserPinFile { get; }

    /// <summary>A new temporary folder named <paramref name="prefix"/> and a random suffix, with fresh PINs and the PIN file written.</summary>
    public static async Task<ThrowAwaySoftHsm> CreateAsync(string prefix, CancellationToken cancellationToken)
    {
        var folder = new ThrowAwaySoftHsm(System.IO.Directory.CreateTempSubdirectory(prefix),
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        try
        {
            await File.WriteAllTextAsync(folder.UserPinFile, folder.UserPin, cancellationToken).ConfigureAwait(false);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder.UserPinFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return folder;
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>A SoftHSM2 token labelled <paramref name="label"/> in this folder's token store, with its PINs.</summary>
    public SoftHsmToken CreateToken(string label) => SoftHsmToken.Ensure(Path.Combine(Directory, "hsm"), label, _soPin, UserPin);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process; the temporary folder is cleaned eventually.
        }
    }
}
