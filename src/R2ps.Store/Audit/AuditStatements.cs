using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using R2ps.Store.Data;

namespace R2ps.Store;

/// <summary>
/// Audit rows written as multi-row INSERTs, for the group commit: a batch of a few hundred rows through EF Core's change
/// tracker and SQL generation cost a worker more than the database's own work. The table and column names come from the
/// model's mapping (<see cref="R2psStoreDbContext"/>), so the statement cannot drift from it; ids are still the
/// database's, ascending in the rows' order.
/// </summary>
internal static class AuditStatements
{
    /// <summary>Rows per statement: 10 parameters each stays far below SQLite's and PostgreSQL's parameter limits.</summary>
    internal const int RowsPerStatement = 100;

    // The inserted columns, in order, with how each row gives its value; the id is generated.
    private static readonly (string Property, Func<AuditRow, object?> Value)[] Columns =
    [
        (nameof(AuditRow.TimeMs), r => r.TimeMs),
        (nameof(AuditRow.WorkerId), r => r.WorkerId),
        (nameof(AuditRow.RequestType), r => r.RequestType),
        (nameof(AuditRow.ClientId), r => r.ClientId),
        (nameof(AuditRow.Kid), r => r.Kid),
        (nameof(AuditRow.Context), r => r.Context),
        (nameof(AuditRow.Outcome), r => r.Outcome),
        (nameof(AuditRow.ErrorCode), r => r.ErrorCode),
        (nameof(AuditRow.SessionRef), r => r.SessionRef),
        (nameof(AuditRow.Detail), r => r.Detail),
    ];

    public static async Task InsertAsync(R2psStoreDbContext db, IReadOnlyList<AuditRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        for (var start = 0; start < rows.Count; start += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, rows.Count - start);
            var parameters = new object?[count * Columns.Length];
            for (var r = 0; r < count; r++)
            {
                for (var c = 0; c < Columns.Length; c++)
                    parameters[r * Columns.Length + c] = Columns[c].Value(rows[start + r]); // null: EF Core binds SQL NULL
            }
            await db.Database.ExecuteSqlRawAsync(Statement(db, count), parameters!, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The INSERT of <paramref name="count"/> rows with placeholders {0}…, made once per model and row count.</summary>
    private static string Statement(R2psStoreDbContext db, int count) =>
        Statements.GetOrAdd((db.Model, count), static (key, context) =>
        {
            var sql = new StringBuilder(InsertPrefix(context));
            for (var r = 0; r < key.Count; r++)
            {
                sql.Append(r == 0 ? "(" : ", (");
                for (var c = 0; c < Columns.Length; c++)
                {
                    if (c > 0) sql.Append(", ");
                    sql.Append('{').Append(r * Columns.Length + c).Append('}');
                }
                sql.Append(')');
            }
            return sql.ToString();
        }, db);

    /// <summary>"INSERT INTO table (columns…) VALUES ", names delimited for the provider.</summary>
    private static string InsertPrefix(R2psStoreDbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(AuditRow)) ?? throw new InvalidOperationException("The store model has no audit rows.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        var columns = Columns.Select(c => sql.DelimitIdentifier(entity.FindProperty(c.Property)!.GetColumnName(table)!));
        return $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", columns)}) VALUES ";
    }

    // At most RowsPerStatement entries per model (one per row count); the model is compared by reference.
    private static readonly ConcurrentDictionary<(IModel Model, int Count), string> Statements = new(new ModelAndCount());

    private sealed class ModelAndCount : IEqualityComparer<(IModel Model, int Count)>
    {
        public bool Equals((IModel Model, int Count) x, (IModel Model, int Count) y) => ReferenceEquals(x.Model, y.Model) && x.Count == y.Count;

        public int GetHashCode((IModel Model, int Count) key) => HashCode.Combine(RuntimeHelpers.GetHashCode(key.Model), key.Count);
    }
}
