using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace R2ps.Tools.RabbitMq;

/// <summary>
/// A RabbitMQ broker for tests and local runs (<c>r2ps bench e2e</c>). If <c>R2PS_RABBITMQ_URI</c> is set (and
/// <see cref="RabbitMqNodeOptions.RequirePrivateNode"/> is not), that broker is used as it is. Otherwise a private
/// <c>rabbitmq-server</c> node (Debian package) is started on free loopback ports, with its own node name, its own HOME
/// (so its own Erlang cookie), its own database and log directories under a temporary folder, and no plugins unless the
/// management plugin is asked for. A private node can be stopped and started again (same ports, same data) to test
/// "broker down" and recovery; disposing stops it and deletes its folder.
/// </summary>
public sealed class RabbitMqNode : IAsyncDisposable
{
    /// <summary>Names an external broker, e.g. <c>amqp://guest:guest@127.0.0.1:5672/</c>.</summary>
    public const string UriVariable = "R2PS_RABBITMQ_URI";

    /// <summary>Names the directory of <c>rabbitmq-server</c> and <c>rabbitmqctl</c>.</summary>
    public const string BinVariable = "R2PS_RABBITMQ_BIN";

    private const string DefaultBinDirectory = "/usr/lib/rabbitmq/bin";
    private const int OutputLinesKept = 40;

