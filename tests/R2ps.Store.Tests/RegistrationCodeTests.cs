using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

public abstract class RegistrationCodeTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    private async Task<(TestStore Store, ServiceProvider Worker, IRegistrationCodeStore Codes)> RegisteredAsync(
        Dictionary<string, string?>? settings = null)
    {
        var (store, worker) = await CreateStoreAsync(settings);
        await worker.GetRequiredService<IClientRegistry>().RegisterAsync(
            new ClientRegistration("wallet-1", "device-key-1", new byte[] { 0x30 }, ["hsm"]), TestContext.Current.CancellationToken);
        return (store, worker, worker.GetRequiredService<IRegistrationCodeStore>());
    }

    [Fact]
    public async Task Issued_code_is_32_random_bytes_valid_for_ten_minutes_by_default()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;

        var first = await codes.IssueAsync("wallet-1", "device-key-1", ct);
        var second = await codes.IssueAsync("wallet-1", "device-key-1", ct);

        Assert.NotNull(first);
        Assert.Equal(32, Convert.FromBase64String(first.Code).Length);
        Assert.NotEqual(first.Code, second!.Code);
        Assert.Equal(TestStore.Start.AddMinutes(10), first.ExpiresAt);
    }

    [Fact]
    public async Task A_code_made_elsewhere_is_stored_by_its_hash_and_accepted_once()
    {
        // The BFF makes the code and sends only its SHA-256 (issue 10: no secret on the broker).
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        var code = RandomNumberGenerator.GetBytes(32);

        Assert.Equal(TestStore.Start.AddMinutes(10), await codes.IssueHashedAsync("wallet-1", "device-key-1", SHA256.HashData(code), ct));
        Assert.True(await codes.IsPendingAsync("wallet-1", "device-key-1", ct));
        Assert.True(await codes.ConsumeAsync("wallet-1", "device-key-1", Convert.ToBase64String(code), ct));
        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", Convert.ToBase64String(code), ct));
        Assert.Null(await codes.IssueHashedAsync("wallet-9", "device-key-1", SHA256.HashData(code), ct));
        await Assert.ThrowsAsync<ArgumentException>(() => codes.IssueHashedAsync("wallet-1", "device-key-1", new byte[31], ct));
    }

    [Fact]
    public async Task Code_length_and_lifetime_are_configurable()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync(new()
        {
            ["Store:RegistrationCodeBytes"] = "16",
            ["Store:RegistrationCodeLifetime"] = "00:02:00",
        });
        await using var __ = store;

        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);

        Assert.Equal(16, Convert.FromBase64String(code!.Code).Length);
        Assert.Equal(TestStore.Start.AddMinutes(2), code.ExpiresAt);
    }

    [Fact]
    public async Task Code_is_stored_only_as_its_sha256()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;

        var code = Convert.FromBase64String((await codes.IssueAsync("wallet-1", "device-key-1", ct))!.Code);

        await using var db = store.OpenContext();
        var row = await db.RegistrationCodes.SingleAsync(ct);
        Assert.Equal(SHA256.HashData(code), row.CodeHash);
        // On SQLite the bytes on disk are ours to read: the code is in neither the file nor its WAL.
        if (store.DatabasePath is { } path)
        {
            var file = await File.ReadAllBytesAsync(path, ct);
            var wal = File.Exists(path + "-wal") ? await File.ReadAllBytesAsync(path + "-wal", ct) : [];
            Assert.Equal(-1, file.AsSpan().IndexOf(code));
            Assert.Equal(-1, wal.AsSpan().IndexOf(code));
        }
    }

    [Fact]
    public async Task Correct_code_is_accepted_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);

        Assert.True(await codes.ConsumeAsync("wallet-1", "device-key-1", code!.Code, ct));
        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", code.Code, ct));
    }

    [Fact]
    public async Task Code_presented_as_bytes_is_accepted()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);

        Assert.True(await codes.ConsumeAsync("wallet-1", "device-key-1", Convert.FromBase64String(code!.Code), ct));
    }

    [Fact]
    public async Task Wrong_code_consumes_the_stored_code()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);

        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", new byte[32], ct));
        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", code!.Code, ct));
    }

    [Fact]
    public async Task Malformed_base64_consumes_the_stored_code()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);

        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", "not base64!", ct));
        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", code!.Code, ct));
    }

    [Fact]
    public async Task Expired_code_is_rejected()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);

        store.Clock.Advance(TimeSpan.FromMinutes(10));

        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", code!.Code, ct));
    }

    [Fact]
    public async Task Code_is_accepted_just_before_it_expires()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);

        store.Clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromMilliseconds(1));

        Assert.True(await codes.ConsumeAsync("wallet-1", "device-key-1", code!.Code, ct));
    }

    [Fact]
    public async Task New_issue_replaces_the_old_code()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        var old = await codes.IssueAsync("wallet-1", "device-key-1", ct);
        var fresh = await codes.IssueAsync("wallet-1", "device-key-1", ct);

        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", old!.Code, ct));
        // The failed attempt consumed the fresh code too: any attempt consumes.
        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", fresh!.Code, ct));
    }

    [Fact]
    public async Task Code_of_one_client_does_not_open_another()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker, codes) = await RegisteredAsync();
        await using var __ = store;
        await worker.GetRequiredService<IClientRegistry>().RegisterAsync(
            new ClientRegistration("wallet-2", "device-key-1", new byte[] { 0x30 }, ["hsm"]), ct);
        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);
        await codes.IssueAsync("wallet-2", "device-key-1", ct);

        Assert.False(await codes.ConsumeAsync("wallet-2", "device-key-1", code!.Code, ct));
        Assert.True(await codes.ConsumeAsync("wallet-1", "device-key-1", code.Code, ct));
    }

    [Fact]
    public async Task No_code_is_issued_for_an_unregistered_or_revoked_client()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker, codes) = await RegisteredAsync();
        await using var __ = store;

        Assert.Null(await codes.IssueAsync("wallet-9", "device-key-1", ct));
        await worker.GetRequiredService<IClientRegistry>().RevokeAsync("wallet-1", "device-key-1", ct);
        Assert.Null(await codes.IssueAsync("wallet-1", "device-key-1", ct));
    }

    [Fact]
    public async Task Concurrent_attempts_on_two_workers_accept_the_code_at_most_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        var otherCodes = (await store.StartWorkerAsync()).GetRequiredService<IRegistrationCodeStore>();
        var code = (await codes.IssueAsync("wallet-1", "device-key-1", ct))!.Code;

        var attempts = Enumerable.Range(0, 20)
            .Select(i => Task.Run(() => (i % 2 == 0 ? codes : otherCodes).ConsumeAsync("wallet-1", "device-key-1", code, ct), ct));
        var results = await Task.WhenAll(attempts);

        Assert.Equal(1, results.Count(accepted => accepted));
    }

    [Fact]
    public async Task Pending_check_does_not_consume_the_code_and_ignores_an_expired_one()
    {
        // The pin_registration evaluate is gated on a pending code; checking must not use the code up.
        var ct = TestContext.Current.CancellationToken;
        var (store, _, codes) = await RegisteredAsync();
        await using var __ = store;
        Assert.False(await codes.IsPendingAsync("wallet-1", "device-key-1", ct));

        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);
        Assert.True(await codes.IsPendingAsync("wallet-1", "device-key-1", ct));
        Assert.True(await codes.IsPendingAsync("wallet-1", "device-key-1", ct));
        Assert.False(await codes.IsPendingAsync("wallet-1", "other-key", ct));
        Assert.True(await codes.ConsumeAsync("wallet-1", "device-key-1", code!.Code, ct));
        Assert.False(await codes.IsPendingAsync("wallet-1", "device-key-1", ct));

        await codes.IssueAsync("wallet-1", "device-key-1", ct);
        store.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.False(await codes.IsPendingAsync("wallet-1", "device-key-1", ct));
    }
}

public sealed class RegistrationCodeTestsOnSqlite() : RegistrationCodeTests(TestDatabaseProvider.Sqlite);

public sealed class RegistrationCodeTestsOnPostgres(PostgreSqlServerFixture server) : RegistrationCodeTests(TestDatabaseProvider.Postgres(server));
