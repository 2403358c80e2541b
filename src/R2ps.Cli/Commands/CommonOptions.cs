using System.CommandLine;

namespace R2ps.Cli.Commands;

internal static class CommonOptions
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static Option<bool> Json() => new("--json") { Description = "Print machine-readable JSON instead of a table." };

    public static Option<string> Data(string folder) => new("--data")
    {
        Description = "Data folder (SQLite databases and SoftHSM2 token); created when absent, reused when present.",
        DefaultValueFactory = _ => Path.Combine(".data", folder),
    };

    public static Option<string> Broker()
    {
        var option = new Option<string>("--broker") { Description = "Message broker: inmemory (one process) or rabbitmq.", DefaultValueFactory = _ => "inmemory" };
        option.AcceptOnlyFromAmong("inmemory", "rabbitmq");
        return option;
    }

    public static Option<string?> RabbitMq() => new("--rabbitmq")
    {
        Description = "RabbitMQ URI amqp://user:pass@host:port/vhost (configuration key RabbitMq:Uri).",
    };

    public static Option<Uri> Url() => new("--url")
    {
        Description = "Base address of the running BFF.",
        DefaultValueFactory = _ => new Uri(DefaultUrl),
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : DefaultUrl;
            if (Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
                return uri;
            r.AddError($"--url '{text}' is not an http(s) address.");
            return null!;
        },
    };

    /// <summary>An HTTP client on the BFF's base address.</summary>
    public static HttpClient Http(Uri url) => new() { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
}
