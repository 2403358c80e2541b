using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FsCheck.Fluent;

namespace R2ps.Tools.Fuzzing;

/// <summary>One generated HTTP request.</summary>
public sealed record FuzzInput(HttpMethod Method, string Path, string? ContentType, byte[] Body, string? Bearer = null)
{
    /// <summary>Enough to recognise it: method, path, and the body in base64 (at most 512 bytes of it).</summary>
    public override string ToString() => Describe(512);

    /// <summary>Method, path and the whole body in base64: what a regression test needs to replay it.</summary>
    public string Describe(int maxBodyBytes = int.MaxValue) =>
        $"{Method} {Path} ({ContentType}, bearer {(Bearer is null ? "none" : "set")}) body[{Body.Length}] base64 {Convert.ToBase64String(Body.AsSpan(0, Math.Min(Body.Length, maxBodyBytes)))}";
}

/// <summary>What one run found.</summary>
public sealed class FuzzReport(string target)
{
    public string Target { get; } = target;

    public int Inputs { get; set; }

    public int Accepted { get; set; }

    public SortedDictionary<string, int> Refusals { get; } = new(StringComparer.Ordinal);

    public int ServerErrors { get; set; }

    /// <summary>5xx answers, transport failures, and refusals without their PROTOCOL.md 1.2 code and status (the first 20).</summary>
    public List<string> Violations { get; } = [];

    public int ViolationCount { get; set; }

    public long MemoryStart { get; set; }

    public long MemoryEnd { get; set; }

    /// <summary>
    /// The heap after a forced collection grew by at most half of its start or 32 MiB, whichever is more, between the first
    /// and the last tenth of the run: caches fill up, but nothing may grow with the number of inputs.
    /// </summary>
    public bool MemoryFlat => MemoryEnd - MemoryStart <= Math.Max(32L << 20, MemoryStart / 2);

    public override string ToString() =>
        $"{Target}: {Inputs} inputs, {Accepted} accepted, refusals {string.Join(", ", Refusals.Select(r => $"{r.Key} {r.Value}"))}; " +
        $"5xx {ServerErrors}; violations {ViolationCount}; memory {MemoryStart / 1024} KiB -> {MemoryEnd / 1024} KiB";
}

/// <summary>
/// Sends generated inputs to a running R2PS service and checks each answer against PROTOCOL.md 1.2: never a 5xx, every
/// refusal the error body with a known code and that code's status. Measures the managed heap after a forced collection
/// through the run (this process's: the service runs in it).
/// </summary>
public static class FuzzRunner
{
    // PROTOCOL.md 1.2; plus, for ILLEGAL_REQUEST_DATA, the fallback's 404 for a path that is no endpoint, routing's 405 for
    // a method the path does not take, and the BFF's 413 for a body over its limit (BffOptions.MaxBodyBytes), all with
    // the 1.2 body.
    static readonly Dictionary<string, int[]> Statuses = new(StringComparer.Ordinal)
    {
        ["ILLEGAL_REQUEST_DATA"] = [400, 404, 405, 413],
        ["UNAUTHORIZED"] = [401],
        ["ACCESS_DENIED"] = [403],
        ["ILLEGAL_STATE"] = [409],
        ["UNSUPPORTED_REQUEST_TYPE"] = [415],
        ["SERVER_ERROR"] = [500],
        ["SERVICE_UNAVAILABLE"] = [503],
    };

    const int Batch = 25;



    public static async Task<FuzzReport> RunAsync(HttpClient http, string name, FsCheck.Gen<FuzzInput> inputs, int count,
        Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(inputs);
        var report = new FuzzReport(name);
        var tenth = Math.Max(1, count / 10);
        var samples = new List<(int At, long Bytes)>();
        var sampleEvery = Math.Max(1, count / 50);
        var progressEvery = Math.Max(1, count / 10);
        while (report.Inputs < count)
        {
            // Small batches: envelopes carry iat and must be sent soon after they are generated.
            foreach (var input in inputs.Sample(Batch).Take(count - report.Inputs))
            {
                await SendAsync(http, input, report, cancellationToken).ConfigureAwait(false);
                report.Inputs++;
                if (report.Inputs % sampleEvery == 0 || report.Inputs == 1) samples.Add((report.Inputs, Heap()));
                if (report.Inputs % progressEvery == 0)
                    progress?.Invoke($"{name}: {report.Inputs}/{count}, {report.Accepted} accepted, 5xx {report.ServerErrors}, violations {report.ViolationCount}, heap {Heap() / 1024} KiB");
            }
        }
        samples.Add((report.Inputs, Heap()));
        report.MemoryStart = (long)samples.Where(s => s.At <= tenth).Average(s => s.Bytes);
        report.MemoryEnd = (long)samples.Where(s => s.At > count - tenth).Average(s => s.Bytes);
        return report;
    }

    static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    static async Task SendAsync(HttpClient http, FuzzInput input, FuzzReport report, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(input.Method, new Uri(input.Path, UriKind.Relative));
        if (input.Body.Length > 0 || input.Method != HttpMethod.Get)
        {
            request.Content = new ByteArrayContent(input.Body);
            if (input.ContentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(input.ContentType);
        }
        if (input.Bearer is not null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + input.Bearer);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            Violation(report, $"no answer ({e.Message}): {input}");
            return;
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (status >= 500) report.ServerErrors++;
            if (status is >= 200 and < 300)
            {
                report.Accepted++;
                return;
            }
            var code = ErrorCodeOf(body);
            if (code is null && body.Length == 0 && (status == 414 || (status == 400 && input.Path.Contains("%00", StringComparison.Ordinal))))
            {
                // Kestrel itself refuses a request line over its limit (414) or a NUL in the decoded path (400), before
                // any middleware runs, with an empty body: no application code can answer it. Counted apart, visibly.
                var key = $"(kestrel {status} without body)";
                report.Refusals[key] = report.Refusals.GetValueOrDefault(key) + 1;
                return;
            }
            if (code is null)
            {
                Violation(report, $"{status} without the error body ({Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200)))}): {input}");
                return;
            }
            report.Refusals[code] = report.Refusals.GetValueOrDefault(code) + 1;
            if (status >= 500)
                Violation(report, $"{status} {code}: {input.Describe()}");
            else if (!Statuses.TryGetValue(code, out var allowed) || !allowed.Contains(status))
                Violation(report, $"{status} {code}: {input}");
        }
    }

    static string? ErrorCodeOf(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("error_code", out var code) && code.ValueKind == JsonValueKind.String
                && json.RootElement.TryGetProperty("error_message", out var message) && message.ValueKind == JsonValueKind.String
                ? code.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static void Violation(FuzzReport report, string what)
    {
        report.ViolationCount++;
        if (report.Violations.Count < 20) report.Violations.Add(what);
    }
}
