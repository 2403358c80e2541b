using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

public abstract class AuditLogTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    private static AuditEntry Entry(string clientId, string type, int second, AuditOutcome outcome = AuditOutcome.Success,
        string? errorCode = null, string? detail = null) =>
        new(TestStore.Start.AddSeconds(second), "worker-a", type, clientId, "device-key-1", "hsm", outcome, errorCode,
            AuditEntry.SessionReference("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"), detail);

    [Fact]
    public async Task Entries_of_a_client_are_returned_newest_first()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var audit = worker.GetRequiredService<IAuditLog>();
        await audit.AppendAsync(Entry("wallet-1", "authenticate", 1), ct);
        await audit.AppendAsync(Entry("wallet-2", "authenticate", 2), ct);
        await audit.AppendAsync(Entry("wallet-1", "hsm_ecdsa", 3, AuditOutcome.Failure, "ACCESS_DENIED", "foreign kid"), ct);

        var entries = await audit.QueryByClientAsync("wallet-1", 10, ct);

        Assert.Equal(["hsm_ecdsa", "authenticate"], entries.Select(e => e.RequestType));
        var newest = entries[0];
        Assert.Equal(Entry("wallet-1", "hsm_ecdsa", 3, AuditOutcome.Failure, "ACCESS_DENIED", "foreign kid") with { Id = newest.Id }, newest);
        Assert.True(newest.Id > entries[1].Id);
    }

    [Fact]
    public async Task Query_returns_at_most_the_requested_number()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:MaxAuditQueryResults"] = "3" });
        await using var _ = store;
        var audit = worker.GetRequiredService<IAuditLog>();
        for (var i = 0; i < 5; i++)
        {
            await audit.AppendAsync(Entry("wallet-1", "authenticate", i), ct);
        }

        Assert.Equal(2, (await audit.QueryByClientAsync("wallet-1", 2, ct)).Count);
        Assert.Equal(3, (await audit.QueryByClientAsync("wallet-1", 100, ct)).Count);
    }

    [Fact]
    public async Task Detail_is_cut_and_control_characters_are_replaced()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync(new() { ["Store:MaxAuditDetailLength"] = "12" });
        await using var _ = store;
        var audit = worker.GetRequiredService<IAuditLog>();

        await audit.AppendAsync(Entry("wallet-1", "authenticate", 0, detail: "line\nforged: ok and more"), ct);

        Assert.Equal("line forged:", (await audit.QueryByClientAsync("wallet-1", 1, ct))[0].Detail);
    }

    [Fact]
    public async Task Entry_without_worker_or_type_is_rejected()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var audit = worker.GetRequiredService<IAuditLog>();

        await Assert.ThrowsAsync<ArgumentException>(() => audit.AppendAsync(Entry("wallet-1", "", 0), ct));
    }

    [Fact]
    public void Session_reference_is_a_short_hash_not_the_session_id()
    {
        // The first 8 bytes of SHA-256 of the id's ASCII (computed with sha256sum).
        const string sessionId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        const string expected = "a8ae6e6ee929abea";

        var reference = AuditEntry.SessionReference(sessionId);

        Assert.Equal(expected, reference);
        Assert.Equal(16, reference.Length);
        Assert.DoesNotContain(reference, sessionId, StringComparison.Ordinal);
    }
}

public sealed class AuditLogTestsOnSqlite() : AuditLogTests(TestDatabaseProvider.Sqlite);

public sealed class AuditLogTestsOnPostgres(PostgreSqlServerFixture server) : AuditLogTests(TestDatabaseProvider.Postgres(server));
