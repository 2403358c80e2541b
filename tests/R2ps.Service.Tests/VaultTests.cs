using System.Text;
using System.Text.Json;
using R2ps.Crypto.Encoding;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;
using R2ps.Service.Tests.Fakes;
using R2ps.Wallet;

namespace R2ps.Service.Tests;

/// <summary>The secret vault of PROTOCOL.md 4 in the service core: each refusal with its 1.2 code and nothing written.</summary>
public class VaultTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static byte[] StoreJson(string secretId, long version, byte[] ciphertext) =>
        EnvelopeJson.Serialize(new SecretStoreRequest(secretId, version, Base64Std.Encode(ciphertext)));

    private static byte[] IdJson(string secretId) => EnvelopeJson.Serialize(new SecretIdRequest(secretId));

    private static async Task<ErrorCode> RefusalAsync(Func<Task> call) => (await Assert.ThrowsAsync<R2psClientException>(call)).Code;

    private static int VaultRowCount(ServiceHarness harness) => harness.Store.VaultRows.Count;

    /// <summary>
    /// A logged-in wallet that stored "counter=1" then "counter=2" as "state", and a way to put version 1's row back in the
    /// database (changed by the function given) as someone with the database could.
    /// </summary>
    private static async Task<(SignSession Session, Action<Func<InMemoryStore.VaultRow, InMemoryStore.VaultRow>> PutBack)> TwoVersionsOfStateAsync(ServiceHarness harness)
    {
        var (wallet, session) = await harness.LoggedInWalletAsync();
        await session.Vault.PutAsync("state", "counter=1"u8.ToArray(), Ct);
        var old = harness.Store.VaultRows[(wallet.Device.ClientId, wallet.Device.Kid, "state")];
        await session.Vault.PutAsync("state", "counter=2"u8.ToArray(), Ct);
        return (session, change => harness.Store.OverwriteVaultRow(wallet.Device.ClientId, wallet.Device.Kid, "state", change(old)));
    }

    [Fact]
    public async Task A_secret_put_in_one_login_reads_back_in_another_with_its_version()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("246810");
        using (var first = await wallet.LoginAsync("246810", cancellationToken: Ct))
        {
            Assert.Equal(1, await first.Vault.PutAsync("seed-001.key", "the private key"u8.ToArray(), Ct));
            Assert.Equal(2, await first.Vault.PutAsync("seed-001.key", "the private key, rotated"u8.ToArray(), Ct));
            await first.CloseAsync(Ct);
        }

        // A new wallet object: nothing remembered in memory; the vault key comes from the new login's export key.
        var again = harness.WalletFor(wallet.Device);
        using var second = await again.LoginAsync("246810", cancellationToken: Ct);
        using var secret = await second.Vault.GetAsync("seed-001.key", Ct);
        Assert.Equal("the private key, rotated", Encoding.UTF8.GetString(secret.Plaintext));
        Assert.Equal(2, secret.Version);
        var listed = Assert.Single(await second.Vault.ListAsync(Ct));
        Assert.Equal(("seed-001.key", 2L, 24 + 28), (listed.SecretId, listed.Version, listed.Size));
    }

    [Fact]
    public async Task The_server_holds_only_the_sealed_wallet_ciphertext()
    {
        using var harness = new ServiceHarness();
        var (wallet, session) = await harness.LoggedInWalletAsync();
        var plaintext = "correct horse battery staple"u8.ToArray();
        await session.Vault.PutAsync("pw", plaintext, Ct);

        var row = Assert.Single(harness.Store.VaultRows).Value;
        Assert.NotNull(row.Sealed);
        Assert.Equal(-1, row.Sealed.AsSpan().IndexOf(plaintext));
        // Opening the sealed value needs the HSM and the exact binding; under it is the wallet's own AES-GCM layer.
        var ciphertext = await harness.Hsm.OpenAsync(row.Sealed, Sealing.VaultSecretAad(wallet.Device.ClientId, wallet.Device.Kid, "pw", 1), Ct);
        Assert.Equal(-1, ciphertext.AsSpan().IndexOf(plaintext));
        await Assert.ThrowsAnyAsync<System.Security.Cryptography.CryptographicException>(() =>
            harness.Hsm.OpenAsync(row.Sealed, Sealing.VaultSecretAad(wallet.Device.ClientId, wallet.Device.Kid, "pw", 2), Ct));
    }

    [Fact]
    public async Task An_unknown_id_and_another_clients_id_get_identical_answers()
    {
        using var harness = new ServiceHarness();
        var owner = await harness.RegisteredWalletAsync();
        using (var session = await owner.LoginAsync("123456", cancellationToken: Ct))
            await session.Vault.PutAsync("shared-name", "mine"u8.ToArray(), Ct);
        var (_, intruder) = await harness.LoggedInWalletAsync();

        var foreign = await Assert.ThrowsAsync<R2psClientException>(() => intruder.SendAsync(ServiceTypes.SecretRetrieve, IdJson("shared-name"), Ct));
        var unknown = await Assert.ThrowsAsync<R2psClientException>(() => intruder.SendAsync(ServiceTypes.SecretRetrieve, IdJson("never-stored"), Ct));
        Assert.Equal((ErrorCode.AccessDenied, 403), (foreign.Code, foreign.HttpStatus));
        Assert.Equal((unknown.Code, unknown.HttpStatus, unknown.Message), (foreign.Code, foreign.HttpStatus, foreign.Message));

        var foreignDelete = await Assert.ThrowsAsync<R2psClientException>(() => intruder.SendAsync(ServiceTypes.SecretDelete, IdJson("shared-name"), Ct));
        var unknownDelete = await Assert.ThrowsAsync<R2psClientException>(() => intruder.SendAsync(ServiceTypes.SecretDelete, IdJson("never-stored"), Ct));
        Assert.Equal((unknownDelete.Code, unknownDelete.Message), (foreignDelete.Code, foreignDelete.Message));
        Assert.Empty(await intruder.Vault.ListAsync(Ct));
        // The owner's secret is untouched.
        Assert.NotNull(Assert.Single(harness.Store.VaultRows).Value.Sealed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/no")]
    [InlineData("ümlaut")]
    [InlineData("a-65-character-id-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task A_bad_secret_id_is_illegal_request_data_and_nothing_is_written(string secretId)
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        Assert.Equal(ErrorCode.IllegalRequestData, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretStore, StoreJson(secretId, 1, new byte[40]), Ct)));
        Assert.Equal(ErrorCode.IllegalRequestData, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretRetrieve, IdJson(secretId), Ct)));
        Assert.Equal(ErrorCode.IllegalRequestData, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretDelete, IdJson(secretId), Ct)));
        Assert.Equal(0, VaultRowCount(harness));
    }

    [Fact]
    public async Task Ids_of_64_allowed_characters_are_accepted()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        var id = "A-Za-z0-9._" + new string('x', 64 - 11);
        await session.Vault.PutAsync(id, "v"u8.ToArray(), Ct);
        Assert.Equal(id, Assert.Single(await session.Vault.ListAsync(Ct)).SecretId);
    }

    [Fact]
    public async Task An_oversized_or_empty_or_non_base64_ciphertext_is_illegal_request_data_and_nothing_is_written()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        Assert.Equal(ErrorCode.IllegalRequestData, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretStore, StoreJson("big", 1, new byte[16 * 1024 + 1]), Ct)));
        Assert.Equal(ErrorCode.IllegalRequestData, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretStore, StoreJson("empty", 1, []), Ct)));
        Assert.Equal(ErrorCode.IllegalRequestData, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretStore,
            "{\"secret_id\":\"x\",\"version\":1,\"ciphertext\":\"not base64!\"}"u8.ToArray(), Ct)));
        Assert.Equal(ErrorCode.IllegalRequestData, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretStore,
            "{\"secret_id\":\"x\",\"version\":\"1\",\"ciphertext\":\"AAAA\"}"u8.ToArray(), Ct)));
        Assert.Equal(0, VaultRowCount(harness));

        // Exactly 16 KiB is the limit, and it fits the 64 KiB envelope.
        await session.SendAsync(ServiceTypes.SecretStore, StoreJson("big", 1, new byte[16 * 1024]), Ct);
        Assert.Equal(16 * 1024, Assert.Single(harness.Store.VaultRows).Value.Size);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(2)]
    [InlineData(long.MaxValue)]
    public async Task A_first_version_other_than_1_is_illegal_state_and_nothing_is_written(long version)
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        var refusal = await Assert.ThrowsAsync<R2psClientException>(() => session.SendAsync(ServiceTypes.SecretStore, StoreJson("s", version, new byte[40]), Ct));
        Assert.Equal((ErrorCode.IllegalState, 409), (refusal.Code, refusal.HttpStatus));
        Assert.Contains("stored version is 0", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(0, VaultRowCount(harness));
    }

    [Theory]
    [InlineData(1)] // repeated
    [InlineData(2)] // repeated (the current one)
    [InlineData(4)] // skipped
    public async Task A_repeated_or_skipped_version_is_illegal_state_naming_the_current_one_and_nothing_changes(long version)
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        await session.Vault.PutAsync("s", "one"u8.ToArray(), Ct);
        await session.Vault.PutAsync("s", "two"u8.ToArray(), Ct);
        var before = Assert.Single(harness.Store.VaultRows).Value;

        var refusal = await Assert.ThrowsAsync<R2psClientException>(() => session.SendAsync(ServiceTypes.SecretStore, StoreJson("s", version, new byte[40]), Ct));
        Assert.Equal(ErrorCode.IllegalState, refusal.Code);
        Assert.Contains("stored version is 2", refusal.Message, StringComparison.Ordinal);
        Assert.Same(before, Assert.Single(harness.Store.VaultRows).Value);
    }

    [Fact]
    public async Task Deletion_keeps_the_counter_so_a_recreated_id_continues_above_it()
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        await session.Vault.PutAsync("s", "one"u8.ToArray(), Ct);
        await session.Vault.PutAsync("s", "two"u8.ToArray(), Ct);
        await session.Vault.DeleteAsync("s", Ct);

        Assert.Empty(await session.Vault.ListAsync(Ct));
        Assert.Equal(ErrorCode.AccessDenied, await RefusalAsync(() => session.Vault.GetAsync("s", Ct)));
        Assert.Equal(ErrorCode.AccessDenied, await RefusalAsync(() => session.Vault.DeleteAsync("s", Ct)));
        Assert.Equal(ErrorCode.IllegalState, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretStore, StoreJson("s", 1, new byte[40]), Ct)));

        Assert.Equal(3, await session.Vault.PutAsync("s", "three"u8.ToArray(), Ct));
        using var back = await session.Vault.GetAsync("s", Ct);
        Assert.Equal(("three", 3L), (Encoding.UTF8.GetString(back.Plaintext), back.Version));
    }

    [Fact]
    public async Task Passing_the_per_client_limit_is_unauthorized_and_nothing_is_written()
    {
        using var harness = new ServiceHarness(new R2psServiceOptions { WorkerId = "test-worker", MaxSecretsPerClient = 2, MaxSecretIdsPerClient = 3 });
        var (_, session) = await harness.LoggedInWalletAsync();
        await session.Vault.PutAsync("a", "1"u8.ToArray(), Ct);
        await session.Vault.PutAsync("b", "1"u8.ToArray(), Ct);

        var refusal = await Assert.ThrowsAsync<R2psClientException>(() => session.Vault.PutAsync("c", "1"u8.ToArray(), Ct));
        Assert.Equal((ErrorCode.Unauthorized, 401), (refusal.Code, refusal.HttpStatus));
        Assert.Equal(2, VaultRowCount(harness));
        // New versions of held ids are still fine; another client has its own budget.
        Assert.Equal(2, await session.Vault.PutAsync("a", "2"u8.ToArray(), Ct));
        var other = await harness.RegisteredWalletAsync();
        using (var otherSession = await other.LoginAsync("123456", cancellationToken: Ct))
            await otherSession.Vault.PutAsync("c", "1"u8.ToArray(), Ct);

        // Deleting frees a live slot, but deleted ids count against the id limit (their counters are rows).
        await session.Vault.DeleteAsync("b", Ct);
        await session.Vault.PutAsync("c", "1"u8.ToArray(), Ct);
        await session.Vault.DeleteAsync("c", Ct);
        Assert.Equal(ErrorCode.Unauthorized, await RefusalAsync(() => session.Vault.PutAsync("d", "1"u8.ToArray(), Ct)));
        Assert.Equal(2, await session.Vault.PutAsync("b", "again"u8.ToArray(), Ct));
    }

    [Fact]
    public async Task Vault_types_without_a_live_session_are_refused_and_nothing_is_written()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync();
        var session = await wallet.LoginAsync("123456", cancellationToken: Ct);
        await session.CloseAsync(Ct);
        Assert.Equal(ErrorCode.AccessDenied, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretStore, StoreJson("s", 1, new byte[40]), Ct)));
        Assert.Equal(ErrorCode.AccessDenied, await RefusalAsync(() => session.SendAsync(ServiceTypes.SecretList, "{}"u8.ToArray(), Ct)));
        Assert.Equal(ErrorCode.AccessDenied, await RefusalAsync(() => session.SendAsync(ServiceTypes.AuditLog, "{}"u8.ToArray(), Ct)));
        session.Dispose();

        // An envelope without pake_session_id at all cannot name a session: malformed.
        Assert.Equal(ErrorCode.IllegalRequestData, await RefusalAsync(() => wallet.SendDeviceRequestAsync(ServiceTypes.SecretStore, StoreJson("s", 1, new byte[40]), null, Ct)));
        Assert.Equal(0, VaultRowCount(harness));

        // A session expired by time is refused alike.
        var expiring = await wallet.LoginAsync("123456", task: "sign", cancellationToken: Ct);
        harness.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(ErrorCode.AccessDenied, await RefusalAsync(() => expiring.Vault.PutAsync("s", "x"u8.ToArray(), Ct)));
        Assert.Equal(0, VaultRowCount(harness));
    }

    [Fact]
    public async Task A_resumed_session_has_no_vault_key()
    {
        using var harness = new ServiceHarness();
        var (wallet, session) = await harness.LoggedInWalletAsync();
        var key = session.ExportSessionKey();
        using var resumed = wallet.ResumeSession(session.PakeSessionId, key, session.ExpiresAt);
        Assert.False(resumed.HasVault);
        Assert.Throws<InvalidOperationException>(() => resumed.Vault);
    }

    [Fact]
    public async Task A_rollback_put_back_in_the_database_is_detected_by_the_wallet()
    {
        using var harness = new ServiceHarness();
        var (session, putBack) = await TwoVersionsOfStateAsync(harness);

        // An operator (or attacker) with the database puts version 1 back: it opens fine in the HSM (it is a genuine row).
        putBack(old => old);
        var rollback = await Assert.ThrowsAsync<VaultTamperException>(() => session.Vault.GetAsync("state", Ct));
        Assert.Equal((VaultTamperKind.Rollback, "state"), (rollback.Kind, rollback.SecretId));
        Assert.Equal(VaultTamperKind.Rollback, (await Assert.ThrowsAsync<VaultTamperException>(() => session.Vault.ListAsync(Ct))).Kind);
        Assert.DoesNotContain("counter", rollback.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_row_moved_to_another_version_does_not_open()
    {
        using var harness = new ServiceHarness();
        var (session, putBack) = await TwoVersionsOfStateAsync(harness);
        // Version 1's sealed bytes relabelled as version 2: the HSM's AAD binding refuses to open them.
        putBack(old => old with { Version = 2 });
        Assert.Equal(ErrorCode.ServerError, await RefusalAsync(() => session.Vault.GetAsync("state", Ct)));
    }

    [Fact]
    public async Task A_lost_race_is_retried_above_the_winners_version_after_re_reading()
    {
        using var harness = new ServiceHarness();
        var device = await harness.RegisteredWalletAsync();
        // Two wallets of the same device key (two app instances), each with its own memory of versions.
        var phone = harness.WalletFor(device.Device);
        var tablet = harness.WalletFor(device.Device);
        using var a = await phone.LoginAsync("123456", cancellationToken: Ct);
        using var b = await tablet.LoginAsync("123456", cancellationToken: Ct);
        Assert.Equal(1, await a.Vault.PutAsync("notes", "from phone"u8.ToArray(), Ct));
        // The tablet believes the id is new (version 1): refused, it re-reads 1 and stores 2.
        Assert.Equal(2, await b.Vault.PutAsync("notes", "from tablet"u8.ToArray(), Ct));
        Assert.Equal(2, tablet.VaultVersions.LastSeen("notes"));
        using var read = await a.Vault.GetAsync("notes", Ct);
        Assert.Equal("from tablet", Encoding.UTF8.GetString(read.Plaintext));
        // The explicit form does not retry.
        Assert.Equal(ErrorCode.IllegalState, await RefusalAsync(() => a.Vault.StoreVersionAsync("notes", 2, "x"u8.ToArray(), Ct)));
    }

    [Fact]
    public async Task Another_pins_vault_key_cannot_open_the_secret()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync("111111");
        using (var session = await wallet.LoginAsync("111111", cancellationToken: Ct))
            await session.Vault.PutAsync("k", "v"u8.ToArray(), Ct);
        await wallet.ChangePinAsync("111111", "222222", Ct);
        using var after = await wallet.LoginAsync("222222", cancellationToken: Ct);
        // PIN-bound (RFC 9807 export key): after a PIN change the old ciphertext is evident, not silently wrong.
        Assert.Equal(VaultTamperKind.Integrity, (await Assert.ThrowsAsync<VaultTamperException>(() => after.Vault.GetAsync("k", Ct))).Kind);
    }

    [Fact]
    public async Task The_audit_log_is_the_callers_own_trail_newest_first_with_refusals()
    {
        using var harness = new ServiceHarness();
        var wallet = await harness.RegisteredWalletAsync();
        var other = await harness.RegisteredWalletAsync();
        using (var o = await other.LoginAsync("123456", cancellationToken: Ct))
            await o.Vault.PutAsync("theirs", "x"u8.ToArray(), Ct);
        using var session = await wallet.LoginAsync("123456", cancellationToken: Ct);
        await session.Vault.PutAsync("mine", "x"u8.ToArray(), Ct);
        await Assert.ThrowsAsync<R2psClientException>(() => session.Vault.GetAsync("missing", Ct));

        var events = await session.Vault.AuditAsync(cancellationToken: Ct);
        Assert.Equal([ServiceTypes.SecretRetrieve, ServiceTypes.SecretStore, ServiceTypes.Authenticate, ServiceTypes.Authenticate, ServiceTypes.PinRegistration, ServiceTypes.PinRegistration],
            events.Select(e => e.Type));
        Assert.Equal(("ERROR", "ACCESS_DENIED"), (events[0].Outcome, events[0].ErrorCode));
        Assert.Equal(("OK", (string?)null), (events[1].Outcome, events[1].ErrorCode));
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Time >= p.Second.Time));

        Assert.Equal(2, (await session.Vault.AuditAsync(limit: 2, cancellationToken: Ct)).Count);
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        var since = harness.Time.GetUtcNow();
        await session.Vault.ListAsync(Ct);
        Assert.Equal([ServiceTypes.SecretList], (await session.Vault.AuditAsync(since: since, cancellationToken: Ct)).Select(e => e.Type));
        // Nothing secret in it: ids, ciphertexts and session ids never appear.
        var json = JsonSerializer.Serialize(events);
        Assert.DoesNotContain("mine", json, StringComparison.Ordinal);
        Assert.DoesNotContain(session.PakeSessionId, json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"limit\":0}")]
    [InlineData("{\"limit\":101}")]
    [InlineData("{\"since\":-1}")]
    [InlineData("{\"limit\":\"5\"}")]
    public async Task A_bad_audit_request_is_illegal_request_data(string json)
    {
        using var harness = new ServiceHarness();
        var (_, session) = await harness.LoggedInWalletAsync();
        Assert.Equal(ErrorCode.IllegalRequestData, await RefusalAsync(() => session.SendAsync(ServiceTypes.AuditLog, Encoding.UTF8.GetBytes(json), Ct)));
    }

    [Fact]
    public void The_vault_limits_are_validated_at_start()
    {
        var validator = new R2psServiceOptionsValidator();
        Assert.True(validator.Validate(null, new R2psServiceOptions()).Succeeded);
        Assert.True(validator.Validate(null, new R2psServiceOptions { MaxSecretBytes = 16 * 1024 + 1 }).Failed);
        Assert.True(validator.Validate(null, new R2psServiceOptions { MaxSecretBytes = 0 }).Failed);
        Assert.True(validator.Validate(null, new R2psServiceOptions { MaxSecretsPerClient = -1 }).Failed);
        Assert.True(validator.Validate(null, new R2psServiceOptions { MaxSecretsPerClient = 40, MaxSecretIdsPerClient = 39 }).Failed);
        Assert.Equal(32, new R2psServiceOptions().MaxSecretsPerClient);
    }

    [Fact]
    public void The_vault_key_is_hkdf_of_the_export_key_with_the_spec_info()
    {
        var exportKey = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var expected = System.Security.Cryptography.HKDF.DeriveKey(System.Security.Cryptography.HashAlgorithmName.SHA256, exportKey, 32, [], "R2PS-VAULT-KEY-v1"u8.ToArray());
        Assert.Equal(expected, SecretVault.DeriveVaultKey(exportKey));
        Assert.Equal("s.1|12"u8.ToArray(), VaultRules.ClientAad("s.1", 12));
    }
}
