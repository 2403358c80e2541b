using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace R2ps.Worker.Hosting;

/// <summary>The worker's composition root: every host that runs a worker (the process, <c>r2ps serve</c>, the benchmark, tests) calls this.</summary>
public static class WorkerServiceCollectionExtensions
{
    /// <summary>
    /// Self-test, worker identity, store, HSM, service core, then the bus (consumers, saga, sweeper). Hosted services
    /// start in registration order, so this order is the start order: nothing connects to the broker before the
    /// cryptography, the HSM and the store are proven. A different <see cref="TimeProvider"/> registered before this call
    /// wins (every registration adds the system clock with TryAdd).
    /// </summary>
    public static IServiceCollection AddR2psWorker(this IServiceCollection services, IConfiguration configuration) => services
        .AddCryptoSelfTest()
        .AddR2psWorkerIdentity(configuration)
        .AddR2psStorePorts(configuration)
        .AddR2psHsm(configuration)
        .AddR2psServiceCore(configuration)
        .AddR2psWorkerBus(configuration);
}
