using System.Diagnostics;
using System.Security.Cryptography;

namespace R2ps.Crypto.SelfTest;

/// <summary>The outcome of one known-answer check.</summary>
public sealed record SelfTestResult(string Name, bool Passed, TimeSpan Elapsed, string? Error);

/// <summary>Thrown at start-up when any known-answer check fails: a service must not run on broken crypto.</summary>
public sealed class SelfTestFailedException(IReadOnlyList<SelfTestResult> failures)
    : Exception("Cryptographic self-test failed: " + string.Join("; ", failures.Select(f => $"{f.Name}: {f.Error}")))
{
    public IReadOnlyList<SelfTestResult> Failures { get; } = failures;
}

/// <summary>
/// Known-answer self-test over every primitive the protocol uses, run by each service at start-up (as certified HSM
/// services do) and by hand as <c>r2ps selftest</c>.
/// </summary>
public static class CryptoSelfTest
{
    public static IReadOnlyList<(string Name, Action Check)> Checks() =>
    [
        .. EcKnownAnswers.Checks(),
        .. JoseKnownAnswers.Checks(),
        .. HpkeKnownAnswers.Checks(),
        .. OpaqueKnownAnswers.Checks(),
    ];

    public static IReadOnlyList<SelfTestResult> Run(IEnumerable<(string Name, Action Check)>? checks = null)
    {
        var results = new List<SelfTestResult>();
        foreach (var (name, check) in checks ?? Checks())
        {
            var watch = Stopwatch.StartNew();
            try
            {
                check();
                results.Add(new SelfTestResult(name, true, watch.Elapsed, null));
            }
#pragma warning disable CA1031 // a self-test reports every failure, whatever its type
            catch (Exception ex)
#pragma warning restore CA1031
            {
                results.Add(new SelfTestResult(name, false, watch.Elapsed, ex is CryptographicException ? ex.Message : ex.GetType().Name + ": " + ex.Message));
            }
        }
        return results;
    }

    /// <summary>Runs every check; throws <see cref="SelfTestFailedException"/> naming the failures.</summary>
    public static IReadOnlyList<SelfTestResult> RunOrThrow()
    {
        var results = Run();
        var failures = results.Where(r => !r.Passed).ToList();
        return failures.Count == 0 ? results : throw new SelfTestFailedException(failures);
    }
}
