using System.Runtime.InteropServices;

namespace R2ps.Store;

/// <summary>
/// An exclusive <c>flock(2)</c> on a lock file, for the processes that share one SQLite file. A process that finds it
/// held sleeps in the kernel and is woken the moment the holder lets go, where SQLite's own busy handler sleeps 1, 2,
/// 5, 10 … 100 ms between tries whatever the holder does (issue 9: about 90 such sleeps a second with two workers on
/// one file). It is advisory and sits in front of SQLite's lock, never instead of it: a writer that does not take it is
/// still kept out by SQLite. The descriptor is the process's own, opened through libc: .NET's file APIs take a
/// <c>flock</c> of their own on open to emulate <see cref="FileShare"/>, and a shared lock held by every process for its
/// lifetime would block every exclusive one forever.
/// </summary>
internal sealed partial class FileWriteLock : IDisposable
{
    private const int LockExclusive = 2, LockNonBlocking = 4, LockRelease = 8;
    private const int OpenReadWrite = 2, OpenCreate = 0x40, OpenCloseOnExec = 0x80000, OpenReadOnly = 0;
    private const int Interrupted = 4; // EINTR: a signal woke the wait; wait again

    private readonly int _fd;
    private int _disposed;

    private FileWriteLock(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens (creating when absent) the lock file; null where there is no <c>flock</c> (not Linux) or the file cannot be
    /// opened — the writers then meet at SQLite's lock alone, as before.
    /// </summary>
    public static FileWriteLock? TryOpen(string path)
    {
        if (!OperatingSystem.IsLinux()) return null; // the open flags below are Linux's values
        try
        {
            // flock needs no write access: a folder shared with another user's process may give this one read only.
            var fd = Open(path, OpenReadWrite | OpenCreate | OpenCloseOnExec, 0b110_100_100);
            if (fd < 0) fd = Open(path, OpenReadOnly | OpenCloseOnExec, 0);
            return fd < 0 ? null : new FileWriteLock(path, fd);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null; // a libc without these: the writers meet at SQLite's lock alone, never fail for want of this one
        }
    }

    /// <summary>Takes the lock if no process holds it; false when one does.</summary>
    public bool TryTake() => Flock(LockExclusive | LockNonBlocking) == 0;

    /// <summary>Waits, blocking the calling thread, until the lock is this process's.</summary>
    /// <exception cref="IOException">flock failed for another reason than a held lock.</exception>
    public void Take()
    {
        if (Flock(LockExclusive) != 0)
            throw new IOException($"flock on {Path} failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <summary>Lets the lock go.</summary>
    public void Release() => Flock(LockRelease);

    private int Flock(int operation)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int result;
        do result = NativeFlock(_fd, operation);
        while (result != 0 && Marshal.GetLastPInvokeError() == Interrupted);
        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) NativeClose(_fd); // closing releases a lock still held
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int NativeFlock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int NativeClose(int fd);
}
