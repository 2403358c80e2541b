using MassTransit;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace R2ps.Sessions.Persistence;

/// <summary>
/// An EF Core saga repository with optimistic concurrency, behind MassTransit's repository-context interfaces
/// (MassTransit.EntityFrameworkCore is not available here). Every message gets a fresh DbContext, so a retried
/// message never sees entities tracked by the failed attempt. The saga's <see cref="ISagaVersion.Version"/> is the
/// concurrency token: each save increments it and the UPDATE/DELETE matches the version that was loaded, so a
/// concurrent writer (another message, another process) makes the save throw <see cref="DbUpdateConcurrencyException"/>
/// and the endpoint's retry re-runs the message against the current row.
/// </summary>
/// <typeparam name="TSaga">The saga instance; its mapping must mark <c>Version</c> as a concurrency token.</typeparam>
/// <typeparam name="TDbContext">The DbContext that maps <typeparamref name="TSaga"/>.</typeparam>
public sealed class EntityFrameworkSagaRepositoryContextFactory<TSaga, TDbContext>(
    IDbContextFactory<TDbContext> dbContextFactory,
    ISagaConsumeContextFactory<DbContext, TSaga> consumeContextFactory) :
    ISagaRepositoryContextFactory<TSaga>,
    IQuerySagaRepositoryContextFactory<TSaga>,
    ILoadSagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISagaVersion
    where TDbContext : DbContext
{
    /// <inheritdoc />
    public void Probe(ProbeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Add("persistence", "entity-framework-core");
        context.Add("concurrency", "optimistic");
        context.Add("dbContext", typeof(TDbContext).Name);
    }

    /// <inheritdoc />
    public async Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);

        var dbContext = await dbContextFactory.CreateDbContextAsync(context.CancellationToken).ConfigureAwait(false);
        await using (dbContext.ConfigureAwait(false))
        {
            var repositoryContext = new DbContextSagaRepositoryContext<TSaga, T>(dbContext, context, consumeContextFactory);
            await next.Send(repositoryContext).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(next);

        var dbContext = await dbContextFactory.CreateDbContextAsync(context.CancellationToken).ConfigureAwait(false);
        await using (dbContext.ConfigureAwait(false))
        {
            // Only the ids are read here; each matching instance is then loaded (tracked) and saved on its own, with its
            // own version check, exactly as a message correlated by id would be.
            List<Guid> ids = await dbContext.Set<TSaga>()
                .AsNoTracking()
                .Where(query.FilterExpression)
                .Select(x => x.CorrelationId)
                .ToListAsync(context.CancellationToken)
                .ConfigureAwait(false);

            var repositoryContext = new DbContextSagaRepositoryContext<TSaga, T>(dbContext, context, consumeContextFactory);
            await next.Send(new DefaultSagaRepositoryQueryContext<TSaga, T>(repositoryContext, ids)).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task<T> Execute<T>(Func<LoadSagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(asyncMethod);
        return ExecuteReadOnly(context => asyncMethod(context), cancellationToken);
    }

    /// <inheritdoc />
    public Task<T> Execute<T>(Func<QuerySagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(asyncMethod);
        return ExecuteReadOnly(context => asyncMethod(context), cancellationToken);
    }

    async Task<T> ExecuteReadOnly<T>(Func<DbContextSagaQueryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken)
    {
        var dbContext = await dbContextFactory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (dbContext.ConfigureAwait(false))
        {
            return await asyncMethod(new DbContextSagaQueryContext<TSaga>(dbContext, cancellationToken)).ConfigureAwait(false);
        }
    }
}