    private readonly RabbitMqNodeOptions _options;
    private readonly string? _binDirectory;
    private readonly string? _baseDirectory;
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);
    private readonly Queue<string> _output = new();
    private Process? _process;
    private bool _disposed;

    private RabbitMqNode(Uri externalUri, RabbitMqNodeOptions options)
    {
        _options = options;
        AmqpUri = externalUri;
        IsExternal = true;
    }

    private RabbitMqNode(RabbitMqNodeOptions options, string binDirectory)
    {
        _options = options;
        _binDirectory = binDirectory;
        _baseDirectory = Directory.CreateTempSubdirectory("r2ps-rabbitmq-").FullName;
        NodeName = $"{options.NodeNamePrefix}-{Guid.NewGuid():N}"[..(options.NodeNamePrefix.Length + 13)] + "@localhost";
        AmqpPort = FreeLoopbackPort();
        var distributionPort = FreeLoopbackPort();
        ManagementPort = options.EnableManagement ? FreeLoopbackPort() : null;
        AmqpUri = new Uri(string.Create(CultureInfo.InvariantCulture, $"amqp://guest:guest@127.0.0.1:{AmqpPort}/"));

        var home = Directory.CreateDirectory(Path.Combine(_baseDirectory, "home")).FullName;
        var logs = Directory.CreateDirectory(Path.Combine(_baseDirectory, "log")).FullName;
        var mnesia = Directory.CreateDirectory(Path.Combine(_baseDirectory, "mnesia")).FullName;
        var plugins = Path.Combine(_baseDirectory, "enabled_plugins");
        File.WriteAllText(plugins, options.EnableManagement ? "[rabbitmq_management]." : "[].");
        var config = Path.Combine(_baseDirectory, "rabbitmq.conf");
        var configText = new StringBuilder()
            .AppendLine("log.console = false");
        if (ManagementPort is { } management)
        {
            configText.AppendLine(CultureInfo.InvariantCulture, $"management.tcp.ip = 127.0.0.1")
                .AppendLine(CultureInfo.InvariantCulture, $"management.tcp.port = {management}");
        }

        File.WriteAllText(config, configText.ToString());

        _environment["HOME"] = home;
        _environment["RABBITMQ_NODENAME"] = NodeName;
        _environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        _environment["RABBITMQ_NODE_PORT"] = AmqpPort.Value.ToString(CultureInfo.InvariantCulture);
        _environment["RABBITMQ_DIST_PORT"] = distributionPort.ToString(CultureInfo.InvariantCulture);
        _environment["RABBITMQ_MNESIA_BASE"] = mnesia;
        _environment["RABBITMQ_LOG_BASE"] = logs;
        _environment["RABBITMQ_LOGS"] = Path.Combine(logs, "node.log");
        _environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = plugins;
        _environment["RABBITMQ_CONFIG_FILE"] = config;
        // Files that do not exist: the system's /etc/rabbitmq settings must not leak into a private node.
        _environment["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(_baseDirectory, "rabbitmq-env.conf");
        _environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(_baseDirectory, "advanced.config");
        _environment["RABBITMQ_PID_FILE"] = Path.Combine(_baseDirectory, "node.pid");
    }

    /// <summary>The broker to connect to, e.g. <c>amqp://guest:guest@127.0.0.1:40123/</c>.</summary>
    public Uri AmqpUri { get; }

    /// <summary>True when the broker came from <c>R2PS_RABBITMQ_URI</c>: it cannot be stopped or restarted here.</summary>
    public bool IsExternal { get; }

    /// <summary>The private node's Erlang node name, or null for an external broker.</summary>
    public string? NodeName { get; }

    /// <summary>The private node's AMQP port, or null for an external broker.</summary>
    public int? AmqpPort { get; }

    /// <summary>The management HTTP port when the plugin was asked for, else null.</summary>
    public int? ManagementPort { get; }

    /// <summary>Whether the private node's process is running (true for an external broker).</summary>
    public bool IsRunning => IsExternal || _process is { HasExited: false };

    /// <summary>Gets a broker: the external one if <c>R2PS_RABBITMQ_URI</c> is set, else a freshly started private node.</summary>
    /// <exception cref="RabbitMqNodeException">The server is not installed, or the node did not start in time.</exception>
    public static async Task<RabbitMqNode> StartAsync(RabbitMqNodeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RabbitMqNodeOptions();
        var external = Environment.GetEnvironmentVariable(UriVariable);
        if (!options.RequirePrivateNode && !string.IsNullOrWhiteSpace(external))
        {
            if (!Uri.TryCreate(external, UriKind.Absolute, out var uri) || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
            {
                throw new RabbitMqNodeException($"{UriVariable} must be an amqp:// or amqps:// URI.");
            }

            return new RabbitMqNode(uri, options);
        }

        var binDirectory = options.BinDirectory ?? Environment.GetEnvironmentVariable(BinVariable) ?? DefaultBinDirectory;
        if (!File.Exists(Path.Combine(binDirectory, "rabbitmq-server")) || !File.Exists(Path.Combine(binDirectory, "rabbitmqctl")))
        {
            throw new RabbitMqNodeException(
                $"rabbitmq-server was not found in '{binDirectory}'. Install it (Debian: apt-get install -y rabbitmq-server), "
                + $"set {BinVariable} to the directory holding rabbitmq-server and rabbitmqctl, or set {UriVariable} to a running broker.");
        }

        var node = new RabbitMqNode(options, binDirectory);
        try
        {
            await node.StartNodeAsync(cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts the private node again after <see cref="StopNodeAsync"/>: same name, ports and data.</summary>
    public Task StartNodeAsync(CancellationToken cancellationToken = default)
    {
        RequirePrivate();
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("The RabbitMQ node is already running.");
        }

        return StartProcessAsync(cancellationToken);
    }

    /// <summary>Stops the whole private node (<c>rabbitmqctl stop</c>, then a kill if it lingers). Connections drop; the port closes.</summary>
    public async Task StopNodeAsync(CancellationToken cancellationToken = default)
    {
        RequirePrivate();
        var process = _process;
        if (process is null || process.HasExited)
        {
            return;
        }

        try
        {
            await RunCtlAsync(["stop"], _options.StopTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (RabbitMqNodeException)
        {
            // Fall through to the kill below.
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(_options.StopTimeout);
        try
        {
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Stops and starts the private node (same ports and data): what a broker restart looks like to clients.</summary>
    public async Task RestartNodeAsync(CancellationToken cancellationToken = default)
    {
        await StopNodeAsync(cancellationToken).ConfigureAwait(false);
        await StartNodeAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops the broker application but keeps the Erlang node (<c>rabbitmqctl stop_app</c>): connections drop and the
    /// AMQP port refuses connections until <see cref="StartBrokerAsync"/>. Faster than a node restart.
    /// </summary>
    public async Task StopBrokerAsync(CancellationToken cancellationToken = default)
    {
        RequirePrivate();
        // The start timeout, not the stop one: StopTimeout is the grace before a kill, and stop_app has no kill to fall back
        // on. A fresh-clone CI run on a loaded machine saw stop_app take more than 15 s (issue 10 item 10).
        await RunCtlAsync(["stop_app"], _options.StartTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts the broker application again after <see cref="StopBrokerAsync"/> and waits until it accepts connections.</summary>
    public async Task StartBrokerAsync(CancellationToken cancellationToken = default)
    {
        RequirePrivate();
        await RunCtlAsync(["start_app"], _options.StartTimeout, cancellationToken).ConfigureAwait(false);
        await WaitForPortAsync(AmqpPort!.Value, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until each of <paramref name="queues"/> has at least <paramref name="consumers"/> consumers: after a start or
    /// an outage each client's endpoints (re)connect on their own schedule, and a request answered by one worker says
    /// nothing of the other's.
    /// </summary>
    /// <exception cref="TimeoutException">Not reached within <paramref name="timeout"/>; the message has the last listing.</exception>
    public async Task WaitForConsumersAsync(IReadOnlyCollection<string> queues, int consumers, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queues);
        RequirePrivate();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var listing = await RunCtlAsync(["list_queues", "name", "consumers", "--quiet", "--no-table-headers"], _options.StartTimeout,
                cancellationToken).ConfigureAwait(false);
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var line in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = line.Split('\t', StringSplitOptions.TrimEntries);
                if (parts.Length == 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                    counts[parts[0]] = count;
            }

            if (queues.All(q => counts.GetValueOrDefault(q) >= consumers))
                return;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"After {timeout.TotalSeconds:0} s not every queue of [{string.Join(", ", queues)}] has {consumers} consumers: {listing.Trim()}");
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <c>rabbitmqctl</c> against the private node (e.g. <c>list_queues</c>) and returns its output.</summary>
    public Task<string> RunCtlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        RequirePrivate();
        return RunCtlAsync(arguments, _options.StartTimeout, cancellationToken);
    }

    /// <summary>Stops a private node and deletes its folder; does nothing to an external broker.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (IsExternal)
        {
            return;
        }

        try
        {
            await StopNodeAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _process?.Dispose();
            TryDeleteDirectory(_baseDirectory!);
        }
    }

    /// <inheritdoc />
    public override string ToString() => IsExternal ? $"external broker {AmqpUri.Host}:{AmqpUri.Port}" : $"{NodeName} on {AmqpUri}";

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        lock (_output)
        {
            _output.Clear();
        }

        var startInfo = CreateStartInfo("rabbitmq-server", []);
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        if (!process.Start())
        {
            process.Dispose();
            throw new RabbitMqNodeException("rabbitmq-server could not be started.");
        }

        _process?.Dispose();
        _process = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StartTimeout);
        try
        {
            // Polling the port is cheap; rabbitmqctl starts an Erlang VM of its own, so it runs once, at the end.
            await WaitForPortAsync(AmqpPort!.Value, timeout.Token).ConfigureAwait(false);
            var seconds = Math.Max(1, (int)_options.StartTimeout.TotalSeconds);
            await RunCtlAsync(["await_startup", "--timeout", seconds.ToString(CultureInfo.InvariantCulture)],
                _options.StartTimeout, timeout.Token).ConfigureAwait(false);
            if (ManagementPort is { } management)
            {
                await WaitForPortAsync(management, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            KillQuietly(process);
            throw new RabbitMqNodeException(
                $"The RabbitMQ node {NodeName} did not start within {_options.StartTimeout.TotalSeconds:0} s.{Describe()}");
        }
        catch (RabbitMqNodeException)
        {
            KillQuietly(process);
            throw;
        }
    }

    private async Task WaitForPortAsync(int port, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process is { HasExited: true } exited)
            {
                throw new RabbitMqNodeException(
                    $"The RabbitMQ node {NodeName} exited with code {exited.ExitCode} while starting.{Describe()}");
            }

            using (var client = new TcpClient())
            {
                try
                {
                    await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (SocketException)
                {
                    // Not listening yet.
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> RunCtlAsync(IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var startInfo = CreateStartInfo("rabbitmqctl", ["-n", NodeName!, .. arguments]);
        using var process = new Process { StartInfo = startInfo };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
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
            KillQuietly(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new RabbitMqNodeException($"rabbitmqctl {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0} s.");
        }

        process.WaitForExit(); // flushes the asynchronous output readers
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        return process.ExitCode == 0
            ? text
            : throw new RabbitMqNodeException(
                $"rabbitmqctl {string.Join(' ', arguments)} failed with code {process.ExitCode}: {text.Trim()}");
    }

    private ProcessStartInfo CreateStartInfo(string script, IReadOnlyList<string> arguments)
    {
        var startInfo = new ProcessStartInfo(Path.Combine(_binDirectory!, script))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            WorkingDirectory = _baseDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Only our settings: a RABBITMQ_* variable of the surrounding shell must not redirect the private node.
        foreach (var name in startInfo.Environment.Keys.Where(k => k.StartsWith("RABBITMQ_", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        foreach (var (name, value) in _environment)
        {
            startInfo.Environment[name] = value;
        }

        return startInfo;
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
        var builder = new StringBuilder();
        lock (_output)
        {
            if (_output.Count > 0)
            {
                builder.AppendLine().AppendLine("Server output (last lines):").AppendJoin(Environment.NewLine, _output);
            }
        }

        var log = _environment.GetValueOrDefault("RABBITMQ_LOGS");
        if (log is not null && File.Exists(log))
        {
            var tail = File.ReadLines(log).TakeLast(OutputLinesKept);
            builder.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Log {log} (last lines):").AppendJoin(Environment.NewLine, tail);
        }

        return builder.ToString();
    }

    private void RequirePrivate()
    {
        if (IsExternal)
        {
            throw new InvalidOperationException(
                $"The broker comes from {UriVariable}; it cannot be stopped or restarted from here. Use RabbitMqNodeOptions.RequirePrivateNode.");
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a dying process; the temp folder is cleaned eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The broker could not be found, started or controlled.</summary>
public sealed class RabbitMqNodeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RabbitMqNodeException() : base("The RabbitMQ node failed.") { }

    /// <summary>Creates the exception with a message.</summary>
    public RabbitMqNodeException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public RabbitMqNodeException(string message, Exception innerException) : base(message, innerException) { }
}
