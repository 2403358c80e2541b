using MassTransit;
using MassTransit.Middleware;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace R2ps.Sessions.Persistence;

/// <summary>Read-only load and query of <typeparamref name="TSaga"/> outside a message (untracked).</summary>
public sealed class DbContextSagaQueryContext<TSaga>(DbContext dbContext, CancellationToken cancellationToken) :
    BasePipeContext(cancellationToken),
    QuerySagaRepositoryContext<TSaga>,
    LoadSagaRepositoryContext<TSaga>
    where TSaga : class, ISaga
{
    /// <inheritdoc />
    public async Task<TSaga> Load(Guid correlationId) =>
        (await dbContext.Set<TSaga>()
            .AsNoTracking()
            .SingleOrDefaultAsync(x => x.CorrelationId == correlationId, CancellationToken)
            .ConfigureAwait(false))!;

    /// <inheritdoc />
    public async Task<SagaRepositoryQueryContext<TSaga>> Query(ISagaQuery<TSaga> query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        List<Guid> ids = await dbContext.Set<TSaga>()
            .AsNoTracking()
            .Where(query.FilterExpression)
            .Select(x => x.CorrelationId)
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return new DefaultSagaRepositoryQueryContext<TSaga>(this, ids);
    }
}
