using Microsoft.Extensions.DependencyInjection;
using R2ps.Testing;

namespace R2ps.Store.Tests;

public abstract class ClientRegistryTests(TestDatabaseProvider provider) : StoreSuite(provider)
{
    // A P-256 SPKI DER prefix stands in for a device key: the registry stores bytes, the caller validates the key.
    private static readonly byte[] DeviceKey = Convert.FromHexString(
        "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
        + "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
        + "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");

    private static ClientRegistration Registration(string clientId = "wallet-1", string kid = "device-key-1") =>
        new(clientId, kid, DeviceKey, ["hsm"]);

    [Fact]
    public async Task Registered_client_is_found_with_its_key_contexts_and_creation_time()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var registry = worker.GetRequiredService<IClientRegistry>();

        await registry.RegisterAsync(new ClientRegistration("wallet-1", "device-key-1", DeviceKey, ["hsm", "sign"]), ct);
        var found = await registry.FindAsync("wallet-1", "device-key-1", ct);

        Assert.NotNull(found);
        Assert.Equal(DeviceKey, found.PublicKeySpki.ToArray());
        Assert.Equal(["hsm", "sign"], found.Contexts);
        Assert.Equal(TestStore.Start, found.CreatedAt);
        Assert.True(found.AllowsContext("hsm"));
        Assert.False(found.AllowsContext("HSM"));
    }

    [Fact]
    public async Task Unknown_client_or_kid_is_not_found()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var registry = worker.GetRequiredService<IClientRegistry>();
        await registry.RegisterAsync(Registration(), ct);

        Assert.Null(await registry.FindAsync("wallet-2", "device-key-1", ct));
        Assert.Null(await registry.FindAsync("wallet-1", "device-key-2", ct));
    }

    [Fact]
    public async Task Registering_an_active_client_twice_is_a_conflict()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var registry = worker.GetRequiredService<IClientRegistry>();
        await registry.RegisterAsync(Registration(), ct);

        await Assert.ThrowsAsync<ClientAlreadyRegisteredException>(() => registry.RegisterAsync(Registration(), ct));
    }

    [Fact]
    public async Task Revoked_client_is_treated_as_unknown()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var registry = worker.GetRequiredService<IClientRegistry>();
        await registry.RegisterAsync(Registration(), ct);

        Assert.True(await registry.RevokeAsync("wallet-1", "device-key-1", ct));

        Assert.Null(await registry.FindAsync("wallet-1", "device-key-1", ct));
        Assert.False(await registry.RevokeAsync("wallet-1", "device-key-1", ct));
        var status = await registry.GetStatusAsync("wallet-1", "device-key-1", ct);
        Assert.NotNull(status);
        Assert.False(status.IsActive);
        Assert.Equal(TestStore.Start, status.RevokedAt);
    }

    [Fact]
    public async Task Revoking_unknown_client_reports_false()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;

        Assert.False(await worker.GetRequiredService<IClientRegistry>().RevokeAsync("nobody", "none", ct));
    }

    [Fact]
    public async Task Revoking_deletes_the_pin_record_registration_code_and_lockout()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var registry = worker.GetRequiredService<IClientRegistry>();
        var codes = worker.GetRequiredService<IRegistrationCodeStore>();
        var records = worker.GetRequiredService<IOpaqueRecordStore>();
        var attempts = worker.GetRequiredService<ILoginAttemptStore>();
        await registry.RegisterAsync(Registration(), ct);
        var code = await codes.IssueAsync("wallet-1", "device-key-1", ct);
        await records.PutAsync("wallet-1", "device-key-1", new byte[] { 1, 2, 3 }, ct);
        for (var i = 0; i < 5; i++)
        {
            await attempts.TryChargeAsync("wallet-1", "device-key-1", ct);
        }

        await registry.RevokeAsync("wallet-1", "device-key-1", ct);

        Assert.Null(await records.GetAsync("wallet-1", "device-key-1", ct));
        Assert.Null(await attempts.GetLockedUntilAsync("wallet-1", "device-key-1", ct));
        Assert.False(await codes.ConsumeAsync("wallet-1", "device-key-1", code!.Code, ct));
    }

    [Fact]
    public async Task Revoked_client_can_register_again_without_its_old_pin()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var registry = worker.GetRequiredService<IClientRegistry>();
        await registry.RegisterAsync(Registration(), ct);
        await worker.GetRequiredService<IOpaqueRecordStore>().PutAsync("wallet-1", "device-key-1", new byte[] { 1 }, ct);
        await registry.RevokeAsync("wallet-1", "device-key-1", ct);
        store.Clock.Advance(TimeSpan.FromMinutes(1));

        var again = await registry.RegisterAsync(Registration(), ct);

        Assert.Equal(TestStore.Start.AddMinutes(1), again.CreatedAt);
        Assert.NotNull(await registry.FindAsync("wallet-1", "device-key-1", ct));
        Assert.False(await registry.IsPinSetAsync("wallet-1", "device-key-1", ct));
    }

    [Fact]
    public async Task Pin_set_follows_the_opaque_record()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var registry = worker.GetRequiredService<IClientRegistry>();
        var records = worker.GetRequiredService<IOpaqueRecordStore>();
        await registry.RegisterAsync(Registration(), ct);

        Assert.False(await registry.IsPinSetAsync("wallet-1", "device-key-1", ct));
        await records.PutAsync("wallet-1", "device-key-1", new byte[] { 7 }, ct);
        Assert.True(await registry.IsPinSetAsync("wallet-1", "device-key-1", ct));
        await records.DeleteAsync("wallet-1", "device-key-1", ct);
        Assert.False(await registry.IsPinSetAsync("wallet-1", "device-key-1", ct));
    }

    [Fact]
    public async Task Status_reports_registration_pin_and_lockout()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var registry = worker.GetRequiredService<IClientRegistry>();
        await registry.RegisterAsync(Registration(), ct);
        await worker.GetRequiredService<IOpaqueRecordStore>().PutAsync("wallet-1", "device-key-1", new byte[] { 7 }, ct);
        for (var i = 0; i < 5; i++)
        {
            await worker.GetRequiredService<ILoginAttemptStore>().TryChargeAsync("wallet-1", "device-key-1", ct);
        }

        var status = await registry.GetStatusAsync("wallet-1", "device-key-1", ct);

        Assert.Equal(
            new ClientStatus("wallet-1", "device-key-1", TestStore.Start, null, PinSet: true, TestStore.Start.AddMinutes(15)),
            status);
        Assert.Null(await registry.GetStatusAsync("wallet-1", "other", ct));
    }

    [Theory]
    [InlineData("")]
    [InlineData("hsm sign")]
    [InlineData("hsm,sign")]
    public async Task Malformed_context_is_rejected(string context)
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;

        await Assert.ThrowsAsync<ArgumentException>(() => worker.GetRequiredService<IClientRegistry>()
            .RegisterAsync(new ClientRegistration("wallet-1", "kid", DeviceKey, [context]), ct));
    }

    [Fact]
    public async Task Registration_without_contexts_key_or_with_an_over_long_id_is_rejected()
    {
        var ct = TestContext.Current.CancellationToken;
        var (store, worker) = await CreateStoreAsync();
        await using var _ = store;
        var registry = worker.GetRequiredService<IClientRegistry>();

        await Assert.ThrowsAsync<ArgumentException>(() => registry.RegisterAsync(new ClientRegistration("w", "k", DeviceKey, []), ct));
        await Assert.ThrowsAsync<ArgumentException>(() => registry.RegisterAsync(new ClientRegistration("w", "k", Array.Empty<byte>(), ["hsm"]), ct));
        await Assert.ThrowsAsync<ArgumentException>(() => registry.RegisterAsync(new ClientRegistration(new string('w', 257), "k", DeviceKey, ["hsm"]), ct));
        await Assert.ThrowsAsync<ArgumentException>(() => registry.FindAsync("", "k", ct));
    }

    [Fact]
    public void The_store_identifier_limit_is_the_envelope_parse_limit()
    {
        // Review finding: the parse allowed 512, the store 256 → ArgumentException → SERVER_ERROR from unauthenticated input.
        Assert.Equal(256, StoreLimits.MaxIdentifierLength);
        Assert.Equal(R2ps.Protocol.Envelopes.EnvelopeRules.MaxIdentifierLength, StoreLimits.MaxIdentifierLength);
    }
}

public sealed class ClientRegistryTestsOnSqlite() : ClientRegistryTests(TestDatabaseProvider.Sqlite);

public sealed class ClientRegistryTestsOnPostgres(PostgreSqlServerFixture server) : ClientRegistryTests(TestDatabaseProvider.Postgres(server));
