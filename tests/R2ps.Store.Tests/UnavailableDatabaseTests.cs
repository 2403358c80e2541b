using System.Net;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using R2ps.Protocol;

namespace R2ps.Store.Tests;

/// <summary>
/// <see cref="DatabaseUnavailable.Is"/>: what makes the service and the BFF answer 503 (retry later) instead of
/// 500 when the database is down — found by <c>r2ps faults postgres-restart</c>, where every request during the restart was 500.
/// </summary>
public sealed class UnavailableDatabaseTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_postgresql_server_that_refuses_connections_is_unavailable_bare_or_wrapped()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = PortWithNothingListening(), Username = "r2ps", Database = "postgres", Pooling = false, Timeout = 10,
        }.ConnectionString);
        await using (connection)
        {
            var refused = await Assert.ThrowsAsync<NpgsqlException>(() => connection.OpenAsync(Ct));

            Assert.True(DatabaseUnavailable.Is(refused));
            Assert.True(DatabaseUnavailable.Is(new DbUpdateException("An error occurred while saving the entity changes.", refused)));
        }
    }

    [Fact]
    public async Task A_constraint_violation_is_not_unavailable()
    {
        var directory = Directory.CreateTempSubdirectory("r2ps-unavailable-");
        try
        {
            var connection = new SqliteConnection($"Data Source={Path.Combine(directory.FullName, "t.db")};Pooling=False");
            await using (connection)
            {
                await connection.OpenAsync(Ct);
                await using var command = connection.CreateCommand();
                command.CommandText = "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1); INSERT INTO t VALUES (1);";
                var violation = await Assert.ThrowsAsync<SqliteException>(() => command.ExecuteNonQueryAsync(Ct));

                Assert.True(RelationalDatabase.IsUniqueViolation(violation));
                Assert.False(DatabaseUnavailable.Is(violation));
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    static int PortWithNothingListening()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // closed again when disposed: connections to it are refused
    }
}
