using System.Diagnostics;
using System.Globalization;
using R2ps.Worker.Hosting;

namespace R2ps.Tools.Processes;

/// <summary>
/// A separate <c>dotnet R2ps.Worker.dll</c> process (the demo's, the benchmark's and the tests' workers), configured by
/// environment variables. Its last output lines are kept for diagnostics (bounded: a long run must not grow without
/// limit). <see cref="StopAsync"/> asks it to stop (SIGTERM) and kills it if it does not; <see cref="KillAsync"/> kills
/// it at once (what a crash looks like); disposing it stops it.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    /// <summary>Output lines kept by default; far more than a start or a failed start prints.</summary>
    public const int DefaultOutputLinesKept = 500;

    /// <summary>
    /// Environment variable naming a folder: when set, every worker started by this process also writes its whole output
    /// to <c>&lt;folder&gt;/&lt;id&gt;-&lt;pid&gt;.log</c> (diagnostics of a failed test or CI run; the kept lines are bounded).
    /// </summary>
    public const string OutputFolderVariable = "R2PS_WORKER_OUTPUT_DIR";

    /// <summary>How long <see cref="DisposeAsync"/> waits after SIGTERM before it kills the process.</summary>
    public static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly int _outputLinesKept;
    private readonly Queue<string> _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _droppedLines;
    private StreamWriter? _outputFile;

    private WorkerProcess(string id, Process process, int outputLinesKept)
    {
        Id = id;
        _process = process;
        _outputLinesKept = outputLinesKept;
    }

    /// <summary>The worker id (<c>Worker:Id</c>) it writes into the audit log.</summary>
    public string Id { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>CPU time the process has used so far (user + system), for the benchmarks' CPU per operation.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Its last output lines (standard output and error, interleaved as they arrived).</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return string.Join(Environment.NewLine, _output);
        }
    }

    /// <summary>Output lines no longer in <see cref="Output"/> (0 = <see cref="Output"/> is everything it printed).</summary>
    public long DroppedLines
    {
        get
        {
            lock (_output)
                return _droppedLines;
        }
    }

    /// <summary>
    /// The worker's build output beside this application: a project that references R2ps.Worker (directly or through
    /// R2ps.Tools) gets its dll, runtimeconfig and deps files in its own output folder.
    /// </summary>
    public static string DefaultDll => Path.Combine(AppContext.BaseDirectory, "R2ps.Worker.dll");

    /// <summary>Starts the worker; does not wait for it to serve (see <see cref="WaitUntilStartedAsync"/>).</summary>
    /// <param name="id">Its <c>Worker:Id</c>.</param>
    /// <param name="environment">Its configuration (<c>Hsm__TokenLabel</c>, <c>RabbitMq__Uri</c>, …).</param>
    /// <param name="dll">The worker to run; default <see cref="DefaultDll"/>.</param>
    /// <param name="outputLinesKept">How many of its last output lines <see cref="Output"/> holds.</param>
    public static WorkerProcess Start(string id, IReadOnlyDictionary<string, string> environment, string? dll = null,
        int outputLinesKept = DefaultOutputLinesKept)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputLinesKept);
        dll ??= DefaultDll;
        if (!File.Exists(dll))
            throw new FileNotFoundException($"The worker executable {dll} does not exist; build src/R2ps.Worker.", dll);
        var startInfo = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(dll))!,
        };
        startInfo.ArgumentList.Add(dll);
        foreach (var (name, value) in environment)
            startInfo.Environment[name] = value;
        startInfo.Environment["Worker__Id"] = id;
        // The "started" line is Information: without it nobody could wait for the worker.
        startInfo.Environment["Logging__LogLevel__Default"] = "Information";

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var worker = new WorkerProcess(id, process, outputLinesKept);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.Exited += (_, _) => worker._started.TrySetException(
            new InvalidOperationException($"Worker {id} exited before it started:{Environment.NewLine}{worker.Output}"));
        process.Start();
        if (Environment.GetEnvironmentVariable(OutputFolderVariable) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            worker._outputFile = new StreamWriter(Path.Combine(folder, $"{id}-{process.Id}.log"), append: true) { AutoFlush = true };
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>
    /// Waits for its <see cref="WorkerExtensions.StartedMessage"/> line (self-test passed, HSM open, store reachable, bus
    /// connected); throws with its output when it exits first or the time runs out.
    /// </summary>
    public async Task WaitUntilStartedAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _started.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Worker {Id} did not start within {timeout.TotalSeconds:0} s:{Environment.NewLine}{Output}");
        }
    }

    /// <summary>Waits for the process to end by itself and returns its exit code, its output read to the end.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        await _process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
        _process.WaitForExit(); // the process has ended; this returns once the output readers have drained
        return _process.ExitCode;
    }

    /// <summary>
    /// SIGTERM (the worker's host stops the bus and finishes in-flight messages), then a kill if it has not ended within
    /// <paramref name="grace"/>. On Windows, which has no SIGTERM, it kills at once.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        try
        {
            if (_process.HasExited)
                return;
            if (!OperatingSystem.IsWindows())
            {
                // .NET has no API to send SIGTERM to another process.
                using var term = Process.Start(new ProcessStartInfo("kill")
                {
                    ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) },
                    UseShellExecute = false,
                });
                if (term is not null) await term.WaitForExitAsync().ConfigureAwait(false);
                using var wait = new CancellationTokenSource(grace);
                try
                {
                    await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                    return;
                }
                catch (OperationCanceledException)
                {
                    // Still running after the grace period: killed below.
                }
            }

            await KillAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
    }

    /// <summary>Kills the process tree at once (no graceful stop: what a crash or a pulled plug looks like).</summary>
    public async Task KillAsync()
    {
        try
        {
            if (_process.HasExited)
                return;
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
    }

    /// <summary>Stops it (<see cref="StopAsync"/> with <see cref="DefaultStopGrace"/>) and releases the process handle.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(DefaultStopGrace).ConfigureAwait(false);
        _process.Dispose();
        lock (_output)
        {
            _outputFile?.Dispose();
            _outputFile = null;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            _output.Enqueue(line);
            _outputFile?.WriteLine(line);
            while (_output.Count > _outputLinesKept)
            {
                _output.Dequeue();
                _droppedLines++;
            }
        }

        if (line.Contains(WorkerExtensions.StartedMessage, StringComparison.Ordinal))
            _started.TrySetResult();
    }
}
