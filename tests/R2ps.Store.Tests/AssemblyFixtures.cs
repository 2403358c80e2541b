using R2ps.Testing;

// One private PostgreSQL server for the whole assembly (started on first use); each store gets a database of its own.
[assembly: AssemblyFixture(typeof(PostgreSqlServerFixture))]
