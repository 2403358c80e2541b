using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using R2ps.Sessions.Persistence;

namespace R2ps.Sessions;

/// <summary>Registration of the sign-session saga and its services.</summary>
public static class SignSessionRegistrationExtensions
{
    /// <summary>
    /// What any role that reads or commands sign sessions needs (a worker that serves sessions but hosts no saga):
    /// <see cref="SignSessionOptions"/> bound from the <c>SignSessions</c> section (then <paramref name="configure"/>) and
    /// validated at start, <see cref="TimeProvider"/> (system clock unless one is registered), the saga's DbContext
    /// factory, <see cref="ISignSessionReader"/>, <see cref="ISignSessionCommands"/>, and schema creation at start.
    /// Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddSignSessionServices(this IServiceCollection services, Action<SignSessionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var optionsBuilder = services.AddOptions<SignSessionOptions>()
            .Configure<IServiceProvider>((options, provider) =>
                provider.GetService<IConfiguration>()?.GetSection(SignSessionOptions.SectionName).Bind(options));
        if (configure is not null)
            optionsBuilder.Configure(configure);
        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SignSessionOptions>, SignSessionOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SignSessionDbContextFactory>();
        services.TryAddSingleton<IDbContextFactory<SignSessionDbContext>>(provider => provider.GetRequiredService<SignSessionDbContextFactory>());
        services.TryAddSingleton<ISignSessionReader, SignSessionReader>();
        services.TryAddSingleton<ISignSessionCommands, SignSessionCommands>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SignSessionSchemaInitializer>());
        return services;
    }

    /// <summary>
    /// Hosts the sign-session saga in this bus: the state machine with its EF Core repository and endpoint policy
    /// (<see cref="SignSessionStateDefinition"/>), the context-close and client-end fan-out consumers, the expiry
    /// sweeper (unless <see cref="SignSessionOptions.SweeperEnabled"/> is off), and <see cref="AddSignSessionServices"/>.
    /// </summary>
    public static IBusRegistrationConfigurator AddSignSessions(this IBusRegistrationConfigurator configurator,
        Action<SignSessionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configurator);

        configurator.AddSignSessionServices(configure);
        configurator.AddSagaStateMachine<SignSessionStateMachine, SignSessionState, SignSessionStateDefinition>()
            .EntityFrameworkOptimisticRepository<SignSessionState, SignSessionDbContext>();
        configurator.AddConsumer<CloseSignSessionContextConsumer>();
        configurator.AddConsumer<EndClientSignSessionsConsumer>();
        configurator.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SignSessionExpirySweeper>());
        return configurator;
    }
}
