using System.Diagnostics;
using System.Text;

namespace R2ps.Worker.Tests;

/// <summary>
/// One <c>dotnet R2ps.Worker.dll</c> process with its configuration in environment variables. Its output is kept (for
/// the test's diagnostics); <see cref="DisposeAsync"/> kills it.
/// </summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    const string StartedMessage = R2ps.Worker.Hosting.WorkerExtensions.StartedMessage;

    readonly Process _process;
    readonly StringBuilder _output = new();
    readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    WorkerProcess(string id, Process process)
    {
        Id = id;
        _process = process;
    }

    /// <summary>The worker id (<c>Worker:Id</c>) it writes into the audit log.</summary>
    public string Id { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything it printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Starts the worker; does not wait for it to serve (see <see cref="WaitUntilStartedAsync"/>).</summary>
    public static WorkerProcess Start(string id, IReadOnlyDictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = WorkerBinaries.Directory,
        };
        startInfo.ArgumentList.Add(WorkerBinaries.Dll);
        foreach (var (name, value) in environment)
            startInfo.Environment[name] = value;
        startInfo.Environment["Worker__Id"] = id;

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var worker = new WorkerProcess(id, process);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.Exited += (_, _) => worker._started.TrySetException(
            new InvalidOperationException($"Worker {id} exited before it started.{Environment.NewLine}{worker.Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits until the worker logged that it serves (every hosted service and the bus started).</summary>
    public async Task WaitUntilStartedAsync(TimeSpan timeout)
    {
        try
        {
            await _started.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Worker {Id} did not start within {timeout.TotalSeconds:0} s.{Environment.NewLine}{Output}");
        }
    }

    /// <summary>Waits for the process to end by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        _process.WaitForExit(); // flush the output readers
        return _process.ExitCode;
    }

    /// <summary>Kills the process at once (no graceful stop: what a crash or a pulled plug looks like).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }

    void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
        if (line.Contains(StartedMessage, StringComparison.Ordinal))
            _started.TrySetResult();
    }
}

/// <summary>Where the worker's own build output is (it has its own deps.json and runtimeconfig.json there).</summary>
internal static class WorkerBinaries
{
    public static string Directory { get; } = Locate();

    public static string Dll => Path.Combine(Directory, "R2ps.Worker.dll");

    static string Locate()
    {
        // tests/R2ps.Worker.Tests/bin/<Configuration>/<tfm>/ → src/R2ps.Worker/bin/<Configuration>/<tfm>/
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = here.Name;
        var configuration = here.Parent!.Name;
        var repository = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var directory = Path.Combine(repository, "src", "R2ps.Worker", "bin", configuration, tfm);
        return File.Exists(Path.Combine(directory, "R2ps.Worker.dll"))
            ? directory
            : throw new FileNotFoundException($"R2ps.Worker.dll was not found in {directory}; build src/R2ps.Worker first.");
    }
}
