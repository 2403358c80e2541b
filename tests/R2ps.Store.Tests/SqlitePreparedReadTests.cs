using Microsoft.Data.Sqlite;

namespace R2ps.Store.Tests;

/// <summary>The kept, compiled read statement of the per-request reads (<see cref="SqlitePreparedRead"/>).</summary>
public sealed class SqlitePreparedReadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("r2ps-prepared-read-").FullName;
    private readonly string _connectionString;

    public SqlitePreparedReadTests()
    {
        _connectionString = $"Data Source={Path.Combine(_directory, "t.db")}";
        Execute("PRAGMA journal_mode = WAL; CREATE TABLE t (id TEXT PRIMARY KEY, value TEXT NOT NULL);");
    }

    private void Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        command.ExecuteNonQuery();
    }

    private SqlitePreparedRead NewRead() => new(_connectionString, TimeSpan.FromSeconds(2), "SELECT value FROM t WHERE id = $id", "$id");

    [Fact]
    public void A_read_sees_every_write_committed_before_it_on_another_connection()
    {
        using var read = NewRead();
        Assert.Null(read.ReadSingle(["a"], r => r.GetString(0)));

        // The kept connection holds no read transaction between reads: a later write is seen by the next read.
        Execute("INSERT INTO t VALUES ($id, $v)", ("$id", "a"), ("$v", "one"));
        Assert.Equal("one", read.ReadSingle(["a"], r => r.GetString(0)));
        Execute("UPDATE t SET value = 'two' WHERE id = 'a'");
        Assert.Equal("two", read.ReadSingle(["a"], r => r.GetString(0)));
        Execute("DELETE FROM t WHERE id = 'a'");
        Assert.Null(read.ReadSingle(["a"], r => r.GetString(0)));
    }

    [Fact]
    public void Read_all_returns_every_row_and_none_for_no_match()
    {
        for (var i = 0; i < 3; i++) Execute("INSERT INTO t VALUES ($id, $v)", ("$id", $"k{i}"), ("$v", "same"));
        Execute("INSERT INTO t VALUES ('other', 'different')");
        using var read = new SqlitePreparedRead(_connectionString, TimeSpan.FromSeconds(2), "SELECT id FROM t WHERE value = $v ORDER BY id", "$v");

        Assert.Equal(["k0", "k1", "k2"], read.ReadAll(["same"], r => r.GetString(0)));
        Assert.Empty(read.ReadAll(["none"], r => r.GetString(0)));
        // The same kept statement serves the next read with other arguments.
        Assert.Equal(["other"], read.ReadAll(["different"], r => r.GetString(0)));
    }

    [Fact]
    public void A_kept_connection_does_not_hold_back_a_checkpoint()
    {
        using var read = NewRead();
        Execute("INSERT INTO t VALUES ('a', 'one')");
        Assert.Equal("one", read.ReadSingle(["a"], r => r.GetString(0)));

        // TRUNCATE waits for every reader to finish: it completes (busy = 0) only if no read transaction is open.
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        using var result = command.ExecuteReader();
        Assert.True(result.Read());
        Assert.Equal(0L, result.GetInt64(0));
    }

    [Fact]
    public void A_read_that_throws_is_the_callers_error_and_the_next_read_works()
    {
        using var read = NewRead();
        Execute("INSERT INTO t VALUES ('a', 'one')");

        Assert.Throws<InvalidOperationException>(() => read.ReadSingle<string>(["a"], _ => throw new InvalidOperationException("reader failed")));
        Assert.Equal("one", read.ReadSingle(["a"], r => r.GetString(0)));
    }

    [Fact]
    public void The_argument_count_is_checked_and_a_disposed_read_refuses()
    {
        var read = NewRead();
        Assert.Throws<ArgumentException>(() => read.ReadSingle(["a", "b"], r => r.GetString(0)));
        read.Dispose();
        Assert.Throws<ObjectDisposedException>(() => read.ReadSingle(["a"], r => r.GetString(0)));
    }

    [Fact]
    public async Task Concurrent_reads_each_get_their_own_row()
    {
        for (var i = 0; i < 64; i++) Execute("INSERT INTO t VALUES ($id, $v)", ("$id", $"k{i}"), ("$v", $"v{i}"));
        using var read = NewRead();
        var ct = TestContext.Current.CancellationToken;

        // More readers at once than idle leases are kept: the pool opens more, then keeps at most MaxIdle.
        await Task.WhenAll(Enumerable.Range(0, 4 * SqlitePreparedRead.MaxIdle).Select(worker => Task.Run(() =>
        {
            for (var n = 0; n < 200; n++)
            {
                var i = (worker * 7 + n) % 64;
                Assert.Equal($"v{i}", read.ReadSingle([$"k{i}"], r => r.GetString(0)));
            }
        }, ct)));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leave it to the temp cleaner rather than fail a test.
        }
    }
}
