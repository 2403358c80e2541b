using System.Diagnostics.CodeAnalysis;

namespace R2ps.Messaging;

/// <summary>A parsed, checked <see cref="RabbitMqOptions.Uri"/>. <see cref="ToString"/> never shows the password.</summary>
/// <param name="Host">Host name or address.</param>
/// <param name="Port">AMQP port (5672, or 5671 for amqps, unless given).</param>
/// <param name="VirtualHost">The vhost; <c>/</c> when the URI has no path.</param>
/// <param name="Username">User name (default <c>guest</c>).</param>
/// <param name="Password">Password (default <c>guest</c>).</param>
/// <param name="UseTls">Whether the URI is <c>amqps://</c>.</param>
public sealed record RabbitMqAddress(string Host, int Port, string VirtualHost, string Username, string Password, bool UseTls)
{
    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why (without echoing a password).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out RabbitMqAddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"{RabbitMqOptions.SectionName}:Uri is required when {MessagingOptions.SectionName}:Transport is '{MessagingTransports.RabbitMq}' (e.g. amqp://user:password@host:5672/vhost).";
            return false;
        }

        if (!System.Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            error = $"{RabbitMqOptions.SectionName}:Uri must be an absolute amqp:// or amqps:// URI (e.g. amqp://user:password@host:5672/vhost).";
            return false;
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            error = $"{RabbitMqOptions.SectionName}:Uri has no host.";
            return false;
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            error = $"{RabbitMqOptions.SectionName}:Uri must not have a query or fragment.";
            return false;
        }

        var useTls = uri.Scheme == "amqps";
        var port = uri.IsDefaultPort || uri.Port < 0 ? (useTls ? 5671 : 5672) : uri.Port;
        var path = uri.AbsolutePath.TrimStart('/');
        if (path.Contains('/', StringComparison.Ordinal))
        {
            error = $"{RabbitMqOptions.SectionName}:Uri path must be one vhost segment (a vhost containing '/' is written %2F).";
            return false;
        }

        var vhost = path.Length == 0 ? "/" : System.Uri.UnescapeDataString(path);
        var username = "guest";
        var password = "guest";
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            username = System.Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? string.Empty : System.Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            if (username.Length == 0)
            {
                error = $"{RabbitMqOptions.SectionName}:Uri has an empty user name.";
                return false;
            }
        }

        address = new RabbitMqAddress(uri.Host, port, vhost, username, password, useTls);
        error = null;
        return true;
    }

    /// <summary>The address without the password, for logs and errors.</summary>
    public override string ToString() => $"{(UseTls ? "amqps" : "amqp")}://{Username}@{Host}:{Port}/{System.Uri.EscapeDataString(VirtualHost)}";
}
