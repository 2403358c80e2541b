using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace R2ps.Tools.PostgreSql;

/// <summary>
/// A private PostgreSQL server for tests and local runs: <c>initdb</c> into a throw-away data directory, then
/// <c>postgres</c> on a free loopback port (no Unix socket, trust authentication on loopback only, durability off: the
/// data is thrown away). PostgreSQL refuses to run as root, so under root the server runs as an unprivileged user
/// (<c>postgres</c>, which the Debian package creates; <see cref="UserVariable"/> names another) through <c>runuser</c>.
/// The Debian package's own cluster is neither started nor used. Disposing stops the server and deletes the directory.
/// </summary>
public sealed class PostgreSqlNode : IAsyncDisposable
{
    /// <summary>Names the directory of <c>initdb</c>, <c>pg_ctl</c> and <c>postgres</c>.</summary>
    public const string BinVariable = "R2PS_POSTGRES_BIN";

    /// <summary>Names the unprivileged user the server runs as when this process is root (default <c>postgres</c>).</summary>
    public const string UserVariable = "R2PS_POSTGRES_USER";

    /// <summary>The database superuser the node is created with.</summary>
    public const string SuperUser = "r2ps";

    private const string DebianRoot = "/usr/lib/postgresql";
    private const int OutputLinesKept = 40;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(20);

    private readonly string _binDirectory;
    private readonly string _baseDirectory;
    private readonly string? _runAs;
    private readonly Queue<string> _output = new();
    private Process? _process;
    private int _databases;
    private bool _disposed;

