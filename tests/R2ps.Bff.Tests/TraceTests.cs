using System.Diagnostics;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using R2ps.Crypto.Keys;
using R2ps.Tools.RabbitMq;
using OpenTelemetry.Trace;
using R2ps.Telemetry;
using R2ps.Wallet;
using R2ps.Wallet.Http;
using R2ps.Worker.Hosting;

namespace R2ps.Bff.Tests;

[CollectionDefinition(Name)]
public sealed class TracedSystemDefinition : ICollectionFixture<TracedSystem>
{
    public const string Name = "BFF, worker and saga in one process, traced into memory";
}

/// <summary>
/// BFF, worker and saga in this process on the in-memory bus (as <c>r2ps serve all</c>), with telemetry registered first
/// and an in-memory span exporter added in code; a token and databases of its own.
/// </summary>
public sealed class TracedSystem : IAsyncLifetime, ITracedSystem
{
    public const string AdminToken = "traced-admin-token-0123456789";
    public const string Context = "hsm";

    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("r2ps-bff-traced-");
    BffHost? _host;

    /// <summary>Every span that ended in this process since the start (any host's: filter by trace id).</summary>
    public SpanCollection Spans { get; } = new();

    public EcPublicKey BffKey { get; private set; } = null!;

    public EcPublicKey ServerKey { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var token = TestHsm.Token("r2ps-traced");
        _host = await BffHost.StartAsync(EmbeddedSettings.For(token, _directory.FullName, "traced", hsmSessions: 2, AdminToken),
            (services, configuration) => services
            // First, so the BFF's own AddR2psTelemetry finds it registered; no Telemetry section = only this exporter.
            .AddR2psTelemetry(configuration, tracing => tracing.AddInMemoryExporter(Spans))
            .AddCryptoSelfTest()
            .AddR2psWorkerIdentity(configuration)
            .AddR2psStorePorts(configuration)
            .AddR2psHsm(configuration)
            .AddR2psServiceCore(configuration)
            .AddR2psWorkerBus(configuration));

        using var http = CreateClient();
        var keys = await HttpR2psTransport.GetKeysAsync(http);
        BffKey = keys.BffKey;
        ServerKey = keys.ServerKeys[Context];
    }

    public HttpClient CreateClient() => _host!.CreateClient();

    /// <summary>A device registered through the admin API, its PIN set through the BFF.</summary>
    public async Task<(R2psWallet Wallet, HttpR2psTransport Transport)> RegisteredWalletAsync(HttpClient http, string pin, CancellationToken cancellationToken)
    {
        var device = EmbeddedBff.NewDevice();
        var registered = await new R2psAdminClient(http, AdminToken).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, [Context], cancellationToken);
        var transport = new HttpR2psTransport(http, device, BffKey);
        var wallet = new R2psWallet(device, ServerKey, transport);
        await wallet.RegisterPinAsync(pin, registered.Authorization, cancellationToken);
        return (wallet, transport);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held; the temporary folder is cleaned eventually.
        }
    }
}

/// <summary>A traced BFF with its workers and saga.</summary>
public interface ITracedSystem
{
    SpanCollection Spans { get; }

    HttpClient CreateClient();

    Task<(R2psWallet Wallet, HttpR2psTransport Transport)> RegisteredWalletAsync(HttpClient http, string pin, CancellationToken cancellationToken);
}

[CollectionDefinition(Name)]
public sealed class TracedRabbitMqSystemDefinition : ICollectionFixture<TracedRabbitMqSystem>
{
    public const string Name = "BFF and a worker host over a private RabbitMQ node, traced into memory";
}

/// <summary>
/// The BFF and a worker (with the saga) as two hosts over a private RabbitMQ node: the worker's spans can only join the
/// BFF's trace through the AMQP message headers. Both hosts are in this process so one in-memory exporter sees both
/// (an activity listener hears every source of the process); only the BFF host registers it, so nothing is exported
/// twice. Tokens and databases of their own.
/// </summary>
public sealed class TracedRabbitMqSystem : IAsyncLifetime, ITracedSystem
{
    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("r2ps-bff-traced-rabbitmq-");
    RabbitMqNode? _node;
    IHost? _worker;
    BffHost? _bff;
    EcPublicKey _bffKey = null!;
    EcPublicKey _serverKey = null!;

    public SpanCollection Spans { get; } = new();

    public async ValueTask InitializeAsync()
    {
        _node = await RabbitMqNode.StartAsync(new RabbitMqNodeOptions { RequirePrivateNode = true });
        var broker = new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "rabbitmq",
            ["Messaging:RequestTimeout"] = "00:00:05",
            ["RabbitMq:Uri"] = _node.AmqpUri.ToString(),
            ["RabbitMq:Heartbeat"] = "00:00:05",
        };

