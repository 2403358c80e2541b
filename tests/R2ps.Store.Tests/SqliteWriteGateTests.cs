namespace R2ps.Store.Tests;

/// <summary>The per-file turn the group commit and the saga's saves take (<see cref="SqliteWriteGate"/>).</summary>
public sealed class SqliteWriteGateTests
{
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

        var first = await SqliteWriteGate.EnterAsync(gate, ct);
        // Each call queues its waiter before it returns, so the queue is in call order.
        var waiting = Enumerable.Range(0, 3).Select(_ => SqliteWriteGate.EnterAsync(gate, ct).AsTask()).ToList();
        await Task.Delay(100, ct);
        Assert.All(waiting, w => Assert.False(w.IsCompleted)); // nobody gets in while a turn is held

        first.Dispose();
        for (var i = 0; i < waiting.Count; i++)
        {
            var turn = await waiting[i];
            Assert.All(waiting.Skip(i + 1), w => Assert.False(w.IsCompleted));
            turn.Dispose();
        }

        using (await SqliteWriteGate.EnterAsync(null, ct)) { } // no gate: nothing to wait for
    }
}
