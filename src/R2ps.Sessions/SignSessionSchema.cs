using Microsoft.EntityFrameworkCore;

namespace R2ps.Sessions;

/// <summary>
/// Creates the sign-session table when absent. <c>EnsureCreated</c> is no use here: it does nothing once the database
/// exists, and other contexts (the store) create the same database file. The DDL is EF's own script for this context's
/// model, made idempotent with <c>IF NOT EXISTS</c>, so it cannot drift from <see cref="SignSessionStateMap"/>.
/// </summary>
internal static class SignSessionSchema
{
    public static void Create(SignSessionDbContext db)
    {
        // WAL lets readers (the use path, the sweeper) run while a saga writes; the mode is a property of the file.
        db.Database.ExecuteSqlRaw("PRAGMA journal_mode = WAL;");

        var script = IdempotentCreateScript(db.Database.GenerateCreateScript());
        using var transaction = db.Database.BeginTransaction();
        db.Database.ExecuteSqlRaw(script);
        transaction.Commit();
    }

    internal static string IdempotentCreateScript(string script) => script
        .Replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", StringComparison.Ordinal)
        .Replace("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", StringComparison.Ordinal)
        .Replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", StringComparison.Ordinal);
}
