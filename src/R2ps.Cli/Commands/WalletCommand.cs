using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using R2ps.Cli.WalletState;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Protocol.Payloads;
using R2ps.Wallet;
using R2ps.Wallet.Http;
using Spectre.Console;

namespace R2ps.Cli.Commands;

/// <summary>
/// <c>r2ps wallet …</c>: a wallet against a running BFF, its state kept in a folder between commands (see
/// <see cref="WalletFolder"/>). Each command opens its own HPKE device session; the OPAQUE sign session persists.
/// </summary>
internal static class WalletCommand
{
    private const string Context = "hsm";

    public static Command Create() => new("wallet", "A wallet against a running BFF: device key and session state in a folder (--wallet).")
    {
        Init(), RegisterPin(), Login(), Keygen(), List(), Sign(), Ecdh(), Delete(), Close(), Secret(), Audit(),
    };

    private static Option<string> WalletOption() => new("--wallet") { Description = "Wallet folder (device key, ids, pinned keys, current session).", DefaultValueFactory = _ => Path.Combine(".data", "wallet") };

    private static Option<string?> PinOption() => new("--pin") { Description = "The PIN (else environment variable R2PS_PIN, else asked for)." };

    private static Option<string> KeyOption() => new("--key") { Description = "The HSM key's kid (from 'wallet list').", Required = true };

