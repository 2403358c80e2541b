using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using R2ps.Store.Data;

namespace R2ps.Store;

/// <summary>
/// Group commit for the two writes every request makes: its nonce (insert-if-absent) and its audit row, apart or as one
/// write (<see cref="IRequestLedger"/>: the audit row chosen by the nonce's outcome, in the same transaction), and the
/// login lockout's charges and resets (<see cref="RunAsync{T}"/>), which would otherwise take the write lock apart — alone
/// or as one write with a nonce (<see cref="RecordNonceAndRunAsync{T}"/>) or an audit row (<see cref="AppendAuditAndRunAsync{T}"/>). Concurrent
/// callers queue their write and await it; one loop takes whatever is queued (up to
/// <see cref="StoreOptions.MaxWriteBatchSize"/>), runs it in one transaction and completes every waiter only after the
/// commit. So N requests share one commit (one fsync on SQLite, one round trip to COMMIT on PostgreSQL) instead of
/// fighting for the database's write lock, and nothing is answered before it is durable. No waiting to fill a batch:
/// what queues up while a commit runs is the next batch, so a lone request pays one commit as before.
/// </summary>
/// <remarks>
/// The nonce statement is the same atomic insert-if-absent as unbatched, so replays are still refused against every
/// other worker (each process has its own batcher; the database arbitrates between them), and two uses of one nonce in
/// one batch see each other inside the transaction: exactly one is accepted. A batch that fails (its transaction rolled
/// back) fails every waiter in it with the same exception; nothing of it was written.
/// </remarks>
internal sealed class StoreWriteBatcher : IAsyncDisposable
{
    private readonly IDbContextFactory<R2psStoreDbContext> _contexts;
    private readonly int _maxBatch;
    private readonly Channel<PendingWrite> _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lazy<Task> _loop;

    // SQLite: each batch takes its turn with the saga's saves on the same file (SqliteWriteGate).
    private readonly SqliteWriteGate? _writeGate;
    private readonly TimeSpan _busyTimeout;

