using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace R2ps.Store;

/// <summary>What every store implementation needs: a context per operation, the clock and the options.</summary>
internal abstract class StoreComponent(
    IDbContextFactory<R2psStoreDbContext> contexts, TimeProvider time, IOptions<StoreOptions> options)
{
    protected StoreOptions Options { get; } = options.Value;

    protected TimeProvider Time => time;

    protected long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    protected Task<R2psStoreDbContext> OpenAsync(CancellationToken cancellationToken) =>
        contexts.CreateDbContextAsync(cancellationToken);
}
