using System.Runtime.CompilerServices;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace R2ps.Sessions.Persistence;

/// <summary>
/// The load of one saga instance by correlation id (tracked), compiled once per model: every saga message runs it, and
/// the LINQ form paid EF Core's translation-cache lookup and parameter funcletizer (a delegate compiled per call) each
/// time. Same SQL as the LINQ form.
/// </summary>
/// <remarks>
/// Kept per model rather than per repository: MassTransit makes a repository context factory per message (scoped), and a
/// compiled query compiles on first use. Per model rather than static: a compiled query is bound to the model it first
/// ran on, and one process may hold the saga's context on both providers (the tests).
/// </remarks>
internal static class SagaLoadQuery<TSaga>
    where TSaga : class, ISagaVersion
{
    static readonly ConditionalWeakTable<IModel, Func<DbContext, Guid, CancellationToken, Task<TSaga?>>> ByModel = new();

    /// <summary>The compiled load for <paramref name="dbContext"/>'s model.</summary>
    public static Func<DbContext, Guid, CancellationToken, Task<TSaga?>> For(DbContext dbContext) =>
        ByModel.GetValue(dbContext.Model, static _ =>
            EF.CompileAsyncQuery((DbContext db, Guid correlationId, CancellationToken _) =>
                db.Set<TSaga>().SingleOrDefault(x => x.CorrelationId == correlationId)));
}
