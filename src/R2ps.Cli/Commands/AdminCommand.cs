using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using R2ps.Cli.WalletState;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Wallet.Http;
using Spectre.Console;

namespace R2ps.Cli.Commands;

/// <summary><c>r2ps admin …</c>: the BFF's admin API (PROTOCOL.md 2.4) with the bearer token.</summary>
internal static class AdminCommand
{
    public static Command Create() => new("admin", "Administer device keys through a running BFF's admin API (--url; --token or Admin__Token).")
    {
        Register(), Reset(), Revoke(), Show(),
    };

    private static Command Register()
    {
        var publicKey = new Option<string?>("--public-key") { Description = "The device's public key, base64 SPKI DER (from 'r2ps wallet init')." };
        var wallet = new Option<string?>("--wallet") { Description = "Take client_id, kid and public key from this wallet folder instead." };
        var contexts = new Option<string[]>("--context") { Description = "Contexts the key may use.", DefaultValueFactory = _ => ["hsm"], AllowMultipleArgumentsPerToken = true };
        return AdminAction("register", "Register a device key and print its one-time code (POST /admin/v1/clients).", requireIds: false,
            async (parse, admin, clientId, kid, ct) =>
            {
                EcPublicKey key;
                if (parse.GetValue(wallet) is { } directory)
                {
                    var folder = new WalletFolder(directory);
                    var identity = folder.LoadIdentity();
                    using var device = folder.OpenDevice(identity);
                    (clientId, kid, key) = (identity.ClientId, identity.Kid, device.PublicKey);
                }
                else if (parse.GetValue(publicKey) is { } spki && clientId is not null && kid is not null)
                {
                    key = EcPublicKey.FromSpki(Base64Std.Decode(spki));
                }
                else
                {
                    throw new InvalidOperationException("Give --wallet DIR, or --client-id, --kid and --public-key.");
                }
                var registered = await admin.RegisterAsync(clientId!, kid!, key, parse.GetValue(contexts)!, ct);
                return new
                {
                    client_id = registered.ClientId,
                    kid = registered.Kid,
                    authorization = registered.Authorization,
                    authorization_expires_at = registered.AuthorizationExpiresAt,
                    server_public_key = registered.ServerPublicKey,
                };
            }, publicKey, wallet, contexts);
    }

    private static Command Reset() => AdminAction("reset", "Issue a fresh one-time code for a PIN reset (POST …/authorization).", requireIds: true,
        async (_, admin, clientId, kid, ct) =>
        {
            var issued = await admin.IssueRegistrationCodeAsync(clientId!, kid!, ct);
            return new { client_id = issued.ClientId, kid = issued.Kid, authorization = issued.Authorization, authorization_expires_at = issued.AuthorizationExpiresAt };
        });

    private static Command Revoke() => AdminAction("revoke", "Revoke a device key: its sessions end, its requests are denied (DELETE …).", requireIds: true,
        async (_, admin, clientId, kid, ct) =>
        {
            await admin.RevokeAsync(clientId!, kid!, ct);
            return new { client_id = clientId, kid, revoked = true };
        });

    private static Command Show() => AdminAction("show", "Show a device key's state: registered, PIN set, locked until, HSM key count, stored secrets (GET …).", requireIds: true,
        async (_, admin, clientId, kid, ct) =>
        {
            var status = await admin.GetStatusAsync(clientId!, kid!, ct);
            return new
            {
                client_id = status.ClientId,
                kid = status.Kid,
                registered = status.Registered,
                pin_set = status.PinSet,
                locked_until = status.LockedUntil,
                hsm_key_count = status.HsmKeyCount,
                secret_count = status.SecretCount,
            };
        });

    private static Command AdminAction(string name, string description, bool requireIds,
        Func<ParseResult, R2psAdminClient, string?, string?, CancellationToken, Task<object>> run, params Option[] options)
    {
        var url = CommonOptions.Url();
        var token = new Option<string?>("--token") { Description = "The admin bearer token (else environment variable Admin__Token)." };
        var clientId = new Option<string?>("--client-id") { Description = "The device's client_id.", Required = requireIds };
        var kid = new Option<string?>("--kid") { Description = "The device key's kid.", Required = requireIds };
        var json = CommonOptions.Json();
        var command = new Command(name, description) { url, token, clientId, kid, json };
        foreach (var option in options) command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var bearer = parse.GetValue(token) ?? Environment.GetEnvironmentVariable("Admin__Token")
                ?? throw new InvalidOperationException("Give the admin token with --token or Admin__Token.");
            using var http = CommonOptions.Http(parse.GetValue(url)!);
            var result = await run(parse, new R2psAdminClient(http, bearer), parse.GetValue(clientId), parse.GetValue(kid), cancellationToken);
            if (parse.GetValue(json))
            {
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(result));
                return 0;
            }
            var table = new Table().AddColumns("field", "value").HideHeaders();
            foreach (var property in JsonSerializer.SerializeToElement(result).EnumerateObject())
                table.AddRow(Markup.Escape(property.Name), Markup.Escape(Readable(property)));
            ServeCommand.ConsoleFor(parse).Write(table);
            return 0;
        });
        return command;
    }

    // Unix times as UTC dates, booleans as yes/no, nulls as "-".
    private static string Readable(JsonProperty property) => property.Value.ValueKind switch
    {
        JsonValueKind.Null => "-",
        JsonValueKind.True => "yes",
        JsonValueKind.False => "no",
        JsonValueKind.Number when property.Name.EndsWith("_at", StringComparison.Ordinal) || property.Name == "locked_until" =>
            DateTimeOffset.FromUnixTimeSeconds(property.Value.GetInt64()).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture),
        _ => property.Value.ToString(),
    };
}
