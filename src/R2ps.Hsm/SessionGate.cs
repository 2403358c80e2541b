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
/// Why not <see cref="SemaphoreSlim"/>: its synchronous waiters are not FIFO (a newcomer can take a permit released
/// for a thread that has waited the longest, which under sustained overload lets old waiters hit the timeout while new
/// ones get through), and it cannot tell "disposed" from "busy" nor wake its waiters on shutdown. Here a released
/// permit goes straight to the oldest waiter. Waiting blocks the calling thread (the public API is synchronous); the
/// wait is bounded by the caller's timeout, so a saturated HSM costs callers at most that long per operation, and the
/// pool size bounds how many threads are inside the module. Waiters are TaskCompletionSources, so an asynchronous
/// entry can be added without changing the queue.
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

    /// <summary>Threads waiting for a permit (for tests and diagnostics).</summary>
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
            lock (_lock)
            {
                if (node.List is not null)
                {
                    _waiters.Remove(node);
                    return GateEntry.TimedOut;
                }
            }
            // Granted or closed just as the wait ended: the result is set.
        }
        return waiter.Task.Result ? GateEntry.Entered : GateEntry.Closed;
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
