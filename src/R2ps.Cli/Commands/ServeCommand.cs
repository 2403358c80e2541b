using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Cli.Hosting;
using Spectre.Console;

namespace R2ps.Cli.Commands;

/// <summary>
/// <c>r2ps serve all|bff|worker|saga</c>: the service's roles, together in one process or apart. Configuration as any .NET
/// host reads it — appsettings.json (current directory), environment variables (<c>Admin__Token</c>, <c>RabbitMq__Uri</c>),
/// and <c>--Section:Key=value</c> arguments — over the data folder's defaults; <c>--broker</c> and <c>--rabbitmq</c> win.
/// </summary>
internal static class ServeCommand
{
    public static Command Create() => new("serve", "Run the service: 'all' (BFF + worker + saga in one process), 'bff', 'worker' or 'saga'. Ctrl+C stops it.")
    {
        Role("all", ServerRole.All, "BFF, worker and sign-session saga in ONE process (in-memory bus by default)."),
        Role("bff", ServerRole.Bff, "The BFF alone (HTTP ingress, device sessions, admin API); workers reach it over RabbitMQ."),
        Role("worker", ServerRole.Worker, "One HSM worker (request consumer, admin consumers, the saga and its sweeper), as src/R2ps.Worker."),
        Role("saga", ServerRole.Saga, "The sign-session saga alone (state machine, fan-out consumers, expiry sweeper) on the broker; no HSM."),
    };

    private static Command Role(string name, ServerRole role, string description)
    {
        var urls = new Option<string?>("--urls") { Description = $"Where the BFF listens, e.g. {CommonOptions.DefaultUrl} (default: {CommonOptions.DefaultUrl}, or the 'urls' configuration key)." };
        var data = CommonOptions.Data("serve");
        var broker = CommonOptions.Broker();
        var rabbitMq = CommonOptions.RabbitMq();
        var command = new Command(name, description) { data, broker, rabbitMq };
        if (role is ServerRole.All or ServerRole.Bff) command.Options.Add(urls);
        // Anything else on the line is configuration (--Hsm:SessionPoolSize=4), as for any .NET host.
        command.TreatUnmatchedTokensAsErrors = false;
        command.Validators.Add(r =>
        {
            if (r.GetValue(broker) == "rabbitmq" && string.IsNullOrWhiteSpace(r.GetValue(rabbitMq))
                && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("RabbitMq__Uri")))
                r.AddError("--broker rabbitmq needs --rabbitmq amqp://user:pass@host:port/vhost (or RabbitMq__Uri).");
            if (role == ServerRole.All && r.GetValue(broker) == "inmemory" && r.GetValue(rabbitMq) is not null)
                r.AddError("--rabbitmq is used with --broker rabbitmq only.");
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            var console = ConsoleFor(parse);
            var dataFolder = DataFolder.Ensure(parse.GetValue(data)!);
            // Roles with an HSM create the service keys under the folder's lock first, so workers starting at once on a
            // fresh folder find one server key and one sealing key instead of each making its own.
            if (role is ServerRole.Worker or ServerRole.All) await dataFolder.ProvisionServiceKeysAsync(cancellationToken);
            // An explicit --broker wins over the configuration; its default only fills in when nothing else names a transport.
            var defaults = dataFolder.Settings();
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (parse.GetResult(broker) is { Implicit: false }) overrides["Messaging:Transport"] = parse.GetValue(broker);
            else defaults["Messaging:Transport"] = parse.GetValue(broker);
            if (parse.GetValue(rabbitMq) is { } uri) overrides["RabbitMq:Uri"] = uri;
            var listen = role is ServerRole.Worker or ServerRole.Saga ? null : parse.GetValue(urls) ?? (HasUrlsConfigured(parse.UnmatchedTokens) ? null : CommonOptions.DefaultUrl);

            console.MarkupLine($"[bold]r2ps serve {name}[/] — {Markup.Escape(description)}");
            console.MarkupLine($"  data folder   {Markup.Escape(dataFolder.Root)} (SQLite r2ps.db, bff.db; SoftHSM2 token '{Markup.Escape(dataFolder.Token.Label)}' in hsm/)");
            if (parse.GetValue(rabbitMq) is { } shown) console.MarkupLine($"  rabbitmq      {Markup.Escape(Redact(shown))}");
            console.MarkupLine(role switch
            {
                ServerRole.Saga => "… starting (saga store, bus)",
                ServerRole.Worker => "… starting (self-test, HSM, store, bus)",
                _ => "… starting (self-test, HSM, store, bus, Kestrel)",
            });

            await using var server = await ServerHost.StartAsync(role, new ServerHostSettings
            {
                Defaults = defaults,
                Overrides = overrides,
                Arguments = parse.UnmatchedTokens.ToArray(),
                Urls = listen,
            }, cancellationToken);

            foreach (var address in server.Addresses)
            {
                console.MarkupLine($"[green]✓[/] listening on {Markup.Escape(address.ToString())}");
                console.MarkupLine($"    {Markup.Escape(address + "r2ps/v1/keys")}  {Markup.Escape(address + "r2ps/v1/device-sessions")}  {Markup.Escape(address + "r2ps/v1/service")}");
                console.MarkupLine($"    {Markup.Escape(address + "admin/v1/clients")}  {Markup.Escape(address + "health/ready")}");
            }
            var transport = server.Services.GetRequiredService<IConfiguration>()["Messaging:Transport"];
            console.MarkupLine($"[green]✓[/] serving ({name}, transport {Markup.Escape(transport ?? "?")}); press Ctrl+C to stop.");
            await server.WaitForShutdownAsync(cancellationToken);
            console.MarkupLine("… stopping");
            return 0;
        });
        return command;
    }

    /// <summary>The command's output (a test's writer, or the terminal) as a Spectre console.</summary>
    internal static IAnsiConsole ConsoleFor(ParseResult parse) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output) });

    private static bool HasUrlsConfigured(IReadOnlyList<string> arguments) =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_URLS"))
        || arguments.Any(a => a.StartsWith("--urls", StringComparison.OrdinalIgnoreCase));

    // The password of an amqp URI stays off the screen.
    private static string Redact(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.UserInfo.Contains(':', StringComparison.Ordinal)
            ? uri.Replace(parsed.UserInfo, parsed.UserInfo[..parsed.UserInfo.IndexOf(':', StringComparison.Ordinal)] + ":***", StringComparison.Ordinal)
            : uri;
}
