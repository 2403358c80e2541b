using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using R2ps.Messaging;
using R2ps.Service;
using R2ps.Sessions;
using R2ps.Store;

namespace R2ps.Worker.Hosting;

/// <summary>
/// The worker's waits must end before the caller's: a request whose inner wait (a saga request, a fan-out, a locked
/// SQLite file) outlasts <c>Messaging:RequestTimeout</c> answers a caller who was already told SERVICE_UNAVAILABLE, and
/// may have changed state meanwhile. Defaults: caller 10 s; saga request 3 s (fan-out 6 s); SQLite busy 2 s (store and
/// saga). The consumer also stops a request at its own deadline; this check catches a configuration that could never
/// finish in time.
/// </summary>
public static class TimeoutBudget
{
    /// <summary>Room left, beyond the longest single inner wait, for the rest of the request's work.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);

    /// <summary>What is wrong with the timeouts (empty when they fit).</summary>
    public static IReadOnlyList<string> Check(MessagingOptions messaging, SignSessionOptions sessions, StoreOptions store,
        R2psServiceOptions service)
    {
        ArgumentNullException.ThrowIfNull(messaging);
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(service);
        var outer = messaging.RequestTimeout;
        var failures = new List<string>();
        if (sessions.FanOutTimeout + Margin >= outer)
            failures.Add($"SignSessions:RequestTimeout ({sessions.RequestTimeout.TotalSeconds:0.###} s) × 2 (a fan-out) + {Margin.TotalSeconds:0} s must be below "
                + $"Messaging:RequestTimeout ({outer.TotalSeconds:0.###} s), or a slow saga changes state after the caller was told 503.");
        if (TimeSpan.FromSeconds(store.SqliteCommandTimeoutSeconds) + Margin >= outer)
            failures.Add($"Store:SqliteBusyTimeout (rounded up to whole seconds) + {Margin.TotalSeconds:0} s must be below Messaging:RequestTimeout ({outer.TotalSeconds:0.###} s).");
        if (sessions.MaxSessionDuration < service.DefaultMaxSessionDuration)
            failures.Add("SignSessions:MaxSessionDuration must be at least R2ps:DefaultMaxSessionDuration, or sessions end before the expiry the wallet is told.");
        return failures;
    }
}

/// <summary>
/// Runs <see cref="TimeoutBudget.Check"/> when the worker's options are validated at start. <see cref="R2psServiceOptions"/>
/// are bound here from configuration, not taken from <c>IOptions</c>: their post-configuration reads the worker's options,
/// which are being validated right now (a cycle).
/// </summary>
internal sealed class TimeoutBudgetValidator(IOptions<MessagingOptions> messaging, IOptions<SignSessionOptions> sessions,
    IOptions<StoreOptions> store, IServiceProvider services) : IValidateOptions<WorkerOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        try
        {
            var service = new R2psServiceOptions();
            services.GetService<IConfiguration>()?.GetSection(R2psServiceOptions.SectionName).Bind(service);
            var failures = TimeoutBudget.Check(messaging.Value, sessions.Value, store.Value, service);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
        catch (OptionsValidationException)
        {
            // A section that is invalid on its own is reported by its own validator; nothing to compare yet.
            return ValidateOptionsResult.Skip;
        }
    }
}
