using System.Diagnostics;
using R2ps.Worker.Hosting;

namespace R2ps.Cli.Bench;

/// <summary>
/// One <c>dotnet R2ps.Worker.dll</c> process (the worker is built next to this command, with its own runtimeconfig),
/// configured by environment variables only; keeps its last output lines for a failure message; disposing kills it.
/// </summary>
internal sealed class WorkerProcessHost : IAsyncDisposable
{
    private const int OutputLinesKept = 30;

    private readonly Process _process;
    private readonly Queue<string> _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcessHost(string id, Process process)
    {
        Id = id;
        _process = process;
    }

    public string Id { get; }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output) return string.Join(Environment.NewLine, _output);
        }
    }

    /// <summary>The worker's entry assembly beside this one.</summary>
    public static string WorkerDll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "R2ps.Worker.dll");
            var runtimeConfig = Path.ChangeExtension(dll, ".runtimeconfig.json");
            return File.Exists(dll) && File.Exists(runtimeConfig)
                ? dll
                : throw new FileNotFoundException($"The worker executable (R2ps.Worker.dll and its runtimeconfig.json) was not found in {AppContext.BaseDirectory}.");
        }
    }

    public static WorkerProcessHost Start(string id, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        startInfo.ArgumentList.Add(WorkerDll);
        foreach (var (name, value) in environment) startInfo.Environment[name] = value;
        startInfo.Environment["Worker__Id"] = id;

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var worker = new WorkerProcessHost(id, process);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.Exited += (_, _) => worker._started.TrySetException(
            new InvalidOperationException($"Worker {id} exited before it started:{Environment.NewLine}{worker.Output}"));
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits until the worker logs that it serves (self-test, HSM, store and bus all started).</summary>
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
                _process.Kill(entireProcessTree: true);
                using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (OperationCanceledException)
        {
            // It did not die within the bound; nothing more to do from here.
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > OutputLinesKept) _output.Dequeue();
        }

        if (line.Contains(WorkerExtensions.StartedMessage, StringComparison.Ordinal)) _started.TrySetResult();
    }
}
