namespace R2ps.Hsm.Tests;

/// <summary>The session pool's permits: first come first served, bounded waiting, and closing for dispose.</summary>
public sealed class SessionGateTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_released_permit_goes_to_the_longest_waiter()
    {
        var gate = new SessionGate(1);
        Assert.Equal(GateEntry.Entered, gate.Enter(Long));
        var order = new System.Collections.Concurrent.ConcurrentQueue<int>();

        var first = Task.Run(() => Take(gate, 1, order), TestContext.Current.CancellationToken);
        await WaitUntil(() => gate.Waiting == 1);
        var second = Task.Run(() => Take(gate, 2, order), TestContext.Current.CancellationToken);
        await WaitUntil(() => gate.Waiting == 2);

        // A newcomer does not overtake the queue although a permit is being released right now.
        gate.Exit();
        Assert.Equal(GateEntry.TimedOut, gate.Enter(TimeSpan.FromMilliseconds(1)));
        await Task.WhenAll(first, second);

        Assert.Equal([1, 2], order);
        Assert.Equal(0, gate.Held);
    }

    [Fact]
    public void Waiting_ends_after_the_timeout_with_timed_out()
    {
        var gate = new SessionGate(1);
        Assert.Equal(GateEntry.Entered, gate.Enter(Long));

        Assert.Equal(GateEntry.TimedOut, gate.Enter(TimeSpan.FromMilliseconds(50)));
        Assert.Equal(0, gate.Waiting);
        gate.Exit();
        Assert.Equal(GateEntry.Entered, gate.Enter(TimeSpan.Zero)); // the timed-out waiter took nothing with it
    }

    [Fact]
    public async Task Closing_fails_the_waiters_at_once_and_drains_when_the_last_holder_leaves()
    {
        var gate = new SessionGate(2);
        Assert.Equal(GateEntry.Entered, gate.Enter(Long));
        Assert.Equal(GateEntry.Entered, gate.Enter(Long));
        var waiter = Task.Run(() => gate.Enter(Long), TestContext.Current.CancellationToken);
        await WaitUntil(() => gate.Waiting == 1);

        gate.Close();

        Assert.Equal(GateEntry.Closed, await waiter.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.Equal(GateEntry.Closed, gate.Enter(Long));
        gate.Exit();
        Assert.False(gate.Drained.IsCompleted);
        gate.Exit();
        await gate.Drained.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Asynchronous_waiters_are_served_in_arrival_order_and_a_newcomer_does_not_overtake_them()
    {
        var gate = new SessionGate(1);
        Assert.Equal(GateEntry.Entered, await gate.EnterAsync(Long, TestContext.Current.CancellationToken));

        var waiters = Enumerable.Range(0, 5).Select(_ => gate.EnterAsync(Long, TestContext.Current.CancellationToken).AsTask()).ToArray();
        Assert.Equal(5, gate.Waiting);
        Assert.All(waiters, w => Assert.False(w.IsCompleted));

        for (var served = 0; served < waiters.Length; served++)
        {
            gate.Exit();
            Assert.Equal(GateEntry.Entered, await waiters[served].WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
            Assert.All(waiters[(served + 1)..], w => Assert.False(w.IsCompleted));
            Assert.Equal(GateEntry.TimedOut, await gate.EnterAsync(TimeSpan.FromMilliseconds(1), TestContext.Current.CancellationToken));
        }
        gate.Exit();
        Assert.Equal(0, gate.Held);
    }

    [Fact]
    public async Task Asynchronous_waiting_ends_after_the_timeout_with_timed_out_and_takes_nothing()
    {
        var gate = new SessionGate(1);
        Assert.Equal(GateEntry.Entered, gate.Enter(Long));

        Assert.Equal(GateEntry.TimedOut, await gate.EnterAsync(TimeSpan.FromMilliseconds(50), TestContext.Current.CancellationToken));
        Assert.Equal(0, gate.Waiting);
        gate.Exit();
        Assert.Equal(GateEntry.Entered, await gate.EnterAsync(TimeSpan.Zero, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_cancelled_asynchronous_waiter_leaves_the_queue_and_the_next_one_gets_the_permit()
    {
        var gate = new SessionGate(1);
        Assert.Equal(GateEntry.Entered, gate.Enter(Long));
        using var cancel = new CancellationTokenSource();
        var cancelled = gate.EnterAsync(Long, cancel.Token).AsTask();
        var next = gate.EnterAsync(Long, TestContext.Current.CancellationToken).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, gate.Waiting);
        gate.Exit();
        Assert.Equal(GateEntry.Entered, await next.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        gate.Exit();
        Assert.Equal(0, gate.Held);
    }

    [Fact]
    public async Task Closing_fails_asynchronous_waiters_at_once()
    {
        var gate = new SessionGate(1);
        Assert.Equal(GateEntry.Entered, gate.Enter(Long));
        var waiter = gate.EnterAsync(Long, TestContext.Current.CancellationToken).AsTask();

        gate.Close();

        Assert.Equal(GateEntry.Closed, await waiter.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.Equal(GateEntry.Closed, await gate.EnterAsync(Long, TestContext.Current.CancellationToken));
    }

    private static void Take(SessionGate gate, int who, System.Collections.Concurrent.ConcurrentQueue<int> order)
    {
        Assert.Equal(GateEntry.Entered, gate.Enter(Long));
        order.Enqueue(who);
        Thread.Sleep(100); // long enough that a barging newcomer would be seen
        gate.Exit();
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(10, TestContext.Current.CancellationToken);
        Assert.True(condition());
    }
}