    private PostgreSqlNode(string binDirectory, string baseDirectory, string? runAs)
    {
        _binDirectory = binDirectory;
        _baseDirectory = baseDirectory;
        _runAs = runAs;
        Port = FreeLoopbackPort();
    }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The data directory (inside a folder deleted on dispose).</summary>
    public string DataDirectory => Path.Combine(_baseDirectory, "data");

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>A connection string to <paramref name="database"/> on this server as <see cref="SuperUser"/>.</summary>
    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = SuperUser,
            Database = database,
            // Pooled, as in production (a connection per operation would cost a server process each), but idle
            // connections close soon: a test run opens pools on many databases and the server's slots are finite.
            Pooling = true,
            ConnectionIdleLifetime = 10,
            ConnectionPruningInterval = 5,
        }.ConnectionString;

    /// <summary>Finds the binaries, creates a cluster in a temporary directory and starts the server.</summary>
    /// <exception cref="PostgreSqlNodeException">PostgreSQL is not installed, no unprivileged user exists under root, or the server did not start.</exception>
    public static async Task<PostgreSqlNode> StartAsync(CancellationToken cancellationToken = default)
    {
        var binDirectory = FindBinDirectory();
        string? runAs = null;
        if (Environment.IsPrivilegedProcess)
        {
            runAs = Environment.GetEnvironmentVariable(UserVariable) is { Length: > 0 } user ? user : "postgres";
            if (!File.Exists("/usr/sbin/runuser") && !File.Exists("/sbin/runuser"))
            {
                throw new PostgreSqlNodeException("PostgreSQL refuses to run as root and runuser (util-linux) was not found.");
            }
        }

        // Under root, the unprivileged user creates the folder itself (in the sticky, world-writable temp directory),
        // so it owns the data directory without a chown; root can still delete it.
        var baseDirectory = runAs is null
            ? Directory.CreateTempSubdirectory("r2ps-postgres-").FullName
            : (await RunAsync("mktemp", ["-d", Path.Combine(Path.GetTempPath(), "r2ps-postgres-XXXXXXXX")], runAs, null,
                TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false)).Trim();

        var node = new PostgreSqlNode(binDirectory, baseDirectory, runAs);
        try
        {
            await node.InitializeAsync(cancellationToken).ConfigureAwait(false);
            await node.StartServerAsync(cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a new, empty database with a unique name (prefixed by <paramref name="prefix"/>) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "r2ps", CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var clean = new string(prefix.ToLowerInvariant().Where(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_').ToArray());
        var number = Interlocked.Increment(ref _databases).ToString(CultureInfo.InvariantCulture);
        var name = $"{(clean.Length == 0 ? "db" : clean[..Math.Min(clean.Length, 24)])}_{number}_{Guid.NewGuid():N}";
        var connection = new NpgsqlConnection(ConnectionString());
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
#pragma warning disable CA2100 // The name is made here of [a-z0-9_] only.
                command.CommandText = $"CREATE DATABASE \"{name}\"";
#pragma warning restore CA2100
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return ConnectionString(name);
    }

    /// <summary>Restarts the server on the same port and data (fast shutdown, down for <paramref name="down"/>, start): what a failover or a maintenance restart looks like to clients.</summary>
    public async Task RestartAsync(TimeSpan down, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await StopServerAsync().ConfigureAwait(false);
        _process?.Dispose();
        _process = null;
        await Task.Delay(down, cancellationToken).ConfigureAwait(false);
        await StartServerAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the server (fast shutdown, then a kill if it lingers) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await StopServerAsync().ConfigureAwait(false);
        }
        finally
        {
            _process?.Dispose();
            try
            {
                Directory.Delete(_baseDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Left to the temp cleaner.
            }
            catch (UnauthorizedAccessException)
            {
                // Left to the temp cleaner.
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"PostgreSQL on 127.0.0.1:{Port}";

    private static string FindBinDirectory()
    {
        static bool Complete(string directory) =>
            File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "postgres"))
            && File.Exists(Path.Combine(directory, "pg_ctl"));

        if (Environment.GetEnvironmentVariable(BinVariable) is { Length: > 0 } configured)
        {
            return Complete(configured)
                ? configured
                : throw new PostgreSqlNodeException($"{BinVariable} is '{configured}', which does not hold initdb, pg_ctl and postgres.");
        }

        // The newest major version the Debian packages installed.
        var candidates = Directory.Exists(DebianRoot)
            ? Directory.GetDirectories(DebianRoot)
                .Select(d => (Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1,
                    Bin: Path.Combine(d, "bin")))
                .Where(c => c.Version > 0 && Complete(c.Bin))
                .OrderByDescending(c => c.Version)
                .Select(c => c.Bin)
            : [];
        return candidates.FirstOrDefault()
            ?? throw new PostgreSqlNodeException(
                $"PostgreSQL was not found in {DebianRoot}/*/bin. Install it (Debian: apt-get install -y postgresql) "
                + $"or set {BinVariable} to the directory holding initdb, pg_ctl and postgres.");
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await RunAsync(Path.Combine(_binDirectory, "initdb"),
            ["-D", DataDirectory, "-U", SuperUser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            _runAs, _baseDirectory, StartTimeout, cancellationToken).ConfigureAwait(false);
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        var arguments = new List<string>
        {
            "-D", DataDirectory,
            "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",
            // Throw-away data: no flush to disk is worth its wait.
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=500",
        };
        var process = new Process { StartInfo = StartInfo(Path.Combine(_binDirectory, "postgres"), arguments, _runAs, _baseDirectory) };
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        try
        {
            while (true)
            {
                timeout.Token.ThrowIfCancellationRequested();
                if (process.HasExited)
                {
                    throw new PostgreSqlNodeException($"PostgreSQL exited with code {process.ExitCode} while starting.{Describe()}");
                }

                if (await AcceptsConnectionsAsync(timeout.Token).ConfigureAwait(false))
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PostgreSqlNodeException($"PostgreSQL did not start within {StartTimeout.TotalSeconds:0} s.{Describe()}");
        }
    }

    private async Task<bool> AcceptsConnectionsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = new NpgsqlConnection(ConnectionString());
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
        catch (NpgsqlException)
        {
            // Not listening yet, or still starting up ("the database system is starting up").
            return false;
        }
    }

    private async Task StopServerAsync()
    {
        var process = _process;
        if (process is null || process.HasExited)
        {
            return;
        }

        try
        {
            await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "15"],
                _runAs, _baseDirectory, StopTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (PostgreSqlNodeException)
        {
            // Fall through to the kill below.
        }

        using var wait = new CancellationTokenSource(StopTimeout);
        try
        {
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static ProcessStartInfo StartInfo(string program, IReadOnlyList<string> arguments, string? runAs, string? workingDirectory)
    {
        var startInfo = new ProcessStartInfo(runAs is null ? program : "runuser")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        if (runAs is not null)
        {
            foreach (var argument in (string[])["-u", runAs, "--", program])
            {
                startInfo.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The surrounding shell's PG* variables must not redirect the private server or its tools.
        foreach (var name in startInfo.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        startInfo.Environment["LC_ALL"] = "C";
        return startInfo;
    }

    private static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, string? runAs, string? workingDirectory,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var process = new Process { StartInfo = StartInfo(program, arguments, runAs, workingDirectory) };
        var output = new StringBuilder();
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PostgreSqlNodeException($"{Path.GetFileName(program)} could not be started: {e.Message}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new PostgreSqlNodeException($"{Path.GetFileName(program)} did not finish within {timeout.TotalSeconds:0} s.");
        }

        process.WaitForExit(); // flushes the asynchronous readers
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        if (process.ExitCode == 0)
        {
            return text;
        }

        string error;
        lock (errors)
        {
            error = errors.ToString().Trim();
        }

        throw new PostgreSqlNodeException($"{Path.GetFileName(program)} failed with code {process.ExitCode}"
            + (runAs is null ? "" : $" (run as '{runAs}'; set {UserVariable} to another unprivileged user)") + $": {error}");
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > OutputLinesKept)
            {
                _output.Dequeue();
            }
        }
    }

    private string Describe()
    {
        lock (_output)
        {
            return _output.Count == 0
                ? string.Empty
                : Environment.NewLine + "Server output (last lines):" + Environment.NewLine + string.Join(Environment.NewLine, _output);
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A private PostgreSQL server could not be found, created or started.</summary>
public sealed class PostgreSqlNodeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PostgreSqlNodeException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public PostgreSqlNodeException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public PostgreSqlNodeException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
