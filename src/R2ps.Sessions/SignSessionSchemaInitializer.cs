using Microsoft.Extensions.Hosting;

namespace R2ps.Sessions;

/// <summary>Creates the sign-session table at start, so a bad connection string fails the start rather than the first login.</summary>
internal sealed class SignSessionSchemaInitializer(SignSessionDbContextFactory factory) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => factory.EnsureSchemaAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
