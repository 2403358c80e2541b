using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace R2ps.Sessions.Persistence;

/// <summary>Registers <see cref="EntityFrameworkSagaRepositoryContextFactory{TSaga,TDbContext}"/> as a saga's repository.</summary>
public static class EntityFrameworkSagaRepositoryRegistrationExtensions
{
    /// <summary>
    /// Persists <typeparamref name="TSaga"/> through <typeparamref name="TDbContext"/> with optimistic concurrency.
    /// An <see cref="IDbContextFactory{TContext}"/> of <typeparamref name="TDbContext"/> must be registered too.
    /// </summary>
    public static ISagaRegistrationConfigurator<TSaga> EntityFrameworkOptimisticRepository<TSaga, TDbContext>(
        this ISagaRegistrationConfigurator<TSaga> configurator)
        where TSaga : class, ISagaVersion
        where TDbContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(configurator);
        configurator.Repository(repository =>
        {
            repository.RegisterSagaRepository<TSaga, DbContext, SagaConsumeContextFactory<DbContext, TSaga>,
                EntityFrameworkSagaRepositoryContextFactory<TSaga, TDbContext>>();
            repository.RegisterQuerySagaRepository<TSaga, EntityFrameworkSagaRepositoryContextFactory<TSaga, TDbContext>>();
            repository.RegisterLoadSagaRepository<TSaga, EntityFrameworkSagaRepositoryContextFactory<TSaga, TDbContext>>();
        });
        return configurator;
    }
}