    public StoreWriteBatcher(IDbContextFactory<R2psStoreDbContext> contexts, IOptions<StoreOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _contexts = contexts;
        _maxBatch = options.Value.MaxWriteBatchSize;
        _writeGate = SqliteWriteGate.For(options.Value.Provider, options.Value.ConnectionString);
        _busyTimeout = options.Value.SqliteBusyTimeout;
        // Bounded: under overload the writers wait for room instead of queueing without limit.
        _queue = Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(options.Value.WriteQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // Started on first use: the store is also used without a host (tools, tests), where no hosted service runs.
        _loop = new Lazy<Task>(StartLoop, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The nonce insert-if-absent, committed in the next batch: true when recorded, false for a live duplicate.</summary>
    public async Task<bool> RecordNonceAsync(string clientId, string nonce, long expiresMs, long nowMs, CancellationToken cancellationToken)
    {
        var write = new PendingWrite(new NonceWrite(clientId, nonce, expiresMs, nowMs), null, null);
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        return await write.Done.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// The nonce insert-if-absent and, in the same transaction, <paramref name="whenNew"/> or <paramref name="whenReplayed"/>
    /// by its outcome: true when the nonce was recorded.
    /// </summary>
    public async Task<bool> RecordNonceAndAuditAsync(string clientId, string nonce, long expiresMs, long nowMs, AuditRow whenNew, AuditRow whenReplayed,
        CancellationToken cancellationToken)
    {
        var write = new PendingWrite(new NonceWrite(clientId, nonce, expiresMs, nowMs), whenNew, whenReplayed);
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        return await write.Done.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="operation"/> in the next batch's transaction (lockout charges and resets), behind a savepoint:
    /// its writes commit with the batch and its result is handed back after that commit; when it throws, only its own
    /// writes are rolled back and only its caller fails.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<R2psStoreDbContext, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        var queued = new QueuedOperation<T>(operation);
        var write = new PendingWrite(null, null, null, queued);
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        await write.Done.Task.ConfigureAwait(false);
        return queued.Result!;
    }

    /// <summary>
    /// The nonce insert-if-absent and, only when it was new, <paramref name="operation"/> in the same transaction (a login
    /// evaluate's nonce and its lockout charge: a replay charges nothing). Recorded is false for a live duplicate, and then
    /// the operation did not run. When the operation throws, its writes and the nonce's are both undone and only its
    /// caller fails.
    /// </summary>
    public async Task<(bool Recorded, T? Result)> RecordNonceAndRunAsync<T>(string clientId, string nonce, long expiresMs, long nowMs,
        Func<R2psStoreDbContext, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        var queued = new QueuedOperation<T>(operation);
        var write = new PendingWrite(new NonceWrite(clientId, nonce, expiresMs, nowMs), null, null, queued);
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        var recorded = await write.Done.Task.ConfigureAwait(false);
        return (recorded, queued.Result);
    }

    /// <summary>
    /// <paramref name="operation"/> and the audit row in the same transaction (a login finalize's lockout reset with its
    /// audit record): both or neither.
    /// </summary>
    public async Task AppendAuditAndRunAsync<T>(AuditRow row, Func<R2psStoreDbContext, CancellationToken, Task<T>> operation,
        CancellationToken cancellationToken)
    {
        var write = new PendingWrite(null, row, null, new QueuedOperation<T>(operation));
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        await write.Done.Task.ConfigureAwait(false);
    }

    /// <summary>The audit row, committed in the next batch.</summary>
    public async Task AppendAuditAsync(AuditRow row, CancellationToken cancellationToken)
    {
        var write = new PendingWrite(null, row, null);
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        await write.Done.Task.ConfigureAwait(false);
    }

    private async Task EnqueueAsync(PendingWrite write, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        _ = _loop.Value;
        // Once queued, the write is not withdrawn: the caller waits for its outcome (it may be committed already).
        await _queue.Writer.WriteAsync(write, cancellationToken).ConfigureAwait(false);
    }

    // Without the first writer's execution context: the loop outlives that request and must not carry its ambient state
    // (its trace's Activity.Current, a worker's per-request time split) into every later batch.
    private Task StartLoop()
    {
        using (ExecutionContext.SuppressFlow())
            return Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        var batch = new List<PendingWrite>(_maxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var write))
                    batch.Add(write);
                await CommitAsync(batch).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: what is still queued fails below.
        }

        var stopped = new ObjectDisposedException(nameof(StoreWriteBatcher));
        foreach (var write in batch) write.Done.TrySetException(stopped);
        while (_queue.Reader.TryRead(out var left)) left.Done.TrySetException(stopped);
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        var results = new bool[batch.Count];
        Exception?[]? failures = null;
        try
        {
            using var turn = await SqliteWriteGate.EnterAsync(_writeGate, _busyTimeout, _stopping.Token).ConfigureAwait(false);
            var db = await _contexts.CreateDbContextAsync(_stopping.Token).ConfigureAwait(false);
            await using (db.ConfigureAwait(false))
            {
                // On SQLite BEGIN IMMEDIATE: the write lock is taken once for the whole batch.
                var tx = await db.Database.BeginTransactionAsync(_stopping.Token).ConfigureAwait(false);
                await using (tx.ConfigureAwait(false))
                {
                    using var nonces = batch.Exists(w => w.Nonce is not null) ? new NonceStatements.Batch(db, tx) : null;
                    for (var i = 0; i < batch.Count; i++)
                    {
                        var write = batch[i];
                        // An operation that goes with a nonce shares its savepoint: it runs only when the nonce was new,
                        // and when it fails the nonce is undone with it.
                        var savepoint = write.Operation is not null;
                        if (savepoint)
                            await tx.CreateSavepointAsync(OperationSavepoint, _stopping.Token).ConfigureAwait(false);
                        try
                        {
                            if (write.Nonce is { } n)
                                results[i] = await nonces!.InsertIfAbsentAsync(n.ClientId, n.Nonce, n.ExpiresMs, n.NowMs, _stopping.Token).ConfigureAwait(false);
                            if (write.Operation is { } operation && (write.Nonce is null || results[i]))
                                await operation.RunAsync(db, _stopping.Token).ConfigureAwait(false);
                            if (savepoint)
                                await tx.ReleaseSavepointAsync(OperationSavepoint, _stopping.Token).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (savepoint && (ex is not OperationCanceledException || !_stopping.IsCancellationRequested))
                        {
                            // Its own writes only; the rest of the batch goes on (on PostgreSQL the savepoint also
                            // clears the transaction's aborted state).
                            await tx.RollbackToSavepointAsync(OperationSavepoint, _stopping.Token).ConfigureAwait(false);
                            failures ??= new Exception?[batch.Count];
                            failures[i] = ex;
                        }
                    }

                    var audits = new List<AuditRow>(batch.Count);
                    for (var i = 0; i < batch.Count; i++)
                    {
                        // A write whose operation failed left nothing, its audit row included.
                        if (failures?[i] is not null) continue;
                        // A ledger write's row is the one its nonce's outcome chose.
                        var row = batch[i].WhenReplayed is { } replayed && !results[i] ? replayed : batch[i].Audit;
                        if (row is not null) audits.Add(row);
                    }

                    await AuditStatements.InsertAsync(db, audits, _stopping.Token).ConfigureAwait(false);
                    await tx.CommitAsync(_stopping.Token).ConfigureAwait(false);
                }
            }
        }
#pragma warning disable CA1031 // The batch's failure is every waiter's: it is handed to each of them, not lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (var write in batch) write.Done.TrySetException(ex);
            return;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (failures?[i] is { } failure)
                batch[i].Done.TrySetException(failure);
            else
                batch[i].Done.TrySetResult(results[i]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        _queue.Writer.TryComplete();
        if (_loop.IsValueCreated)
        {
            // Let what is queued commit; a stuck database is cut off by the command timeout.
            await _loop.Value.ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private const string OperationSavepoint = "r2ps_batched_operation";

    /// <summary>An operation run inside a batch; its result is read by its caller once the batch committed.</summary>
    private abstract class BatchOperation
    {
        public abstract Task RunAsync(R2psStoreDbContext db, CancellationToken cancellationToken);
    }

    private sealed class QueuedOperation<T>(Func<R2psStoreDbContext, CancellationToken, Task<T>> operation) : BatchOperation
    {
        public T? Result { get; private set; }

        public override async Task RunAsync(R2psStoreDbContext db, CancellationToken cancellationToken) =>
            Result = await operation(db, cancellationToken).ConfigureAwait(false);
    }

    private sealed record NonceWrite(string ClientId, string Nonce, long ExpiresMs, long NowMs);

    private sealed class PendingWrite(NonceWrite? nonce, AuditRow? audit, AuditRow? whenReplayed, BatchOperation? operation = null)
    {
        public BatchOperation? Operation { get; } = operation;

        public NonceWrite? Nonce { get; } = nonce;

        /// <summary>The audit row; with a nonce and <see cref="WhenReplayed"/>, the row written when the nonce was new.</summary>
        public AuditRow? Audit { get; } = audit;

        public AuditRow? WhenReplayed { get; } = whenReplayed;

        // Continuations run off the commit loop, so one slow waiter cannot hold up the next batch.
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
