namespace R2ps.Tools.SoftHsm;

/// <summary>
/// An exclusive operating-system lock on a file in a folder, held while a process checks for and creates what the folder
/// should hold (PIN files, a token), so that processes or threads starting at once on a fresh folder do not each create
/// their own. The lock is the open handle itself (FileShare.None: flock on Unix, a share mode on Windows), so a process
/// that dies releases it.
/// </summary>
public sealed class FolderLock : IDisposable
{
    public const string FileName = ".r2ps-init.lock";

    /// <summary>How long <see cref="Acquire"/> waits by default: longer than any first start takes on a loaded machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    private readonly FileStream _stream;

    private FolderLock(FileStream stream) => _stream = stream;

    /// <summary>
    /// Takes the lock of <paramref name="directory"/> (creating the directory and its lock file as needed), retrying while
    /// another holder has it, for at most <paramref name="timeout"/>.
    /// </summary>
    /// <exception cref="TimeoutException">Another process kept the lock for the whole wait.</exception>
    public static FolderLock Acquire(string directory, TimeSpan? timeout = null)
    {
        var path = Path.Combine(Directory.CreateDirectory(directory).FullName, FileName);
        var wait = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + wait;
        var delay = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            try
            {
                return new FolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Held by another process or thread: back off a little more each time, up to a quarter second.
                Thread.Sleep(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
            }
            catch (IOException e)
            {
                throw new TimeoutException(
                    $"Could not lock '{path}' within {wait.TotalSeconds:0} s: another process is initialising this folder (or hangs while holding it).", e);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> readable and writable by this user only, through a
    /// temporary file renamed into place, so a reader sees either no file or the whole of it, never an empty one.
    /// </summary>
    public static void WriteSecretAtomically(string path, string content)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var stream = new FileStream(temporary, options))
            using (var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            {
                writer.Write(content);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public void Dispose() => _stream.Dispose();
}
