using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using R2ps.Crypto.SelfTest;

namespace R2ps.Worker.Hosting;

/// <summary>The known-answer self-test of the cryptography, run at start before anything else.</summary>
public static class CryptoSelfTestExtensions
{
    /// <summary>
    /// Runs <see cref="CryptoSelfTest.RunOrThrow"/> when the host starts. Register it first: hosted services start in
    /// registration order, so a failure stops the start before the HSM is opened or the bus connects.
    /// </summary>
    public static IServiceCollection AddCryptoSelfTest(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHostedService<CryptoSelfTestStartup>();
        return services;
    }
}

/// <summary>Runs the self-test in <see cref="StartAsync"/>; a <see cref="SelfTestFailedException"/> fails the host's start.</summary>
internal sealed partial class CryptoSelfTestStartup(ILogger<CryptoSelfTestStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var results = CryptoSelfTest.RunOrThrow();
        LogPassed(results.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Cryptographic self-test passed ({Count} checks)")]
    partial void LogPassed(int count);
}
