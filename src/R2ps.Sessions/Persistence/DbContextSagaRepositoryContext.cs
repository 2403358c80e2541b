using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace R2ps.Sessions.Persistence;

/// <summary>
/// The repository context of one message: loads, inserts, updates and deletes <typeparamref name="TSaga"/> rows through
/// one DbContext, bumping the version on every write.
/// </summary>
public sealed class DbContextSagaRepositoryContext<TSaga, TMessage> :
    ConsumeContextScope<TMessage>,
    SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISagaVersion
    where TMessage : class
{
    readonly DbContext _dbContext;
    readonly ConsumeContext<TMessage> _consumeContext;
    readonly ISagaConsumeContextFactory<DbContext, TSaga> _factory;
    readonly Func<DbContext, Guid, CancellationToken, Task<TSaga?>> _loadById;

    // SQLite: saves take turns with the store's group commit on the same file instead of losing the race for its lock.
    readonly R2ps.Store.SqliteWriteGate? _writeGate;

    // How long a save waits for another process's turn: the context's command timeout (the saga's busy timeout, in seconds).
    readonly TimeSpan _busyTimeout;

    /// <summary>Wraps the consume context of one message with the DbContext that serves it.</summary>
    public DbContextSagaRepositoryContext(DbContext dbContext, ConsumeContext<TMessage> consumeContext,
        ISagaConsumeContextFactory<DbContext, TSaga> factory)
        : base(consumeContext, dbContext)
    {
        _dbContext = dbContext;
        _loadById = SagaLoadQuery<TSaga>.For(dbContext);
        _consumeContext = consumeContext;
        _factory = factory;
        _writeGate = R2ps.Store.SqliteWriteGate.ForContext(dbContext.Database.ProviderName, dbContext.Database.GetConnectionString());
        _busyTimeout = TimeSpan.FromSeconds(dbContext.Database.GetCommandTimeout() ?? 30);
    }

    async Task SaveChangesAsync()
    {
        using (await R2ps.Store.SqliteWriteGate.EnterAsync(_writeGate, _busyTimeout, CancellationToken).ConfigureAwait(false))
            await _dbContext.SaveChangesAsync(CancellationToken).ConfigureAwait(false);
    }

    /// <summary>A new instance, not yet written: <see cref="Save"/> inserts it after the state machine ran.</summary>
    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Add);

    /// <summary>Inserts an instance before the state machine runs; null when it already exists.</summary>
    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        instance.Version = 1;
        var entry = _dbContext.Set<TSaga>().Add(instance);
        try
        {
            await SaveChangesAsync().ConfigureAwait(false);
        }
        catch (DbUpdateException exception) when (exception is not DbUpdateConcurrencyException)
        {
            // A duplicate key means the row is there: forget the entry so this DbContext can load it. Anything else (a
            // locked file, a constraint of another kind) is a real failure and must not pass for "already exists".
            entry.State = EntityState.Detached;
            var exists = await _dbContext.Set<TSaga>().AsNoTracking()
                .AnyAsync(x => x.CorrelationId == instance.CorrelationId, CancellationToken)
                .ConfigureAwait(false);
            if (exists)
                return null!;
            throw;
        }

        return await _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Insert)
            .ConfigureAwait(false);
    }

    /// <summary>Loads (tracked) the instance with this correlation id; null when there is none.</summary>
    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        var instance = await _loadById(_dbContext, correlationId, CancellationToken).ConfigureAwait(false);
        if (instance is null)
            return null!;

        return await _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Load)
            .ConfigureAwait(false);
    }

    /// <summary>Inserts an instance created by <see cref="Add"/>.</summary>
    /// <exception cref="DbUpdateConcurrencyException">Another message or process created the same instance first.</exception>
    public async Task Save(SagaConsumeContext<TSaga> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var instance = context.Saga;
        instance.Version = 1;
        _dbContext.Set<TSaga>().Add(instance);
        try
        {
            await SaveChangesAsync().ConfigureAwait(false);
        }
        catch (DbUpdateException exception) when (exception is not DbUpdateConcurrencyException)
        {
            // Two creators raced for one id. That is a concurrency conflict like any other: report it as one, so the
            // retry policy re-runs this message and it finds (and correlates to) the instance the winner created.
            var exists = await _dbContext.Set<TSaga>().AsNoTracking()
                .AnyAsync(x => x.CorrelationId == instance.CorrelationId, CancellationToken)
                .ConfigureAwait(false);
            if (exists)
                throw new DbUpdateConcurrencyException("The saga instance was created concurrently.", exception);
            throw;
        }
    }

    /// <summary>
    /// Writes the changes the state machine made, if the row still has the version that was loaded. A message that
    /// changed nothing (a reply-only event, a premature expiry) writes nothing: no lock taken, no version bumped.
    /// </summary>
    /// <exception cref="DbUpdateConcurrencyException">The row changed or went away since it was loaded.</exception>
    public async Task Update(SagaConsumeContext<TSaga> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var entry = _dbContext.Entry(context.Saga);
        entry.DetectChanges();
        if (entry.State == EntityState.Unchanged)
            return;
        context.Saga.Version++;
        await SaveChangesAsync().ConfigureAwait(false);
    }

    /// <summary>Deletes a completed instance, if the row still has the version that was loaded.</summary>
    /// <exception cref="DbUpdateConcurrencyException">The row changed or went away since it was loaded.</exception>
    public async Task Delete(SagaConsumeContext<TSaga> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _dbContext.Set<TSaga>().Remove(context.Saga);
        await SaveChangesAsync().ConfigureAwait(false);
    }

    /// <summary>Nothing was written for this instance; nothing to do.</summary>
    public Task Discard(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    /// <summary>Forgets the state machine's changes so a later save on this DbContext does not write them.</summary>
    public Task Undo(SagaConsumeContext<TSaga> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var entry = _dbContext.ChangeTracker.Entries<TSaga>()
            .FirstOrDefault(x => x.Entity.CorrelationId == context.Saga.CorrelationId);
        if (entry is not null)
            entry.State = EntityState.Detached;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance,
        SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_dbContext, consumeContext, instance, mode);
}
