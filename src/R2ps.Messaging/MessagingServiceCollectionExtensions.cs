using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace R2ps.Messaging;

/// <summary>Registers MassTransit the way every R2PS host uses it.</summary>
public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// Adds the bus: <see cref="MessagingOptions"/> (section <c>Messaging</c>) and, for RabbitMQ, <see cref="RabbitMqOptions"/>
    /// (section <c>RabbitMq</c>), both validated at start; kebab-case endpoint names; the transport
    /// (<c>Messaging:Transport</c> = <c>inmemory</c>, the default, or <c>rabbitmq</c>) with every registered endpoint
    /// configured; publisher confirms on; and <see cref="R2psServiceClient"/>. <paramref name="configureBus"/> adds the
    /// host's consumers, sagas and definitions. The transport is chosen here, so a bad <c>Messaging</c> or
    /// <c>RabbitMq</c> section fails right away with an <see cref="OptionsValidationException"/> naming the setting.
    /// </summary>
    public static IServiceCollection AddR2psMessaging(this IServiceCollection services, IConfiguration configuration,
        Action<IBusRegistrationConfigurator>? configureBus = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var messagingSection = configuration.GetSection(MessagingOptions.SectionName);
        var rabbitSection = configuration.GetSection(RabbitMqOptions.SectionName);
        services.AddOptions<MessagingOptions>().Bind(messagingSection).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MessagingOptions>, MessagingOptionsValidator>());

        // The transport is a registration-time choice in MassTransit, so the options are read and checked now.
        var messaging = messagingSection.Get<MessagingOptions>() ?? new MessagingOptions();
        ThrowIfInvalid(new MessagingOptionsValidator().Validate(null, messaging), typeof(MessagingOptions));
        _ = MessagingSetup.TryNormaliseTransport(messaging.Transport, out var transport); // validated just above

        RabbitMqAddress? rabbitAddress = null;
        RabbitMqOptions? rabbit = null;
        if (transport == MessagingTransports.RabbitMq)
        {
            services.AddOptions<RabbitMqOptions>().Bind(rabbitSection).ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqOptions>, RabbitMqOptionsValidator>());
            rabbit = rabbitSection.Get<RabbitMqOptions>() ?? new RabbitMqOptions();
            ThrowIfInvalid(new RabbitMqOptionsValidator().Validate(null, rabbit), typeof(RabbitMqOptions));
            if (!RabbitMqAddress.TryParse(rabbit.Uri, out rabbitAddress, out var error))
                throw new OptionsValidationException(nameof(RabbitMqOptions), typeof(RabbitMqOptions), [error]);
        }

        services.AddOptions<MassTransitHostOptions>().Configure(options =>
        {
            options.WaitUntilStarted = messaging.WaitUntilStarted;
            options.StartTimeout = messaging.StartTimeout;
            options.StopTimeout = messaging.StopTimeout;
        });

        services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            configureBus?.Invoke(bus);
            if (rabbitAddress is not null)
            {
                bus.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(rabbitAddress.Host, (ushort)rabbitAddress.Port, rabbitAddress.VirtualHost, host =>
                    {
                        host.Username(rabbitAddress.Username);
                        host.Password(rabbitAddress.Password);
                        host.RequestedConnectionTimeout(rabbit!.ConnectTimeout);
                        host.Heartbeat(rabbit.Heartbeat);
                        // Explicit: every publish/send waits for the broker's ack, so a state-changing message
                        // (a saga command, an expiry) is never lost silently between us and the broker.
                        host.PublisherConfirmation = true;
                        host.ConnectionName(MessagingSetup.ConnectionName());
                        if (rabbitAddress.UseTls)
                            host.UseSsl(ssl => ssl.ServerName = rabbitAddress.Host);
                    });
                    cfg.ConfigureEndpoints(context);
                });
            }
            else
            {
                bus.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
            }
        });

        services.TryAddSingleton<R2psServiceClient>();
        return services;
    }

    static void ThrowIfInvalid(ValidateOptionsResult result, Type optionsType)
    {
        if (result.Failed)
            throw new OptionsValidationException(optionsType.Name, optionsType, result.Failures);
    }
}

/// <summary>Small helpers of the set-up.</summary>
internal static class MessagingSetup
{
    public static bool TryNormaliseTransport(string? value, out string transport)
    {
        transport = (value ?? string.Empty).Trim().ToLowerInvariant();
        return transport is MessagingTransports.InMemory or MessagingTransports.RabbitMq;
    }

    /// <summary>Shown in the RabbitMQ management UI's connection list: which process holds the connection.</summary>
    public static string ConnectionName() =>
        $"{AppDomain.CurrentDomain.FriendlyName}@{Environment.MachineName}:{Environment.ProcessId}";
}