        var workerToken = TestHsm.Token("r2ps-traced-worker");
        var store = $"Data Source={Path.Combine(_directory.FullName, "r2ps.db")}";
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(broker);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SignSessions:RequestTimeout"] = "00:00:01.500",
            ["SignSessions:BusyTimeout"] = "00:00:01",
            ["Worker:Id"] = "traced-rabbitmq",
            ["Worker:Context"] = TracedSystem.Context,
            ["Hsm:ModulePath"] = workerToken.ModulePath,
            ["Hsm:TokenLabel"] = workerToken.Label,
            ["Hsm:UserPin"] = TestHsm.UserPin,
            ["Hsm:SessionPoolSize"] = "2",
            ["Store:ConnectionString"] = store,
            ["SignSessions:ConnectionString"] = store,
        });
        builder.Logging.ClearProviders();
        builder.Services
            .AddCryptoSelfTest()
            .AddR2psWorkerIdentity(builder.Configuration)
            .AddR2psStorePorts(builder.Configuration)
            .AddR2psHsm(builder.Configuration)
            .AddR2psServiceCore(builder.Configuration)
            .AddR2psWorkerBus(builder.Configuration);
        _worker = builder.Build();
        await _worker.StartAsync();

        var bffToken = TestHsm.Token("r2ps-traced-bff");
        _bff = await BffHost.StartAsync(new Dictionary<string, string?>(broker)
        {
            ["Hsm:ModulePath"] = bffToken.ModulePath,
            ["Hsm:TokenLabel"] = bffToken.Label,
            ["Hsm:UserPin"] = TestHsm.UserPin,
            ["Hsm:SessionPoolSize"] = "2",
            ["Bff:ConnectionString"] = $"Data Source={Path.Combine(_directory.FullName, "bff.db")}",
            ["Admin:Token"] = TracedSystem.AdminToken,
        }, (services, configuration) => services.AddR2psTelemetry(configuration, tracing => tracing.AddInMemoryExporter(Spans)));

        using var http = CreateClient();
        var keys = await HttpR2psTransport.GetKeysAsync(http);
        _bffKey = keys.BffKey;
        _serverKey = keys.ServerKeys[TracedSystem.Context];
    }

    public HttpClient CreateClient() => _bff!.CreateClient();

    public async Task<(R2psWallet Wallet, HttpR2psTransport Transport)> RegisteredWalletAsync(HttpClient http, string pin, CancellationToken cancellationToken)
    {
        var device = EmbeddedBff.NewDevice();
        var registered = await new R2psAdminClient(http, TracedSystem.AdminToken).RegisterAsync(device.ClientId, device.Kid, device.PublicKey,
            [TracedSystem.Context], cancellationToken);
        var transport = new HttpR2psTransport(http, device, _bffKey);
        var wallet = new R2psWallet(device, _serverKey, transport);
        await wallet.RegisterPinAsync(pin, registered.Authorization, cancellationToken);
        return (wallet, transport);
    }

    public async ValueTask DisposeAsync()
    {
        if (_bff is not null)
            await _bff.DisposeAsync();
        if (_worker is not null)
        {
            await _worker.StopAsync();
            _worker.Dispose();
        }

        if (_node is not null)
            await _node.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held; the temporary folder is cleaned eventually.
        }
    }
}

/// <summary>The exporter's collection, safe to add to from the hosts' threads while a test reads it.</summary>
public sealed class SpanCollection : ICollection<Activity>
{
    readonly List<Activity> _spans = [];
    readonly Lock _lock = new();

    public int Count
    {
        get
        {
            lock (_lock) return _spans.Count;
        }
    }

    public bool IsReadOnly => false;

    public IReadOnlyList<Activity> Snapshot()
    {
        lock (_lock) return [.. _spans];
    }

    public void Add(Activity item)
    {
        lock (_lock) _spans.Add(item);
    }

    public void Clear()
    {
        lock (_lock) _spans.Clear();
    }

