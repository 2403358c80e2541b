using System.Collections.Concurrent;
using System.Data;
using Microsoft.Data.Sqlite;

namespace R2ps.Store;

/// <summary>
/// One read statement kept compiled on a few open SQLite connections, for the point reads every request makes (the
/// device's registration, the sign session): through EF Core each such read rented a DbContext, opened and closed a
/// pooled connection, ran the query pipeline and compiled the SQL again — several times the cost of the read itself
/// (issue 9's profile). Here a read takes an idle lease (a connection with the statement compiled once), binds, steps and
/// resets. Autocommit: no transaction outlives a read, so a lease never holds back a WAL checkpoint or a writer.
/// </summary>
/// <remarks>
/// The SQL is written against the same tables EF Core creates; the store's tests run every read through both this and the
/// EF Core path of writes, so a column renamed in the model and not here fails them. A lease whose read threw is
/// disposed, not reused. Idle leases are bounded (<see cref="MaxIdle"/>); a burst beyond that opens and later closes
/// extra connections.
/// </remarks>
public sealed class SqlitePreparedRead : IDisposable
{
    /// <summary>
    /// Idle connections kept per statement: a worker's default request concurrency (4 per HSM session, 8 sessions), so a
    /// burst does not open and close connections. A lease is held only for its read, so fewer are busy at once.
    /// </summary>
    public const int MaxIdle = 32;

    private readonly string _connectionString;
    private readonly string _busyTimeoutPragma;
    private readonly string _sql;
    private readonly string[] _parameterNames;
    private readonly ConcurrentBag<Lease> _idle = [];
    private int _idleCount;
    private volatile bool _disposed;

    /// <summary>A read of <paramref name="sql"/> with the parameters <paramref name="parameterNames"/> (each as written in the SQL, e.g. <c>$id</c>).</summary>
    public SqlitePreparedRead(string connectionString, TimeSpan busyTimeout, string sql, params string[] parameterNames)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(sql);
        ArgumentNullException.ThrowIfNull(parameterNames);
        var seconds = RelationalDatabase.CommandTimeoutSeconds(busyTimeout);
        _connectionString = RelationalDatabase.WithSqliteDefaultTimeout(connectionString, seconds);
        _busyTimeoutPragma = RelationalDatabase.SqliteBusyTimeoutPragma(busyTimeout);
        _sql = sql;
        _parameterNames = parameterNames;
    }

    /// <summary>
    /// The read when <paramref name="provider"/> is SQLite and <paramref name="enabled"/> (the <c>PreparedReads</c>
    /// settings); null otherwise, and the caller reads through EF Core.
    /// </summary>
    public static SqlitePreparedRead? When(bool enabled, string? provider, string connectionString, TimeSpan busyTimeout, string sql,
        params string[] parameterNames) =>
        enabled && DatabaseProviders.Normalize(provider) == DatabaseProviders.Sqlite
            ? new SqlitePreparedRead(connectionString, busyTimeout, sql, parameterNames)
            : null;

    /// <summary>The first row the statement returns, read by <paramref name="read"/>; null when it returns none.</summary>
    public T? ReadSingle<T>(ReadOnlySpan<object?> arguments, Func<SqliteDataReader, T> read) where T : class =>
        Run(arguments, read, static (reader, map) => reader.Read() ? map(reader) : null, CommandBehavior.SingleRow);

    /// <summary>Every row the statement returns, each read by <paramref name="read"/>.</summary>
    public List<T> ReadAll<T>(ReadOnlySpan<object?> arguments, Func<SqliteDataReader, T> read) =>
        Run(arguments, read, static (reader, map) =>
        {
            var rows = new List<T>();
            while (reader.Read()) rows.Add(map(reader));
            return rows;
        }, CommandBehavior.Default);

    private TResult Run<T, TResult>(ReadOnlySpan<object?> arguments, Func<SqliteDataReader, T> read,
        Func<SqliteDataReader, Func<SqliteDataReader, T>, TResult> collect, CommandBehavior behavior)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (arguments.Length != _parameterNames.Length)
            throw new ArgumentException($"The statement takes {_parameterNames.Length} argument(s).", nameof(arguments));
        ObjectDisposedException.ThrowIf(_disposed, this);
        var lease = Rent();
        var reusable = false;
        try
        {
            for (var i = 0; i < arguments.Length; i++)
                lease.Parameters[i].Value = arguments[i] ?? DBNull.Value;
            TResult result;
            using (var reader = lease.Command.ExecuteReader(behavior))
                result = collect(reader, read);
            reusable = true;
            return result;
        }
        finally
        {
            // No argument outlives its read in an idle lease.
            foreach (var parameter in lease.Parameters) parameter.Value = DBNull.Value;
            if (reusable) Return(lease);
            else lease.Dispose();
        }
    }

    private Lease Rent()
    {
        if (_idle.TryTake(out var lease))
        {
            Interlocked.Decrement(ref _idleCount);
            return lease;
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = _busyTimeoutPragma;
                pragma.ExecuteNonQuery();
            }

            var command = connection.CreateCommand();
            command.CommandText = _sql;
            var parameters = new SqliteParameter[_parameterNames.Length];
            for (var i = 0; i < parameters.Length; i++)
                parameters[i] = command.Parameters.Add(new SqliteParameter(_parameterNames[i], DBNull.Value));
            command.Prepare();
            return new Lease(connection, command, parameters);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Return(Lease lease)
    {
        if (_disposed || Interlocked.Increment(ref _idleCount) > MaxIdle)
        {
            if (!_disposed) Interlocked.Decrement(ref _idleCount);
            lease.Dispose();
            return;
        }

        _idle.Add(lease);
        // Disposed meanwhile: the lease just added may have been missed by Dispose.
        if (_disposed) Drain();
    }

    /// <summary>Closes the idle connections; a read still running closes its own when it ends.</summary>
    public void Dispose()
    {
        _disposed = true;
        Drain();
    }

    private void Drain()
    {
        while (_idle.TryTake(out var lease)) lease.Dispose();
    }

    private sealed class Lease(SqliteConnection connection, SqliteCommand command, SqliteParameter[] parameters) : IDisposable
    {
        public SqliteCommand Command { get; } = command;

        public SqliteParameter[] Parameters { get; } = parameters;

        public void Dispose()
        {
            Command.Dispose();
            connection.Dispose();
        }
    }
}