    /// <summary>A wallet command: the common options, and an action that gets the opened wallet.</summary>
    private static Command WalletAction(string name, string description, Func<ParseResult, WalletRun, CancellationToken, Task<object>> run,
        Action<IAnsiConsole, object> print, params Option[] options)
    {
        var wallet = WalletOption();
        var url = CommonOptions.Url();
        var json = CommonOptions.Json();
        var command = new Command(name, description) { wallet, url, json };
        foreach (var option in options) command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var folder = new WalletFolder(parse.GetValue(wallet)!);
            using var http = CommonOptions.Http(parse.GetValue(url)!);
            using var walletRun = await WalletRun.OpenAsync(folder, http, cancellationToken);
            var result = await run(parse, walletRun, cancellationToken);
            if (parse.GetValue(json))
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(result));
            else
                print(ServeCommand.ConsoleFor(parse), result);
            return 0;
        });
        return command;
    }

    private static Command Init()
    {
        var wallet = WalletOption();
        var clientId = new Option<string?>("--client-id") { Description = "The client_id to register (default: wallet-<random>)." };
        var json = CommonOptions.Json();
        var command = new Command("init", "Create the wallet folder with a new P-256 device key; prints the SPKI for 'r2ps admin register'.") { wallet, clientId, json };
        command.SetAction(parse =>
        {
            var folder = new WalletFolder(parse.GetValue(wallet)!);
            var identity = folder.Initialize(parse.GetValue(clientId) ?? "wallet-" + Hex.Encode(RandomNumberGenerator.GetBytes(4)));
            using var device = folder.OpenDevice(identity);
            var spki = Base64Std.Encode(device.PublicKey.ToSpki());
            if (parse.GetValue(json))
            {
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new { wallet = folder.Root, client_id = identity.ClientId, kid = identity.Kid, public_key = spki }));
                return 0;
            }
            var console = ServeCommand.ConsoleFor(parse);
            console.Write(new Table().AddColumns("", "").HideHeaders()
                .AddRow("wallet", Markup.Escape(folder.Root))
                .AddRow("client_id", Markup.Escape(identity.ClientId))
                .AddRow("kid", Markup.Escape(identity.Kid))
                .AddRow("public_key (SPKI)", Markup.Escape(spki)));
            console.MarkupLine("Register it (administrator), then set the PIN with the code it prints:");
            console.MarkupLine($"  r2ps admin register --wallet {Markup.Escape(folder.Root)}");
            console.MarkupLine($"  r2ps admin register --client-id {Markup.Escape(identity.ClientId)} --kid {Markup.Escape(identity.Kid)} --public-key {Markup.Escape(spki)}");
            return 0;
        });
        return command;
    }

    private static Command RegisterPin()
    {
        var code = new Option<string>("--code") { Description = "The one-time code from 'r2ps admin register' (or 'reset').", Required = true };
        var pin = PinOption();
        return WalletAction("register-pin", "Register the PIN (OPAQUE) with the administrator's one-time code.", async (parse, run, ct) =>
        {
            await run.Wallet.RegisterPinAsync(ReadPin(parse, pin), parse.GetValue(code)!, ct);
            return new { client_id = run.Identity.ClientId, pin_registered = true };
        }, (console, _) => console.MarkupLine("[green]✓[/] PIN registered; the service never saw it."), code, pin);
    }

    private static Command Login()
    {
        var pin = PinOption();
        var ttl = new Option<int?>("--ttl") { Description = "Session duration in seconds (default: the service's)." };
        return WalletAction("login", "Log in with the PIN (OPAQUE) and keep the sign session in the wallet folder.", async (parse, run, ct) =>
        {
            var duration = parse.GetValue(ttl) is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
            using var session = await run.Wallet.LoginAsync(ReadPin(parse, pin), duration: duration, cancellationToken: ct);
            run.Folder.SaveSession(session);
            return new { pake_session_id = session.PakeSessionId, expires_at = session.ExpiresAt.ToUnixTimeSeconds() };
        }, (console, r) => console.MarkupLine($"[green]✓[/] logged in: {Markup.Escape(Describe(r))}"), pin, ttl);
    }

    private static Command Keygen()
    {
        var curve = new Option<string>("--curve") { Description = "P-256, P-384 or P-521.", DefaultValueFactory = _ => "P-256" };
        curve.AcceptOnlyFromAmong("P-256", "P-384", "P-521");
        return WalletAction("keygen", "Create an EC key in the HSM (hsm_ec_keygen).", async (parse, run, ct) =>
        {
            using var session = run.Session();
            var created = await session.GenerateKeyAsync(EcCurve.FromName(parse.GetValue(curve)), ct);
            return new { created_key = created };
        }, (console, r) => console.MarkupLine($"[green]✓[/] created: {Markup.Escape(Describe(r))} (see 'wallet list' for its kid)"), curve);
    }

    private static Command List() => WalletAction("list", "List the wallet's HSM keys (hsm_list_keys).", async (_, run, ct) =>
    {
        using var session = run.Session();
        return await session.ListKeysAsync(cancellationToken: ct);
    }, (console, r) =>
    {
        var table = new Table().AddColumns("kid", "curve", "created (UTC)", "public key (SPKI)");
        foreach (var k in (IReadOnlyList<KeyInfo>)r)
            table.AddRow(Markup.Escape(k.Kid), k.CurveName, DateTimeOffset.FromUnixTimeSeconds(k.CreationTime).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), Markup.Escape(k.PublicKey[..24] + "…"));
        console.Write(table);
    });

    private static Command Sign()
    {
        var key = KeyOption();
        var data = new Option<string?>("--data") { Description = "Text to sign; hashed with the key's curve hash (SHA-256/384/512)." };
        var hash = new Option<string?>("--hash") { Description = "The hash to sign, hex (32, 48 or 64 bytes)." };
        return WalletAction("sign", "Sign a hash with an HSM key (hsm_ecdsa); prints the DER signature and checks it against the listed public key.", async (parse, run, ct) =>
        {
            using var session = run.Session();
            var kid = parse.GetValue(key)!;
            var info = (await session.ListKeysAsync(cancellationToken: ct)).FirstOrDefault(k => k.Kid == kid)
                ?? throw new InvalidOperationException($"No HSM key with kid {kid}; see 'r2ps wallet list'.");
            var curve = EcCurve.FromName(info.CurveName);
            byte[] digest = parse.GetValue(hash) is { } hex ? Convert.FromHexString(hex)
                : parse.GetValue(data) is { } text ? HashFor(curve, Encoding.UTF8.GetBytes(text))
                : throw new InvalidOperationException("Give --data TEXT or --hash HEX.");
            var signature = await session.SignAsync(kid, digest, ct);
            using var verifier = ECDsa.Create();
            verifier.ImportSubjectPublicKeyInfo(Base64Std.Decode(info.PublicKey), out _);
            var verified = verifier.VerifyHash(digest, signature, DSASignatureFormat.Rfc3279DerSequence);
            return new { kid, hash = Hex.Encode(digest), signature = Base64Std.Encode(signature), verified };
        }, (console, r) => console.MarkupLine($"[green]✓[/] {Markup.Escape(Describe(r))}"), key, data, hash);
    }

    private static Command Ecdh()
    {
        var key = KeyOption();
        var peer = new Option<string>("--peer") { Description = "The peer's public key, base64 SPKI DER on the key's curve.", Required = true };
        return WalletAction("ecdh", "ECDH with an HSM key and a peer key (hsm_ecdh); prints the shared x-coordinate.", async (parse, run, ct) =>
        {
            using var session = run.Session();
            var secret = await session.EcdhAsync(parse.GetValue(key)!, Base64Std.Decode(parse.GetValue(peer)!), ct);
            return new { kid = parse.GetValue(key), shared_secret = Hex.Encode(secret) };
        }, (console, r) => console.MarkupLine($"[green]✓[/] {Markup.Escape(Describe(r))}"), key, peer);
    }

    private static Command Delete()
    {
        var key = KeyOption();
        return WalletAction("delete", "Delete an HSM key (hsm_ec_delete_key).", async (parse, run, ct) =>
        {
            using var session = run.Session();
            await session.DeleteKeyAsync(parse.GetValue(key)!, ct);
            return new { kid = parse.GetValue(key), deleted = true };
        }, (console, r) => console.MarkupLine($"[green]✓[/] {Markup.Escape(Describe(r))}"), key);
    }

    private static Command Close() => WalletAction("close", "End the sign session (session_end) and forget its key.", async (_, run, ct) =>
    {
        using var session = run.Session();
        await session.CloseAsync(ct);
        run.Folder.DeleteSession();
        return new { pake_session_id = session.PakeSessionId, closed = true };
    }, (console, r) => console.MarkupLine($"[green]✓[/] session closed: {Markup.Escape(Describe(r))}"));

    // The vault (PROTOCOL.md 4): its key comes from the OPAQUE export key, which only a login with the PIN yields, so each
    // of these commands logs in, does its work and ends that session (the folder's session.json is not used).

    private static Option<string> SecretIdOption() => new("--id") { Description = "The secret's id: 1–64 characters of A-Z a-z 0-9 . _ -.", Required = true };

    private static Command Secret()
    {
        var command = new Command("secret", "The secret vault: values encrypted on this device (key from the PIN login), versioned on the server.")
        {
            SecretPut(), SecretGet(), SecretList(), SecretDelete(),
        };
        return command;
    }

    private static Command SecretPut()
    {
        var id = SecretIdOption();
        var value = new Option<string?>("--value") { Description = "The secret as text." };
        var file = new Option<string?>("--file") { Description = "Read the secret from this file instead." };
        var pin = PinOption();
        return WalletAction("put", "Store a new version of a secret (secret_store); a version stored meanwhile elsewhere is re-read and stored above.", async (parse, run, ct) =>
        {
            byte[] plaintext = parse.GetValue(file) is { } path ? await File.ReadAllBytesAsync(path, ct)
                : parse.GetValue(value) is { } text ? Encoding.UTF8.GetBytes(text)
                : throw new InvalidOperationException("Give --value TEXT or --file PATH.");
            try
            {
                return await WithVaultAsync(parse, pin, run, async vault =>
                    (object)new { secret_id = parse.GetValue(id), version = await vault.PutAsync(parse.GetValue(id)!, plaintext, ct), size = plaintext.Length }, ct);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }
        }, (console, r) => console.MarkupLine($"[green]✓[/] stored: {Markup.Escape(Describe(r))}"), id, value, file, pin);
    }

    private static Command SecretGet()
    {
        var id = SecretIdOption();
        var output = new Option<string?>("--out") { Description = "Write the secret to this file (mode 0600) instead of printing it." };
        var pin = PinOption();
        return WalletAction("get", "Read and decrypt a secret (secret_retrieve); refuses a version older than one seen before (rollback).", async (parse, run, ct) =>
            await WithVaultAsync(parse, pin, run, async vault =>
            {
                using var secret = await vault.GetAsync(parse.GetValue(id)!, ct);
                if (parse.GetValue(output) is { } path)
                {
                    var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
                    if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                    await using (var stream = new FileStream(path, options))
                        await stream.WriteAsync(secret.Plaintext, ct);
                    return (object)new { secret_id = secret.SecretId, version = secret.Version, stored_at = secret.StoredAt.ToUnixTimeSeconds(), written_to = path };
                }
                return new { secret_id = secret.SecretId, version = secret.Version, stored_at = secret.StoredAt.ToUnixTimeSeconds(), value = Encoding.UTF8.GetString(secret.Plaintext) };
            }, ct),
            (console, r) => console.MarkupLine($"[green]✓[/] {Markup.Escape(Describe(r))}"), id, output, pin);
    }

    private static Command SecretList()
    {
        var pin = PinOption();
        return WalletAction("list", "List the stored secrets (secret_list): id, version, size, stored at.", async (parse, run, ct) =>
            await WithVaultAsync(parse, pin, run, async vault => (object)await vault.ListAsync(ct), ct),
            (console, r) =>
            {
                var table = new Table().AddColumns("secret_id", "version", "size", "stored (UTC)");
                foreach (var s in (IReadOnlyList<SecretInfo>)r)
                    table.AddRow(Markup.Escape(s.SecretId), s.Version.ToString(CultureInfo.InvariantCulture), s.Size.ToString(CultureInfo.InvariantCulture), Time(s.StoredAt));
                console.Write(table);
            }, pin);
    }

    private static Command SecretDelete()
    {
        var id = SecretIdOption();
        var pin = PinOption();
        return WalletAction("delete", "Delete a secret (secret_delete); its version counter stays, so a new one continues above it.", async (parse, run, ct) =>
            await WithVaultAsync(parse, pin, run, async vault =>
            {
                await vault.DeleteAsync(parse.GetValue(id)!, ct);
                return (object)new { secret_id = parse.GetValue(id), deleted = true };
            }, ct),
            (console, r) => console.MarkupLine($"[green]✓[/] {Markup.Escape(Describe(r))}"), id, pin);
    }

    private static Command Audit()
    {
        var since = new Option<long?>("--since") { Description = "Only events at or after this time (epoch seconds)." };
        var limit = new Option<int?>("--limit") { Description = "At most this many events (1–100, default 50)." };
        var pin = PinOption();
        return WalletAction("audit", "This key's audit trail on the server (audit_log), newest first, refused requests included.", async (parse, run, ct) =>
            await WithVaultAsync(parse, pin, run, async vault =>
                (object)await vault.AuditAsync(parse.GetValue(since) is { } s ? DateTimeOffset.FromUnixTimeSeconds(s) : null, parse.GetValue(limit), ct), ct),
            (console, r) => console.Write(AuditTable((IReadOnlyList<AuditEvent>)r)), since, limit, pin);
    }

    /// <summary>The audit events as a table (also the demo's).</summary>
    internal static Table AuditTable(IReadOnlyList<AuditEvent> events)
    {
        var table = new Table().AddColumns("time (UTC)", "type", "outcome", "error_code");
        foreach (var e in events)
            table.AddRow(DateTimeOffset.FromUnixTimeMilliseconds(e.Time).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
                Markup.Escape(e.Type), e.Outcome == "OK" ? "[green]OK[/]" : "[red]ERROR[/]", Markup.Escape(e.ErrorCode ?? ""));
        return table;
    }

    /// <summary>Logs in with the PIN, runs <paramref name="work"/> on the vault, and ends the session whatever happens.</summary>
    private static async Task<object> WithVaultAsync(ParseResult parse, Option<string?> pin, WalletRun run, Func<SecretVault, Task<object>> work, CancellationToken ct)
    {
        using var session = await run.Wallet.LoginAsync(ReadPin(parse, pin), cancellationToken: ct);
        try
        {
            return await work(session.Vault);
        }
        finally
        {
            try
            {
                await session.CloseAsync(CancellationToken.None);
            }
            catch (R2psClientException)
            {
                // The session expires by TTL anyway; the command's own outcome is what counts.
            }
        }
    }

    private static string Time(long epochSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(epochSeconds).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static byte[] HashFor(EcCurve curve, byte[] data) => curve.JwsHash.Name switch
    {
        "SHA384" => SHA384.HashData(data),
        "SHA512" => SHA512.HashData(data),
        _ => SHA256.HashData(data),
    };

    private static string ReadPin(ParseResult parse, Option<string?> pin) =>
        parse.GetValue(pin) ?? Environment.GetEnvironmentVariable("R2PS_PIN")
        ?? (Console.IsInputRedirected
            ? throw new InvalidOperationException("Give the PIN with --pin or R2PS_PIN.")
            : AnsiConsole.Prompt(new TextPrompt<string>("PIN:").Secret()));

    // A result object as "name value, …" for the readable output.
    private static string Describe(object result) =>
        string.Join(", ", JsonSerializer.SerializeToElement(result).EnumerateObject().Select(p => $"{p.Name} {p.Value}"));
}

