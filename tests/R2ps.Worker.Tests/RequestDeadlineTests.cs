using System.Reflection;
using System.Text.Json;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using R2ps.Contracts;
using R2ps.Messaging;
using R2ps.Protocol;
using R2ps.Service;
using R2ps.Service.Ports;
using R2ps.Sessions;
using R2ps.Worker.Adapters;
using R2ps.Worker.Consumers;
using R2ps.Worker.Hosting;

namespace R2ps.Worker.Tests;

/// <summary>
/// The worker's waits end before the caller's (ARCHITECTURE.md pitfalls: bound every wait): an expired request is not
/// processed, a saga that cannot be reached is SERVICE_UNAVAILABLE, and a configuration whose inner waits outlast the
/// caller's timeout does not start. In-process, on MassTransit's in-memory test harness — no broker needed.
/// </summary>
public sealed class RequestDeadlineTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_request_still_in_time_is_processed()
    {
        await using var worker = await ConsumerHarness.StartAsync(clockAhead: TimeSpan.Zero);

        var reply = await worker.SendAsync("not-a-jws");

        Assert.Equal(400, reply.Status); // the processor ran: the envelope is refused as malformed
        Assert.Empty(worker.Audit.Records); // unauthenticated: counted in a metric, not audited (issue 10 item 2)
    }

    [Fact]
    public async Task A_request_whose_expiration_is_a_year_ahead_of_the_workers_clock_is_processed_with_a_bounded_deadline()
    {
        // The worker's clock is far behind the sender's (or a test moved it back): no timer can run that long.
        await using var worker = await ConsumerHarness.StartAsync(clockAhead: TimeSpan.FromDays(-365));

        var reply = await worker.SendAsync("not-a-jws");

        Assert.Equal(400, reply.Status); // processed (a request not processed is answered 503, below)
        Assert.Empty(worker.Audit.Records);
    }

    [Fact]
    public async Task A_request_taken_after_its_expiration_is_answered_service_unavailable_without_being_processed()
    {
        // The request lived 10 s (the caller's timeout); this worker takes it one minute later, e.g. from its prefetch.
        await using var worker = await ConsumerHarness.StartAsync(clockAhead: TimeSpan.FromMinutes(1));

        var reply = await worker.SendAsync("not-a-jws");

        Assert.Equal(503, reply.Status);
        Assert.Equal("SERVICE_UNAVAILABLE", JsonDocument.Parse(reply.Body).RootElement.GetProperty("error_code").GetString());
        Assert.Empty(worker.Audit.Records); // the processor never saw it: no nonce, no state change, no audit entry
    }

    [Fact]
    public async Task A_saga_command_that_cannot_be_sent_is_service_unavailable_not_server_error()
    {
        var gateway = new SignSessionGateway(new UnreachableSaga(), new NoSessions());

        var error = await Assert.ThrowsAsync<R2psException>(() => gateway.CloseAsync(new string('a', 64), SessionEndReasons.Closed, Ct));

        Assert.Equal(ErrorCode.ServiceUnavailable, error.Code);
        Assert.IsType<RequestException>(error.InnerException);
    }

    [Fact]
    public async Task A_saga_that_does_not_answer_in_time_is_service_unavailable()
    {
        var gateway = new SignSessionGateway(new UnreachableSaga(timeout: true), new NoSessions());

        var error = await Assert.ThrowsAsync<R2psException>(() => gateway.EndClientSessionsAsync("c", "k", SessionEndReasons.Revoked, Ct));

        Assert.Equal(ErrorCode.ServiceUnavailable, error.Code);
    }

    [Fact]
    public void The_default_timeouts_fit_the_callers_10_s()
    {
        Assert.Empty(TimeoutBudget.Check(new MessagingOptions(), new SignSessionOptions(), new Store.StoreOptions(), new R2psServiceOptions()));
    }

    [Fact]
    public void A_saga_timeout_whose_fan_out_outlasts_the_callers_timeout_fails_the_start()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Messaging:RequestTimeout"] = "00:00:10",
            ["SignSessions:ConnectionString"] = "Data Source=unused.db",
            ["SignSessions:RequestTimeout"] = "00:00:05", // a fan-out waits 10 s
        }).Build();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddOptions<MessagingOptions>().Bind(configuration.GetSection(MessagingOptions.SectionName));
        services.AddSignSessionServices();
        services.AddR2psWorkerIdentity(configuration);
        services.AddR2psServiceCore(configuration);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<WorkerOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith("SignSessions:RequestTimeout (5 s) × 2 (a fan-out) + 1 s must be below Messaging:RequestTimeout (10 s)",
            StringComparison.Ordinal));
    }

    [Fact]
    public void A_store_busy_timeout_as_long_as_the_callers_timeout_is_refused()
    {
        var failures = TimeoutBudget.Check(new MessagingOptions(), new SignSessionOptions(),
            new Store.StoreOptions { SqliteBusyTimeout = TimeSpan.FromSeconds(10) }, new R2psServiceOptions());

        Assert.Contains(failures, f => f.StartsWith("Store:SqliteBusyTimeout", StringComparison.Ordinal));
    }

    sealed class UnreachableSaga(bool timeout = false) : ISignSessionCommands
    {
        Exception Failure => timeout ? new RequestTimeoutException("no answer") : new RequestException("The broker is unreachable.");

        public Task BeginLoginAsync(BeginSignSessionLogin command, CancellationToken cancellationToken = default) => throw Failure;

        public Task<SignSessionActivation> ActivateAsync(ActivateSignSession command, CancellationToken cancellationToken = default) => throw Failure;

        public Task CloseAsync(Guid sessionId, string reason, CancellationToken cancellationToken = default) => throw Failure;

        public Task<int> CloseContextAsync(string clientId, string kid, string context, CancellationToken cancellationToken = default) => throw Failure;

        public Task<int> EndClientSessionsAsync(string clientId, string kid, string reason, CancellationToken cancellationToken = default) => throw Failure;
    }

    sealed class NoSessions : ISignSessionReader
    {
        public Task<SignSessionSnapshot?> FindAsync(string pakeSessionId, CancellationToken cancellationToken = default) => Task.FromResult<SignSessionSnapshot?>(null);

        public Task<SignSessionSnapshot?> FindAsync(Guid sessionId, CancellationToken cancellationToken = default) => Task.FromResult<SignSessionSnapshot?>(null);

        public Task<IReadOnlyList<SignSessionSnapshot>> FindByBindingAsync(string clientId, string kid, string context,
            CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<SignSessionSnapshot>>([]);

        public Task<IReadOnlyList<SignSessionSnapshot>> FindByClientAsync(string clientId, string kid, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<SignSessionSnapshot>>([]);
    }
}
