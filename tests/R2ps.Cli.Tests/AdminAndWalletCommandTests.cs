using System.Security.Cryptography;
using System.Text.Json;

namespace R2ps.Cli.Tests;

[Collection(nameof(SharedConsole))]
public class AdminAndWalletCommandTests
{
    [Fact]
    public async Task Admin_and_wallet_commands_run_the_whole_flow_against_serve_all()
    {
        var root = Directory.CreateTempSubdirectory("r2ps-wallet-test-");
        var wallet = Path.Combine(root.FullName, "wallet");
        try
        {
            await using var served = await ServedSystem.StartAsync(Path.Combine(root.FullName, "data"));
            var url = served.Address.ToString();
            string[] Admin(params string[] args) => ["admin", .. args, "--url", url, "--token", ServedSystem.AdminToken, "--json"];
            string[] Wallet(params string[] args) => ["wallet", .. args, "--url", url, "--wallet", wallet, "--json"];

            var init = await Json("wallet", "init", "--wallet", wallet, "--client-id", "cli-test-wallet", "--json");
            Assert.Equal("cli-test-wallet", init.GetProperty("client_id").GetString());
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(wallet, "device-key.p8")));

            var registered = await Json(Admin("register", "--wallet", wallet));
            var code = registered.GetProperty("authorization").GetString()!;

            await Json(Wallet("register-pin", "--code", code, "--pin", "246810"));
            var login = await Json(Wallet("login", "--pin", "246810"));
            Assert.Equal(64, login.GetProperty("pake_session_id").GetString()!.Length);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(wallet, "session.json")));

            Assert.Equal("P-256", (await Json(Wallet("keygen"))).GetProperty("created_key").GetString());
            var key = (await Json(Wallet("list"))).EnumerateArray().Single();
            var kid = key.GetProperty("kid").GetString()!;

            var signed = await Json(Wallet("sign", "--key", kid, "--data", "Signera"));
            Assert.True(signed.GetProperty("verified").GetBoolean());

            using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            var ecdh = await Json(Wallet("ecdh", "--key", kid, "--peer", Convert.ToBase64String(peer.PublicKey.ExportSubjectPublicKeyInfo())));
            using var listed = ECDiffieHellman.Create();
            listed.ImportSubjectPublicKeyInfo(Convert.FromBase64String(key.GetProperty("public_key").GetString()!), out _);
            Assert.Equal(Convert.ToHexStringLower(peer.DeriveRawSecretAgreement(listed.PublicKey)), ecdh.GetProperty("shared_secret").GetString());

            var ids = new[] { "--client-id", "cli-test-wallet", "--kid", init.GetProperty("kid").GetString()! };
            var shown = await Json(Admin(["show", .. ids]));
            Assert.True(shown.GetProperty("pin_set").GetBoolean());
            Assert.Equal(1, shown.GetProperty("hsm_key_count").GetInt32());

            // The vault: each command logs in with the PIN (the vault key comes from the export key) and ends that session.
            Assert.Equal(1, (await Json(Wallet("secret", "put", "--id", "notes.txt", "--value", "first", "--pin", "246810"))).GetProperty("version").GetInt64());
            Assert.Equal(2, (await Json(Wallet("secret", "put", "--id", "notes.txt", "--value", "second", "--pin", "246810"))).GetProperty("version").GetInt64());
            var got = await Json(Wallet("secret", "get", "--id", "notes.txt", "--pin", "246810"));
            Assert.Equal(("second", 2L), (got.GetProperty("value").GetString(), got.GetProperty("version").GetInt64()));
            var secrets = (await Json(Wallet("secret", "list", "--pin", "246810"))).EnumerateArray().Single();
            Assert.Equal(("notes.txt", 2L), (secrets.GetProperty("secret_id").GetString(), secrets.GetProperty("version").GetInt64()));
            Assert.Equal(1, (await Json(Admin(["show", .. ids]))).GetProperty("secret_count").GetInt32());
            Assert.Contains("\"notes.txt\": 2", await File.ReadAllTextAsync(Path.Combine(wallet, "vault-versions.json"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
            var trail = (await Json(Wallet("audit", "--limit", "5", "--pin", "246810"))).EnumerateArray().ToList();
            Assert.Equal(5, trail.Count);
            Assert.Contains(trail, e => e.GetProperty("type").GetString() == "secret_list");
            await Json(Wallet("secret", "delete", "--id", "notes.txt", "--pin", "246810"));
            Assert.Empty((await Json(Wallet("secret", "list", "--pin", "246810"))).EnumerateArray());
            Assert.Equal(3, (await Json(Wallet("secret", "put", "--id", "notes.txt", "--value", "third", "--pin", "246810"))).GetProperty("version").GetInt64());

            await Json(Wallet("delete", "--key", kid));
            Assert.Empty((await Json(Wallet("list"))).EnumerateArray());
            await Json(Wallet("close"));
            Assert.False(File.Exists(Path.Combine(wallet, "session.json")));

            Assert.Equal(44, (await Json(Admin(["reset", .. ids]))).GetProperty("authorization").GetString()!.Length);
            Assert.True((await Json(Admin(["revoke", .. ids]))).GetProperty("revoked").GetBoolean());
            var (exit, _, error) = await CliRunner.RunAsync(Wallet("login", "--pin", "246810"));
            Assert.NotEqual(0, exit);
            Assert.Contains("R2psClientException", error, StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Admin_with_a_wrong_token_is_refused()
    {
        var root = Directory.CreateTempSubdirectory("r2ps-admin-test-");
        try
        {
            await using var served = await ServedSystem.StartAsync(root.FullName);
            var (exit, _, error) = await CliRunner.RunAsync("admin", "show", "--url", served.Address.ToString(), "--token", "not-the-admin-token-at-all",
                "--client-id", "nobody", "--kid", "none");
            Assert.NotEqual(0, exit);
            Assert.Contains("bearer token", error, StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static async Task<JsonElement> Json(params string[] args)
    {
        var (exit, output, error) = await CliRunner.RunAsync(args);
        Assert.True(exit == 0, $"r2ps {string.Join(' ', args)}: {error}");
        using var document = JsonDocument.Parse(output);
        return document.RootElement.Clone();
    }
}