/// <summary>One wallet command's opened state: identity, device, HTTP transport with pinned keys, and the wallet.</summary>
internal sealed class WalletRun : IDisposable
{
    private readonly R2psDevice _device;
    private readonly HttpR2psTransport _transport;

    private WalletRun(WalletFolder folder, WalletIdentity identity, R2psDevice device, HttpR2psTransport transport, R2psWallet wallet)
    {
        Folder = folder;
        Identity = identity;
        _device = device;
        _transport = transport;
        Wallet = wallet;
    }

    public WalletFolder Folder { get; }

    public WalletIdentity Identity { get; }

    public R2psWallet Wallet { get; }

    /// <summary>
    /// Opens the wallet. The BFF and server keys are pinned on first contact (GET /r2ps/v1/keys) and used as pinned
    /// afterwards: a BFF that later presents other keys fails the device-session confirmation or the response checks.
    /// </summary>
    public static async Task<WalletRun> OpenAsync(WalletFolder folder, HttpClient http, CancellationToken cancellationToken)
    {
        var identity = folder.LoadIdentity();
        if (identity.BffKey is null || identity.ServerKey is null)
        {
            var keys = await HttpR2psTransport.GetKeysAsync(http, cancellationToken);
            if (!keys.ServerKeys.TryGetValue("hsm", out var serverKey))
                throw new InvalidOperationException("The BFF names no server key for context 'hsm'.");
            identity = identity with
            {
                BffKey = Base64Std.Encode(keys.BffKey.ToSpki()),
                ServerKey = Base64Std.Encode(serverKey.ToSpki()),
                BffUrl = http.BaseAddress?.ToString(),
            };
            folder.SaveIdentity(identity);
        }
        var device = folder.OpenDevice(identity);
        var transport = new HttpR2psTransport(http, device, EcPublicKey.FromSpki(Base64Std.Decode(identity.BffKey!)));
        // The vault's memory of versions lives in the folder, so a rollback is caught across commands.
        var wallet = new R2psWallet(device, EcPublicKey.FromSpki(Base64Std.Decode(identity.ServerKey!)), transport,
            new R2psWalletOptions { VaultVersions = new VaultVersionFile(folder.Root) });
        return new WalletRun(folder, identity, device, transport, wallet);
    }

    /// <summary>The sign session kept by 'wallet login' (dispose it: the key copy is zeroed).</summary>
    public SignSession Session()
    {
        var stored = Folder.LoadSession() ?? throw new InvalidOperationException("No sign session; run 'r2ps wallet login' first.");
        var expires = DateTimeOffset.FromUnixTimeSeconds(stored.ExpiresAt);
        if (expires <= DateTimeOffset.UtcNow)
        {
            Folder.DeleteSession();
            throw new InvalidOperationException($"The sign session expired at {expires:HH:mm:ss} UTC; run 'r2ps wallet login' again.");
        }
        var key = Base64Std.Decode(stored.SessionKey);
        try
        {
            return Wallet.ResumeSession(stored.PakeSessionId, key, expires);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public void Dispose()
    {
        _transport.Dispose();
        _device.Dispose();
    }
}
