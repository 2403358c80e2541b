using System.Text;

namespace R2ps.Tools.Processes;

/// <summary>Reading a worker's console log (Microsoft.Extensions.Logging's simple format).</summary>
public static class WorkerLog
{
    /// <summary>
    /// Each <c>fail:</c> or <c>crit:</c> entry of <paramref name="output"/> with its indented lines (message, exception),
    /// every line prefixed with <paramref name="workerId"/>; an empty string when there is none.
    /// </summary>
    public static string Faults(string workerId, string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var report = new StringBuilder();
        var inFault = false;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var entry = line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal);
            inFault = entry || (inFault && line.StartsWith(' '));
            if (inFault) report.Append(workerId).Append(": ").AppendLine(line);
        }

        return report.ToString();
    }
}
