namespace R2ps.Hsm;

/// <summary>What <see cref="SessionGate.Enter"/> got.</summary>
internal enum GateEntry
{
    /// <summary>A permit: pair with <see cref="SessionGate.Exit"/>.</summary>
    Entered,

    /// <summary>No permit became free within the timeout.</summary>
    TimedOut,

    /// <summary>The gate is closed (the connection is being disposed): no permit, ever again.</summary>
    Closed,
}

/// <summary>
/// The session pool's permits, handed out first come, first served, with a bounded wait; closing it refuses new entries,
/// fails the waiting ones at once, and reports when the last permit holder has left.
/// </summary>
/// <remarks>
/// Why not <see cref="SemaphoreSlim"/>: it cannot tell "disposed" from "busy" nor wake its waiters on shutdown, and its
/// synchronous and asynchronous waiters are served by different rules. Here a released permit goes straight to the
/// oldest waiter, whichever way it waits. <see cref="EnterAsync"/> is the one the key services use: a waiter is a
/// TaskCompletionSource in the queue, no thread is held while it waits. <see cref="Enter"/> blocks its thread and is
/// kept only for the synchronous <c>IEcPrivateKey</c> members. Both waits are bounded by the caller's timeout, and the
/// pool size bounds how many threads are inside the module.
/// </remarks>
internal sealed class SessionGate
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource<bool>> _waiters = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _capacity;
    private int _free;
    private bool _closed;

    public SessionGate(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _free = capacity;
    }

    /// <summary>Completes once the gate is closed and every permit has been returned.</summary>
    public Task Drained => _drained.Task;

    /// <summary>Permits currently held (for tests and diagnostics).</summary>
    public int Held
    {
        get
        {
            lock (_lock) return _capacity - _free;
        }
    }

    /// <summary>Callers waiting for a permit (for tests and diagnostics).</summary>
    public int Waiting
    {
        get
        {
            lock (_lock) return _waiters.Count;
        }
    }

    public GateEntry Enter(TimeSpan timeout)
    {
        // Telemetry: the wait for a permit (r2ps.hsm.session.wait), 0 when one was free.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var entry = EnterCore(timeout);
        HsmMetrics.RecordSessionWait(started, entry);
        return entry;
    }

    GateEntry EnterCore(TimeSpan timeout)
    {
        TaskCompletionSource<bool> waiter;
        LinkedListNode<TaskCompletionSource<bool>> node;
        lock (_lock)
        {
            if (_closed) return GateEntry.Closed;
            // While anybody waits, _free is 0 (Exit hands permits over), so this cannot overtake a waiter.
            if (_free > 0)
            {
                _free--;
                return GateEntry.Entered;
            }
            // Synchronous continuations: the only continuation is this thread's own wait, set outside the lock.
            waiter = new TaskCompletionSource<bool>();
            node = _waiters.AddLast(waiter);
        }
        if (!waiter.Task.Wait(timeout))
        {
            if (TryLeaveQueue(node)) return GateEntry.TimedOut;
            // Granted or closed just as the wait ended: the result is set.
        }
        return waiter.Task.Result ? GateEntry.Entered : GateEntry.Closed;
    }

    /// <summary>
    /// Like <see cref="Enter"/> without holding a thread while it waits. Cancelled: <see cref="OperationCanceledException"/>,
    /// and a permit granted in that instant is passed on, never lost.
    /// </summary>
    public async ValueTask<GateEntry> EnterAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Telemetry as in Enter; a cancelled wait records nothing (it has no outcome).
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var entry = await EnterCoreAsync(timeout, cancellationToken).ConfigureAwait(false);
        HsmMetrics.RecordSessionWait(started, entry);
        return entry;
    }

    async ValueTask<GateEntry> EnterCoreAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource<bool> waiter;
        LinkedListNode<TaskCompletionSource<bool>> node;
        lock (_lock)
        {
            if (_closed) return GateEntry.Closed;
            if (_free > 0)
            {
                _free--;
                return GateEntry.Entered;
            }
            // Asynchronous continuations: Exit must not run the next waiter's whole HSM operation on its own thread.
            waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiters.AddLast(waiter);
        }
        try
        {
            await waiter.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            if (TryLeaveQueue(node)) return GateEntry.TimedOut;
        }
        catch (OperationCanceledException)
        {
            if (TryLeaveQueue(node)) throw;
            // Granted (or closed) in the same instant: hand a granted permit on before giving up.
            if (await waiter.Task.ConfigureAwait(false)) Exit();
            throw;
        }
        return await waiter.Task.ConfigureAwait(false) ? GateEntry.Entered : GateEntry.Closed;
    }

    /// <summary>Removes a waiter that gave up; false if it was granted or closed first (its result is then set).</summary>
    private bool TryLeaveQueue(LinkedListNode<TaskCompletionSource<bool>> node)
    {
        lock (_lock)
        {
            if (node.List is null) return false;
            _waiters.Remove(node);
            return true;
        }
    }

    public void Exit()
    {
        TaskCompletionSource<bool>? next = null;
        var drained = false;
        lock (_lock)
        {
            if (_waiters.First is { } first)
            {
                _waiters.RemoveFirst();
                next = first.Value; // the permit passes on; _free stays 0
            }
            else
            {
                if (_free == _capacity) throw new InvalidOperationException("SessionGate exited more often than entered.");
                _free++;
                drained = _closed && _free == _capacity;
            }
        }
        next?.SetResult(true);
        if (drained) _drained.TrySetResult();
    }

    /// <summary>Refuses all further entries and fails the waiting ones; idempotent.</summary>
    public void Close()
    {
        TaskCompletionSource<bool>[] waiting;
        bool drained;
        lock (_lock)
        {
            if (_closed) return;
            _closed = true;
            waiting = [.. _waiters];
            _waiters.Clear();
            drained = _free == _capacity;
        }
        foreach (var waiter in waiting) waiter.SetResult(false);
        if (drained) _drained.TrySetResult();
    }
}
