using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;
using R2ps.Store;

namespace R2ps.Sessions;

/// <summary>
/// Creates <see cref="SignSessionDbContext"/>s on the configured database (<see cref="RelationalDatabase"/>: SQLite or
/// PostgreSQL). The first context created asynchronously makes sure the sign-session table exists
/// (<see cref="RelationalSchema"/>), so no caller depends on the start order of hosted services.
/// </summary>
public sealed class SignSessionDbContextFactory : IDbContextFactory<SignSessionDbContext>, IDisposable
{
    // Pooled like the store's contexts: every user-mode request reads its session and every saga step loads and saves
    // it, so building a context each time (its services, change tracker and state) was paid per call. A pooled context
    // is reset when disposed; nothing here keeps one beyond its call.
    const int PoolSize = 128;

    readonly DbContextOptions<SignSessionDbContext> _options;
    readonly PooledDbContextFactory<SignSessionDbContext> _pool;
    readonly SemaphoreSlim _schemaLock = new(1, 1);
    volatile bool _schemaReady;

    /// <summary>Builds the context options from <see cref="SignSessionOptions"/>.</summary>
    public SignSessionDbContextFactory(IOptions<SignSessionOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        var builder = new DbContextOptionsBuilder<SignSessionDbContext>();
        RelationalDatabase.Configure(builder, settings.Provider, settings.ConnectionString, settings.BusyTimeout);
        _options = builder.Options;
        _pool = new PooledDbContextFactory<SignSessionDbContext>(_options, PoolSize);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The schema was not made sure of yet (start the host, or create a context asynchronously first).</exception>
    public SignSessionDbContext CreateDbContext()
    {
        // Schema creation is asynchronous I/O; a synchronous caller gets a context only once it has run.
        if (!_schemaReady)
            throw new InvalidOperationException("The sign-session schema is not created yet: call EnsureSchemaAsync or CreateDbContextAsync first.");
        return _pool.CreateDbContext();
    }

    /// <inheritdoc />
    public async Task<SignSessionDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return await _pool.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the sign-session table and its indexes unless they exist. Idempotent and safe under concurrent starts.</summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        if (_schemaReady)
            return;

        await _schemaLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_schemaReady)
                return;
            var db = new SignSessionDbContext(_options);
            await using (db.ConfigureAwait(false))
            {
                await RelationalSchema.EnsureTablesCreatedAsync(db, cancellationToken).ConfigureAwait(false);
            }

            _schemaReady = true;
        }
        finally
        {
            _schemaLock.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _schemaLock.Dispose();
}
