using Microsoft.Extensions.Hosting;

namespace R2ps.Store;

/// <summary>Creates the store's missing tables when the host starts, before the workers take requests.</summary>
internal sealed class StoreSchemaInitializer(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => services.InitializeR2psStoreAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
