using System.Diagnostics;
using R2ps.Worker.Hosting;

namespace R2ps.Cli.Hosting;

/// <summary>
/// A separate <c>dotnet R2ps.Worker.dll</c> process (the demo's and the benchmark's workers), configured by environment
/// variables. Its last output lines are kept for the message when it fails; disposing it asks it to stop (SIGTERM) and
/// kills it if it does not.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private const int OutputLinesKept = 200;

    private readonly Queue<string> _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(string id, Process process)
    {
        Id = id;
        _process = process;
    }

    public string Id { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
                return string.Join(Environment.NewLine, _output);
        }
    }

    /// <summary>The worker's build output beside r2ps (a referenced executable brings its runtimeconfig and deps files).</summary>
    public static string DefaultDll => Path.Combine(AppContext.BaseDirectory, "R2ps.Worker.dll");

    public static WorkerProcess Start(string id, string dll, IReadOnlyDictionary<string, string> environment)
    {
        if (!File.Exists(dll))
            throw new FileNotFoundException($"The worker executable {dll} does not exist; build src/R2ps.Worker.");
        var startInfo = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        startInfo.ArgumentList.Add(dll);
        foreach (var (name, value) in environment)
            startInfo.Environment[name] = value;
        startInfo.Environment["Worker__Id"] = id;
        startInfo.Environment["Logging__LogLevel__Default"] = "Information"; // the "started" line is Information

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var worker = new WorkerProcess(id, process);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.Exited += (_, _) => worker._started.TrySetException(
            new InvalidOperationException($"Worker {id} exited before it started:{Environment.NewLine}{worker.Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits for its "R2PS worker started" line (self-test passed, HSM open, store reachable, bus connected).</summary>
    public async Task WaitUntilStartedAsync(TimeSpan timeout, CancellationToken cancellationToken)
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

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                if (!OperatingSystem.IsWindows())
                {
                    // SIGTERM: the worker's host stops the bus and finishes in-flight messages (.NET has no API for it).
                    using var term = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false });
                    if (term is not null) await term.WaitForExitAsync().ConfigureAwait(false);
                }
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync().ConfigureAwait(false);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > OutputLinesKept) _output.Dequeue(); // a long benchmark run must not grow without bound
        }
        if (line.Contains(WorkerExtensions.StartedMessage, StringComparison.Ordinal))
            _started.TrySetResult();
    }
}
