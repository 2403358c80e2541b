using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace R2ps.Store.Tests;

/// <summary>
/// The SQLite that EF Core's bundle ships must sleep in milliseconds while it waits for a lock. The copy bundled with
/// SQLitePCLRaw 2.0.6 was built without usleep and slept whole seconds, so a 100 ms lock cost any second writer at least
/// 1 s; that is why the store once loaded the system library instead.
/// </summary>
public sealed class SqliteLockWaitTests
{
    [Fact]
    public async Task A_writer_blocked_by_a_short_lock_waits_it_out_in_less_than_a_whole_second()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = Directory.CreateTempSubdirectory("r2ps-lock-").FullName;
        try
        {
            var connectionString = $"Data Source={Path.Combine(directory, "lock.db")};Pooling=False";
            await using (var setup = new SqliteConnection(connectionString))
            {
                await setup.OpenAsync(ct);
                await ExecuteAsync(setup, "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)", ct);
            }

            // A whole-second sleeper can never wait out the lock in under 1,000 ms; the best of three absorbs a busy machine.
            var best = TimeSpan.MaxValue;
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var waited = await WaitOutLockAsync(connectionString, TimeSpan.FromMilliseconds(100), ct);
                best = waited < best ? waited : best;
            }

            Assert.True(best < TimeSpan.FromSeconds(1), $"the second writer waited {best.TotalMilliseconds:F0} ms for a 100 ms lock");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<TimeSpan> WaitOutLockAsync(string connectionString, TimeSpan held, CancellationToken ct)
    {
        await using var holder = new SqliteConnection(connectionString);
        await holder.OpenAsync(ct);
        await ExecuteAsync(holder, "BEGIN IMMEDIATE; INSERT INTO t VALUES (1)", ct);
        var release = Task.Run(async () =>
        {
            await Task.Delay(held, ct);
            await ExecuteAsync(holder, "COMMIT", ct);
        }, ct);

        await using var writer = new SqliteConnection(connectionString);
        await writer.OpenAsync(ct);
        await ExecuteAsync(writer, "PRAGMA busy_timeout = 5000", ct);
        var clock = Stopwatch.StartNew();
        await ExecuteAsync(writer, "INSERT INTO t VALUES (2)", ct);
        clock.Stop();
        await release;
        return clock.Elapsed;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }
}
