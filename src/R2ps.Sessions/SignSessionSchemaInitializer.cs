using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;

namespace R2ps.Sessions;

/// <summary>
/// Creates the sign-session table at start, so a bad connection string fails the start rather than the first login, and
/// runs the saga repository's load query once (an id no session has): the first saga message after a (re)start then
/// does not also pay for building and compiling that query — on a loaded host, a cold first command outlasted the
/// callers' <see cref="SignSessionOptions.RequestTimeout"/>.
/// </summary>
internal sealed class SignSessionSchemaInitializer(SignSessionDbContextFactory factory) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await factory.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (db.ConfigureAwait(false))
        {
            // The same query shape as DbContextSagaRepositoryContext.Load (tracked, by correlation id).
            _ = await db.SignSessions.SingleOrDefaultAsync(x => x.CorrelationId == Guid.Empty, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
