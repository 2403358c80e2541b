using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Crypto.Encoding;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;
using R2ps.Store;
using R2ps.Wallet;

namespace R2ps.Worker.Tests;

/// <summary>The secret vault (PROTOCOL.md 4) through RabbitMQ, two worker processes, the SoftHSM2 sealing key and the shared store.</summary>
public abstract class VaultWorkerTests(WorkerCluster cluster)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The workers take turns: makes the next request land on the worker that did not serve <paramref name="worker"/>'s request.</summary>
    async Task NextTurnAwayFromAsync(string clientId, string worker)
    {
        var last = (await cluster.AuditAsync(clientId, Ct))[^1];
        if (!string.Equals(last.WorkerId, worker, StringComparison.Ordinal))
            await cluster.Client.SendAsync(WorkerCluster.Context, "not-an-envelope", Ct);
    }

    [Fact]
    public async Task A_secret_put_in_one_session_is_read_in_another_on_the_other_worker()
    {
        var wallet = await cluster.RegisteredWalletAsync("975310", Ct);
        using (var first = await wallet.Wallet.LoginAsync("975310", cancellationToken: Ct))
        {
            Assert.Equal(1, await first.Vault.PutAsync("wallet.key", "seed 001: the encrypted private key"u8.ToArray(), Ct));
            await first.CloseAsync(Ct);
        }
        var stored = (await cluster.AuditAsync(wallet.ClientId, Ct)).Single(e => e.RequestType == ServiceTypes.SecretStore);

        // A new wallet object and a new login: only the PIN (through the export key) reopens the secret.
        var again = new R2psWallet(wallet.Wallet.Device, cluster.ServerKey, wallet.Transport);
        using var second = await again.LoginAsync("975310", cancellationToken: Ct);
        await NextTurnAwayFromAsync(wallet.ClientId, stored.WorkerId);
        using (var secret = await second.Vault.GetAsync("wallet.key", Ct))
            Assert.Equal("seed 001: the encrypted private key", Encoding.UTF8.GetString(secret.Plaintext));

        var audit = await cluster.AuditAsync(wallet.ClientId, Ct);
        var retrieved = audit.Single(e => e.RequestType == ServiceTypes.SecretRetrieve);
        Assert.Equal(AuditOutcome.Success, retrieved.Outcome);
        Assert.NotEqual(stored.WorkerId, retrieved.WorkerId);

        // The wallet's own trail shows the same, newest first.
        var events = await second.Vault.AuditAsync(cancellationToken: Ct);
        Assert.Equal(ServiceTypes.SecretRetrieve, events[0].Type);
        Assert.Contains(events, e => e.Type == ServiceTypes.SecretStore && e.Outcome == "OK");
    }

    [Fact]
    public async Task Of_two_concurrent_stores_of_the_same_version_on_two_workers_exactly_one_wins_100_times_out_of_100()
    {
        var wallet = await cluster.RegisteredWalletAsync("314159", Ct);
        var phone = new R2psWallet(wallet.Wallet.Device, cluster.ServerKey, wallet.Transport);
        var tablet = new R2psWallet(wallet.Wallet.Device, cluster.ServerKey, wallet.Transport);
        using var a = await phone.LoginAsync("314159", task: "general", cancellationToken: Ct);
        using var b = await tablet.LoginAsync("314159", task: "general", cancellationToken: Ct);

        for (var version = 1L; version <= 100; version++)
        {
            var v = version;
            var results = await Task.WhenAll(
                Outcome(() => a.Vault.StoreVersionAsync("state", v, "from phone"u8.ToArray(), Ct)),
                Outcome(() => b.Vault.StoreVersionAsync("state", v, "from tablet"u8.ToArray(), Ct)));
            Assert.Single(results, r => r is null);
            Assert.Single(results, r => r == ErrorCode.IllegalState);
        }

        using var last = await a.Vault.GetAsync("state", Ct);
        Assert.Equal(100, last.Version);
        // Both workers served the races (each takes one request at a time).
        var stores = (await cluster.AuditAsync(wallet.ClientId, Ct)).Where(e => e.RequestType == ServiceTypes.SecretStore).ToList();
        Assert.Equal(200, stores.Count);
        Assert.Equal([WorkerCluster.WorkerA, WorkerCluster.WorkerB], stores.Select(e => e.WorkerId).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(100, stores.Count(e => e.ErrorCode == "ILLEGAL_STATE"));

        static async Task<ErrorCode?> Outcome(Func<Task<long>> store)
        {
            try
            {
                await store();
                return null;
            }
            catch (R2psClientException e)
            {
                return e.Code;
            }
        }
    }

    [Fact]
    public async Task The_database_holds_no_plaintext_and_no_wallet_ciphertext_and_moved_rows_do_not_open()
    {
        var wallet = await cluster.RegisteredWalletAsync("271828", Ct);
        using var session = await wallet.Wallet.LoginAsync("271828", cancellationToken: Ct);
        var plaintext = "PLAINTEXT-MARKER seed 003 secret"u8.ToArray();
        await session.Vault.PutAsync("first", plaintext, Ct);
        await session.Vault.PutAsync("second", "another secret"u8.ToArray(), Ct);
        // What the wallet sent: its own AES-GCM layer, IV ‖ ct ‖ tag.
        var reply = await session.SendAsync(ServiceTypes.SecretRetrieve, EnvelopeJson.Serialize(new SecretIdRequest("first")), Ct);
        var walletCiphertext = Base64Std.Decode(R2psJson.Deserialize<SecretRetrieveResponse>(reply, "reply").Ciphertext);

        var rows = await RowsAsync(wallet.ClientId);
        Assert.Equal(["first", "second"], rows.Select(r => r.SecretId).Order(StringComparer.Ordinal));
        foreach (var (_, _, sealedValue) in rows)
        {
            Assert.Equal(-1, sealedValue.AsSpan().IndexOf(plaintext));
            Assert.Equal(-1, sealedValue.AsSpan().IndexOf(walletCiphertext));
            // Not even the wallet layer's IV or tag shows: the whole value is sealed by the HSM.
            Assert.Equal(-1, sealedValue.AsSpan().IndexOf(walletCiphertext.AsSpan(0, 12)));
            Assert.Equal(-1, sealedValue.AsSpan().IndexOf(walletCiphertext.AsSpan(walletCiphertext.Length - 16)));
        }

        // The whole database file (and its WAL) of the SQLite cluster: no plaintext anywhere, not in the audit log either.
        if (cluster.DatabaseProvider == "sqlite")
        {
            foreach (var file in Directory.EnumerateFiles(cluster.ScratchDirectory, "r2ps.db*"))
            {
                await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy, Ct);
                Assert.Equal(-1, copy.GetBuffer().AsSpan(0, (int)copy.Length).IndexOf(plaintext));
                Assert.Equal(-1, copy.GetBuffer().AsSpan(0, (int)copy.Length).IndexOf(walletCiphertext));
            }
        }

        // A row copied onto another id (same client, same version) does not open in the HSM: the AAD names the id.
        var first = rows.Single(r => r.SecretId == "first");
        await ExecuteAsync($"UPDATE r2ps_secrets SET sealed_ciphertext = @p WHERE client_id = '{wallet.ClientId}' AND secret_id = 'second'", first.Sealed);
        var moved = await Assert.ThrowsAsync<R2psClientException>(() => session.Vault.GetAsync("second", Ct));
        Assert.Equal(ErrorCode.ServerError, moved.Code);
        Assert.DoesNotContain("PLAINTEXT", moved.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rollback_put_back_in_the_database_is_detected_by_the_wallet()
    {
        var wallet = await cluster.RegisteredWalletAsync("161803", Ct);
        using var session = await wallet.Wallet.LoginAsync("161803", cancellationToken: Ct);
        await session.Vault.PutAsync("signer-state", "counter=41"u8.ToArray(), Ct);
        var old = (await RowsAsync(wallet.ClientId)).Single();
        await session.Vault.PutAsync("signer-state", "counter=42"u8.ToArray(), Ct);

        // Seed 004: the server (or its database) answers an older, genuine version.
        await ExecuteAsync($"UPDATE r2ps_secrets SET version = 1, sealed_ciphertext = @p WHERE client_id = '{wallet.ClientId}'", old.Sealed);
        var rollback = await Assert.ThrowsAsync<VaultTamperException>(() => session.Vault.GetAsync("signer-state", Ct));
        Assert.Equal(VaultTamperKind.Rollback, rollback.Kind);
        // A wallet that never saw version 2 opens version 1 without complaint: the memory of versions is the evidence.
        var forgetful = new R2psWallet(wallet.Wallet.Device, cluster.ServerKey, wallet.Transport);
        using var other = await forgetful.LoginAsync("161803", cancellationToken: Ct);
        using var one = await other.Vault.GetAsync("signer-state", Ct);
        Assert.Equal("counter=41", Encoding.UTF8.GetString(one.Plaintext));
    }

    [Fact]
    public async Task Refusals_on_the_real_path_carry_their_codes_and_write_nothing()
    {
        var owner = await cluster.RegisteredWalletAsync("112358", Ct);
        var intruder = await cluster.RegisteredWalletAsync("132134", Ct);
        using var mine = await owner.Wallet.LoginAsync("112358", cancellationToken: Ct);
        using var theirs = await intruder.Wallet.LoginAsync("132134", cancellationToken: Ct);
        await mine.Vault.PutAsync("owned", "x"u8.ToArray(), Ct);
        var before = await RowsAsync(owner.ClientId);

        async Task<R2psClientException> Refused(SignSession session, string type, object request) =>
            await Assert.ThrowsAsync<R2psClientException>(() => session.SendAsync(type, EnvelopeJson.Serialize(request), Ct));
        var foreign = await Refused(theirs, ServiceTypes.SecretRetrieve, new SecretIdRequest("owned"));
        var unknown = await Refused(theirs, ServiceTypes.SecretRetrieve, new SecretIdRequest("nothing-here"));
        Assert.Equal((ErrorCode.AccessDenied, 403), (foreign.Code, foreign.HttpStatus));
        Assert.Equal((unknown.Code, unknown.HttpStatus, unknown.Message), (foreign.Code, foreign.HttpStatus, foreign.Message));
        Assert.Equal(ErrorCode.IllegalRequestData, (await Refused(mine, ServiceTypes.SecretStore, new SecretStoreRequest("bad id!", 2, "AAAA"))).Code);
        Assert.Equal(ErrorCode.IllegalRequestData, (await Refused(mine, ServiceTypes.SecretStore, new SecretStoreRequest("owned", 2, Base64Std.Encode(new byte[16 * 1024 + 1])))).Code);
        Assert.Equal(ErrorCode.IllegalState, (await Refused(mine, ServiceTypes.SecretStore, new SecretStoreRequest("owned", 3, "AAAA"))).Code);
        Assert.Equal(ErrorCode.IllegalState, (await Refused(mine, ServiceTypes.SecretStore, new SecretStoreRequest("owned", 1, "AAAA"))).Code);
        Assert.Equal(ErrorCode.AccessDenied, (await Refused(theirs, ServiceTypes.SecretDelete, new SecretIdRequest("owned"))).Code);
        await mine.CloseAsync(Ct);
        Assert.Equal(ErrorCode.AccessDenied, (await Refused(mine, ServiceTypes.SecretStore, new SecretStoreRequest("owned", 2, "AAAA"))).Code);

        var after = await RowsAsync(owner.ClientId);
        Assert.Equal(before.Select(r => (r.SecretId, r.Version, Convert.ToHexString(r.Sealed))), after.Select(r => (r.SecretId, r.Version, Convert.ToHexString(r.Sealed))));
        Assert.Empty(await RowsAsync(intruder.ClientId));
    }

    async Task<List<(string SecretId, long Version, byte[] Sealed)>> RowsAsync(string clientId)
    {
        var factory = cluster.Services.GetRequiredService<IDbContextFactory<R2psStoreDbContext>>();
        await using var db = await factory.CreateDbContextAsync(Ct);
        await db.Database.OpenConnectionAsync(Ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"SELECT secret_id, version, sealed_ciphertext FROM r2ps_secrets WHERE client_id = '{clientId}'";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<(string, long, byte[])>();
        while (await reader.ReadAsync(Ct))
            rows.Add((reader.GetString(0), reader.GetInt64(1), (byte[])reader.GetValue(2)));
        return rows;
    }

    async Task ExecuteAsync(string sql, byte[] value)
    {
        var factory = cluster.Services.GetRequiredService<IDbContextFactory<R2psStoreDbContext>>();
        await using var db = await factory.CreateDbContextAsync(Ct);
        await db.Database.OpenConnectionAsync(Ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        DbParameter parameter = command.CreateParameter();
        parameter.ParameterName = "@p";
        parameter.Value = value;
        command.Parameters.Add(parameter);
        Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
    }
}

[Collection(WorkerClusterDefinition.Name)]
public sealed class VaultWorkerTestsOnSqlite(WorkerCluster cluster) : VaultWorkerTests(cluster);

[Collection(WorkerClusterDefinition.Name)]
public sealed class VaultWorkerTestsOnPostgres(PostgresWorkerCluster cluster) : VaultWorkerTests(cluster);
