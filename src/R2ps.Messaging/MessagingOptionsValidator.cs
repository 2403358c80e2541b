using Microsoft.Extensions.Options;

namespace R2ps.Messaging;

/// <summary>Rejects unusable <see cref="MessagingOptions"/> at start: an unknown transport, a bad timeout, a bad context name.</summary>
public sealed class MessagingOptionsValidator : IValidateOptions<MessagingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, MessagingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var s = MessagingOptions.SectionName;
        var failures = new List<string>();
        if (!MessagingSetup.TryNormaliseTransport(options.Transport, out _))
            failures.Add($"{s}:Transport must be '{MessagingTransports.InMemory}' or '{MessagingTransports.RabbitMq}'.");
        if (options.RequestTimeout < TimeSpan.FromMilliseconds(100) || options.RequestTimeout > TimeSpan.FromMinutes(5))
            failures.Add($"{s}:RequestTimeout must be between 100 ms and 5 min.");
        if (options.StartTimeout <= TimeSpan.Zero || options.StartTimeout > TimeSpan.FromMinutes(10))
            failures.Add($"{s}:StartTimeout must be positive and at most 10 min.");
        if (options.StopTimeout <= TimeSpan.Zero || options.StopTimeout > TimeSpan.FromMinutes(10))
            failures.Add($"{s}:StopTimeout must be positive and at most 10 min.");
        foreach (var context in options.Contexts)
        {
            if (!R2psQueues.IsValidContext(context))
                failures.Add($"{s}:Contexts holds '{context}': a context is 1–{R2psQueues.MaxContextLength} characters of a–z, 0–9 and '-'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Rejects unusable <see cref="RabbitMqOptions"/> at start (only when RabbitMQ is the transport).</summary>
public sealed class RabbitMqOptionsValidator : IValidateOptions<RabbitMqOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RabbitMqOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var s = RabbitMqOptions.SectionName;
        var failures = new List<string>();
        if (!RabbitMqAddress.TryParse(options.Uri, out _, out var error))
            failures.Add(error);
        if (options.ConnectTimeout < TimeSpan.FromMilliseconds(100) || options.ConnectTimeout > TimeSpan.FromMinutes(2))
            failures.Add($"{s}:ConnectTimeout must be between 100 ms and 2 min.");
        if (options.Heartbeat < TimeSpan.FromSeconds(1) || options.Heartbeat > TimeSpan.FromMinutes(10))
            failures.Add($"{s}:Heartbeat must be between 1 s and 10 min.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
