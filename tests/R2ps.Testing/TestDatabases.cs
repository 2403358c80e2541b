using R2ps.Tools.PostgreSql;
using Xunit;

namespace R2ps.Testing;

/// <summary>
/// One private PostgreSQL server per test assembly (register it with
/// <c>[assembly: AssemblyFixture(typeof(PostgreSqlServerFixture))]</c>). The server starts on first use, so a run that
/// selects only SQLite tests never starts one; each caller of <see cref="CreateDatabaseAsync"/> gets a database of its own.
/// </summary>
public sealed class PostgreSqlServerFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _start = new(1, 1);
    private PostgreSqlNode? _node;

    /// <summary>The server, started on the first call.</summary>
    public async Task<PostgreSqlNode> NodeAsync(CancellationToken cancellationToken = default)
    {
        if (_node is { } started)
            return started;
        await _start.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _node ??= await PostgreSqlNode.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _start.Release();
        }
    }

    /// <summary>A new, empty database on the server; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var node = await NodeAsync(cancellationToken).ConfigureAwait(false);
        return await node.CreateDatabaseAsync(prefix, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
            await _node.DisposeAsync().ConfigureAwait(false);
        _start.Dispose();
    }
}

/// <summary>Which database a test runs on: <c>sqlite</c> (a file of its own) or <c>postgres</c> (a database of its own).</summary>
public sealed class TestDatabaseProvider
{
    private TestDatabaseProvider(string name, PostgreSqlServerFixture? server)
    {
        Name = name;
        Server = server;
    }

    /// <summary>The provider name as configuration takes it (<c>Store:Provider</c> and the like).</summary>
    public string Name { get; }

    /// <summary>The PostgreSQL server, or null for SQLite.</summary>
    public PostgreSqlServerFixture? Server { get; }

    /// <summary>Whether this is SQLite.</summary>
    public bool IsSqlite => Server is null;

    /// <summary>SQLite files.</summary>
    public static TestDatabaseProvider Sqlite { get; } = new("sqlite", null);

    /// <summary>Databases on <paramref name="server"/>.</summary>
    public static TestDatabaseProvider Postgres(PostgreSqlServerFixture server) =>
        new("postgres", server ?? throw new ArgumentNullException(nameof(server)));

    /// <summary>
    /// A new, empty database: for SQLite, <c>Data Source=</c> a file <paramref name="fileName"/> in
    /// <paramref name="directory"/>; for PostgreSQL, a database created on the server.
    /// </summary>
    public async Task<string> NewConnectionStringAsync(string directory, string fileName, CancellationToken cancellationToken = default) =>
        Server is null
            ? $"Data Source={Path.Combine(directory, fileName)}"
            : await Server.CreateDatabaseAsync(Path.GetFileNameWithoutExtension(fileName), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public override string ToString() => Name;
}