    public bool Contains(Activity item)
    {
        lock (_lock) return _spans.Contains(item);
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_lock) _spans.CopyTo(array, arrayIndex);
    }

    public bool Remove(Activity item)
    {
        lock (_lock) return _spans.Remove(item);
    }

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>One wallet request is one trace, from the BFF's HTTP span through the broker to the worker and the saga.</summary>
[Collection(TracedSystemDefinition.Name)]
public sealed class TraceTests(TracedSystem system)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public Task An_hsm_ecdsa_request_is_one_trace_from_the_bff_s_http_span_through_the_broker_to_the_worker_s_processing_and_the_hsm() =>
        AssertOneHsmEcdsaTraceAsync(system, "in-memory");

    /// <summary>Shared with the RabbitMQ variant: one signature, and the trace it makes.</summary>
    internal static async Task AssertOneHsmEcdsaTraceAsync(ITracedSystem system, string messagingSystem)
    {
        using var http = system.CreateClient();
        var (wallet, transport) = await system.RegisteredWalletAsync(http, "135790", Ct);
        using var _ = transport;
        using var session = await wallet.LoginAsync("135790", cancellationToken: Ct);
        await session.GenerateKeyAsync(EcCurve.P256, Ct);
        var kid = (await session.ListKeysAsync(cancellationToken: Ct)).Single().Kid;

        await session.SignAsync(kid, SHA256.HashData("traced"u8), Ct);

        var processing = await SingleR2psSpanAsync(system, "hsm_ecdsa");
        var trace = await TraceWithServerSpanAsync(system, processing.TraceId);
        Dump(trace);

        // Upwards from the worker's processing span, each parent is in the same trace, exactly in this order: the
        // worker's MassTransit consume span, its receive span on r2ps-hsm, the BFF's MassTransit send to r2ps-hsm,
        // the BFF's HTTP server span of the service route (then the wallet's HTTP client span, the root).
        var ancestry = Ancestry(processing, trace);
        Assert.True(ancestry.Count >= 4, Describe(ancestry));
        Assert.True(IsMassTransit(ancestry[0], ActivityKind.Consumer, "process")
            && (string?)ancestry[0].GetTagItem("messaging.masstransit.consumer_type") == "R2ps.Worker.Consumers.HandleR2psRequestConsumer", Describe(ancestry));
        Assert.True(IsMassTransit(ancestry[1], ActivityKind.Consumer, "receive") && (string?)ancestry[1].GetTagItem("messaging.destination.name") == "r2ps-hsm", Describe(ancestry));
        Assert.True(IsMassTransit(ancestry[2], ActivityKind.Producer, "send") && (string?)ancestry[2].GetTagItem("messaging.destination.name") == "r2ps-hsm"
            && (string?)ancestry[2].GetTagItem("messaging.system") == messagingSystem, Describe(ancestry));
        Assert.True(ancestry[3].Source.Name == "Microsoft.AspNetCore" && ancestry[3].Kind == ActivityKind.Server
            && (string?)ancestry[3].GetTagItem("http.route") == "/r2ps/v1/service", Describe(ancestry));

        // Nothing of this conversation (request, reply) split off into another trace.
        var conversation = ancestry[2].GetTagItem("messaging.message.conversation_id");
        Assert.NotNull(conversation);
        var ofConversation = system.Spans.Snapshot().Where(s => Equals(s.GetTagItem("messaging.message.conversation_id"), conversation)).ToList();
        Assert.Contains(ofConversation, s => (string?)s.GetTagItem("messaging.masstransit.message_types") == "urn:message:R2ps.Contracts:R2psReply");
        Assert.All(ofConversation, s => Assert.Equal(processing.TraceId, s.TraceId));

        Assert.Equal("R2PS hsm_ecdsa", processing.DisplayName);
        Assert.Equal("OK", processing.GetTagItem("r2ps.outcome"));
        var children = trace.Where(s => s.ParentSpanId == processing.SpanId).ToList();
        Assert.Contains(children, s => s.DisplayName == "HSM sign" && (string?)s.GetTagItem("r2ps.hsm.curve") == "P-256");
        Assert.Contains(children, s => s.DisplayName == "HSM unseal");
        Assert.Contains(children, s => s.DisplayName == "sign-session read" && s.GetTagItem("r2ps.session.found") is true);
    }

    [Fact]
    public async Task A_session_end_is_one_trace_that_reaches_the_saga_s_consume_span_through_the_worker()
    {
        using var http = system.CreateClient();
        var (wallet, transport) = await system.RegisteredWalletAsync(http, "975310", Ct);
        using var _ = transport;
        using var session = await wallet.LoginAsync("975310", cancellationToken: Ct);

        await session.CloseAsync(Ct);

        var processing = await SingleR2psSpanAsync(system, "session_end");
        var trace = await TraceWithServerSpanAsync(system, processing.TraceId);
        Dump(trace);

        // The worker asks the saga to end the session: a MassTransit send below the processing span, and the saga's
        // consume span below that send, in the same trace that the BFF's HTTP span heads.
        var saga = Assert.Single(trace, s => IsMassTransit(s, ActivityKind.Consumer, "process")
            && (string?)s.GetTagItem("messaging.masstransit.consumer_type") == "SignSessionStateMachine");
        Assert.Equal("urn:message:R2ps.Contracts:CloseSignSession", saga.GetTagItem("messaging.masstransit.message_types"));
        Assert.Equal("Active", saga.GetTagItem("messaging.masstransit.begin_state"));
        Assert.Equal("Final", saga.GetTagItem("messaging.masstransit.end_state"));
        var sagaAncestry = Ancestry(saga, trace);
        var receive = sagaAncestry.FindIndex(s => IsMassTransit(s, ActivityKind.Consumer, "receive"));
        var send = sagaAncestry.FindIndex(s => IsMassTransit(s, ActivityKind.Producer, "send"));
        var worker = sagaAncestry.FindIndex(s => s.SpanId == processing.SpanId);
        Assert.True(receive == 0 && send == 1 && worker == 2, Describe(sagaAncestry)); // the worker's send, the saga's receive
        Assert.Contains(Ancestry(processing, trace), s => s.Source.Name == "Microsoft.AspNetCore" && s.Kind == ActivityKind.Server
            && (string?)s.GetTagItem("http.route") == "/r2ps/v1/service");
    }

    /// <summary>The one R2PS processing span of <paramref name="serviceType"/> not seen by an earlier call (each test sends one).</summary>
    static async Task<Activity> SingleR2psSpanAsync(ITracedSystem system, string serviceType)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var found = system.Spans.Snapshot().Where(s => s.Source.Name == "R2ps.Service"
                && (string?)s.GetTagItem("r2ps.service_type") == serviceType && !Seen.Contains(s.SpanId)).ToList();
            if (found.Count == 1 || DateTime.UtcNow > deadline)
            {
                var span = Assert.Single(found);
                Seen.Add(span.SpanId);
                return span;
            }

            await Task.Delay(50, Ct);
        }
    }

    // Tests of this assembly run one at a time (TestHosting.cs), so a plain set is enough.
    static readonly HashSet<ActivitySpanId> Seen = [];

    /// <summary>The spans of <paramref name="traceId"/>, once the BFF's HTTP server span (it ends last, after the response) is in.</summary>
    static async Task<IReadOnlyList<Activity>> TraceWithServerSpanAsync(ITracedSystem system, ActivityTraceId traceId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var trace = system.Spans.Snapshot().Where(s => s.TraceId == traceId).ToList();
            if (trace.Any(s => s.Source.Name == "Microsoft.AspNetCore" && s.Kind == ActivityKind.Server) || DateTime.UtcNow > deadline)
                return trace;
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>The span's parents, nearest first, up to the root; every parent must be a span of the trace.</summary>
    static List<Activity> Ancestry(Activity span, IReadOnlyList<Activity> trace)
    {
        var byId = trace.ToDictionary(s => s.SpanId);
        var chain = new List<Activity>();
        for (var current = span; current.ParentSpanId != default;)
        {
            Assert.True(byId.TryGetValue(current.ParentSpanId, out var parent),
                $"The parent of '{current.DisplayName}' is not in the trace: the trace is broken. {Describe(trace)}");
            chain.Add(parent);
            current = parent;
        }

        return chain;
    }

    static bool IsMassTransit(Activity span, ActivityKind kind, string operation) =>
        span.Source.Name == "MassTransit" && span.Kind == kind && (string?)span.GetTagItem("messaging.operation") == operation;

    static string Describe(IEnumerable<Activity> spans) =>
        string.Join(" | ", spans.Select(s => $"{s.Source.Name}/{s.Kind}/'{s.DisplayName}'"));

    /// <summary>The trace in the test's output, shown when it fails.</summary>
    static void Dump(IEnumerable<Activity> trace)
    {
        foreach (var s in trace)
            TestContext.Current.TestOutputHelper?.WriteLine($"{s.SpanId} <- {s.ParentSpanId} {s.Source.Name} {s.Kind} '{s.DisplayName}' {string.Join(",", s.Tags.Select(t => t.Key + "=" + t.Value))}");
    }
}

/// <summary>The same trace when the BFF and the worker talk over RabbitMQ: the context travels in the AMQP headers.</summary>
[Collection(TracedRabbitMqSystemDefinition.Name)]
public sealed class TraceOverRabbitMqTests(TracedRabbitMqSystem system)
{
    [Fact]
    public Task An_hsm_ecdsa_request_over_rabbitmq_is_one_trace_from_the_bff_s_http_span_to_the_worker_host_s_processing_and_the_hsm() =>
        TraceTests.AssertOneHsmEcdsaTraceAsync(system, "rabbitmq");
}
