using Microsoft.Data.Sqlite;

namespace R2ps.Store.Tests;

/// <summary>The per-file turn the group commit and the saga's saves take (<see cref="SqliteWriteGate"/>).</summary>
public sealed class SqliteWriteGateTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public void One_file_has_one_gate_however_its_connection_string_is_written()
    {
        var file = Path.Combine(Path.GetTempPath(), $"r2ps-gate-{Guid.NewGuid():N}", "store.db");
        var plain = SqliteWriteGate.For("sqlite", $"Data Source={file}");

        Assert.NotNull(plain);
        Assert.Same(plain, SqliteWriteGate.For("SQLite", $"Data Source={file};Default Timeout=2"));
        Assert.Same(plain, SqliteWriteGate.ForContext("Microsoft.EntityFrameworkCore.Sqlite", $"Data Source={file};Cache=Shared"));
        Assert.NotSame(plain, SqliteWriteGate.For("sqlite", $"Data Source={file}-other"));
    }

    [Fact]
    public void PostgreSql_and_in_memory_databases_have_no_gate()
    {
        Assert.Null(SqliteWriteGate.For("postgres", "Host=127.0.0.1;Database=r2ps"));
        Assert.Null(SqliteWriteGate.ForContext("Npgsql.EntityFrameworkCore.PostgreSQL", "Host=127.0.0.1;Database=r2ps"));
        Assert.Null(SqliteWriteGate.For("sqlite", "Data Source=:memory:"));
    }

    [Fact]
    public async Task A_turn_is_held_until_disposed_and_waiters_get_theirs_in_the_order_they_came()
    {
        var ct = TestContext.Current.CancellationToken;
        var gate = SqliteWriteGate.For("sqlite", $"Data Source={Path.Combine(Path.GetTempPath(), $"r2ps-gate-{Guid.NewGuid():N}.db")}");

        var first = await SqliteWriteGate.EnterAsync(gate, Wait, ct);
        // Each call queues its waiter before it returns, so the queue is in call order.
        var waiting = Enumerable.Range(0, 3).Select(_ => SqliteWriteGate.EnterAsync(gate, Wait, ct).AsTask()).ToList();
        await Task.Delay(100, ct);
        Assert.All(waiting, w => Assert.False(w.IsCompleted)); // nobody gets in while a turn is held

        first.Dispose();
        for (var i = 0; i < waiting.Count; i++)
        {
            var turn = await waiting[i];
            Assert.All(waiting.Skip(i + 1), w => Assert.False(w.IsCompleted));
            turn.Dispose();
        }

        using (await SqliteWriteGate.EnterAsync(null, Wait, ct)) { } // no gate: nothing to wait for
    }

    [Fact]
    public async Task Two_gates_on_one_file_exclude_each_other_through_the_lock_file_as_two_processes_do()
    {
        var ct = TestContext.Current.CancellationToken;
        var file = NewDatabaseFile();
        // Two instances, not the process-wide one: their semaphores are apart, so only the lock file (flock is per open
        // file, as it is per process) can keep them from holding a turn at once.
        var one = new SqliteWriteGate(file);
        var other = new SqliteWriteGate(file);
        Assert.True(one.ExcludesOtherProcesses);
        Assert.True(File.Exists(file + SqliteWriteGate.LockFileSuffix));

        var held = await SqliteWriteGate.EnterAsync(one, Wait, ct);
        var waiting = SqliteWriteGate.EnterAsync(other, Wait, ct).AsTask();
        await Task.Delay(200, ct);
        Assert.False(waiting.IsCompleted);

        held.Dispose();
        (await waiting.WaitAsync(Wait, ct)).Dispose();
        // And the other way round, now that both have held it once.
        using (await SqliteWriteGate.EnterAsync(one, Wait, ct)) { }
    }

    [Fact]
    public async Task Another_process_holding_the_lock_file_is_waited_for_and_past_the_busy_timeout_the_wait_is_SQLITE_BUSY()
    {
        var ct = TestContext.Current.CancellationToken;
        var (gate, holder) = await HeldByAnotherProcessAsync(ct);
        using var _ = holder;

        var busy = await Assert.ThrowsAsync<SqliteException>(async () => await SqliteWriteGate.EnterAsync(gate, TimeSpan.FromMilliseconds(300), ct));
        Assert.Equal(5, busy.SqliteErrorCode); // SQLITE_BUSY: what the saga's retry and the store already handle
        Assert.Contains("busy timeout", busy.Message, StringComparison.Ordinal);

        // The given-up wait still blocks in flock; the next caller queues behind it and both get through once the other
        // process lets go.
        var next = SqliteWriteGate.EnterAsync(gate, Wait, ct).AsTask();
        await Task.Delay(200, ct);
        Assert.False(next.IsCompleted);
        holder.Kill();
        (await next.WaitAsync(Wait, ct)).Dispose();
        using (await SqliteWriteGate.EnterAsync(gate, Wait, ct)) { }
    }

    [Fact]
    public async Task A_cancelled_wait_gives_the_turn_back_once_the_other_process_lets_go()
    {
        var ct = TestContext.Current.CancellationToken;
        var (gate, holder) = await HeldByAnotherProcessAsync(ct);
        using var _ = holder;

        using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await SqliteWriteGate.EnterAsync(gate, Wait, cancel.Token));

        holder.Kill();
        (await SqliteWriteGate.EnterAsync(gate, Wait, ct).AsTask().WaitAsync(Wait, ct)).Dispose();
    }

    [Fact]
    public async Task A_gate_made_before_its_data_folder_exists_opens_the_lock_file_at_its_first_turn()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = Path.Combine(Path.GetTempPath(), $"r2ps-gate-{Guid.NewGuid():N}");
        var gate = new SqliteWriteGate(Path.Combine(folder, "store.db")); // as a host builds its writers before the folder is made

        Directory.CreateDirectory(folder);
        using (await SqliteWriteGate.EnterAsync(gate, Wait, ct)) { }

        Assert.True(gate.ExcludesOtherProcesses);
        Assert.True(File.Exists(Path.Combine(folder, "store.db" + SqliteWriteGate.LockFileSuffix)));
    }

    private static string NewDatabaseFile()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"r2ps-gate-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, "store.db");
    }

    /// <summary>
    /// A gate on a new file whose lock util-linux's flock(1) holds from another process, the way a second worker's gate
    /// does; returned once the lock is taken.
    /// </summary>
    private static async Task<(SqliteWriteGate Gate, LockHolder Holder)> HeldByAnotherProcessAsync(CancellationToken ct)
    {
        var gate = new SqliteWriteGate(NewDatabaseFile());
        var lockFile = gate.DatabaseFile + SqliteWriteGate.LockFileSuffix;
        var holder = new LockHolder(lockFile);
        using var probe = FileWriteLock.TryOpen(lockFile) ?? throw new InvalidOperationException("The lock file did not open.");
        for (var i = 0; i < 300; i++)
        {
            if (!probe.TryTake()) return (gate, holder);
            probe.Release();
            await Task.Delay(50, ct);
        }
        holder.Dispose();
        throw new TimeoutException("flock(1) never took the lock.");
    }

    /// <summary>flock(1) holding the lock file while it runs sleep; killed (with its child, which shares the lock) when let go.</summary>
    private sealed class LockHolder(string lockFile) : IDisposable
    {
        private readonly System.Diagnostics.Process _process =
            System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("flock", ["--exclusive", lockFile, "sleep", "120"]))
            ?? throw new InvalidOperationException("flock(1) did not start.");

        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited) Kill();
            _process.Dispose();
        }
    }
}
