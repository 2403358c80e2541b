using System.Reflection;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using R2ps.Contracts;
using R2ps.Service;
using R2ps.Service.Ports;
using R2ps.Worker.Consumers;

namespace R2ps.Worker.Tests;

/// <summary>The request consumer on the in-memory harness, with a processor whose only live port is the audit log.</summary>
internal sealed class ConsumerHarness : IAsyncDisposable
{
    readonly ServiceProvider _provider;
    readonly ITestHarness _harness;

    ConsumerHarness(ServiceProvider provider)
    {
        _provider = provider;
        _harness = provider.GetRequiredService<ITestHarness>();
    }

    public RecordingAudit Audit => _provider.GetRequiredService<RecordingAudit>();

    public static async Task<ConsumerHarness> StartAsync(TimeSpan clockAhead)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(new AheadTimeProvider(clockAhead));
        services.AddSingleton<RecordingAudit>();
        services.AddSingleton(provider => new R2psRequestProcessor(
            Options.Create(new R2psServiceOptions { WorkerId = "deadline-test" }),
            new R2psServicePorts
            {
                Clients = Unused<IClientDirectory>(),
                RegistrationCodes = Unused<IRegistrationCodes>(),
                OpaqueRecords = Unused<IOpaqueRecords>(),
                Lockout = Unused<ILoginLockout>(),
                Nonces = Unused<INonceCache>(),
                Audit = provider.GetRequiredService<RecordingAudit>(),
                KeyMetadata = Unused<IHsmKeyMetadata>(),
                ClientKeys = Unused<IClientKeyOperations>(),
                Sealer = Unused<ISecretSealer>(),
                ServerKeys = Unused<IServerKeys>(),
                Sessions = Unused<ISignSessionGateway>(),
                Vault = Unused<IVaultStore>(),
                AuditTrail = Unused<IAuditTrail>(),
            },
            OprfSeed.FromBytes(new byte[32]),
            provider.GetRequiredService<TimeProvider>(),
            NullLogger<R2psRequestProcessor>.Instance));
        services.AddMassTransitTestHarness(bus => bus.AddConsumer<HandleR2psRequestConsumer>());
        var harness = new ConsumerHarness(services.BuildServiceProvider(validateScopes: true));
        await harness._harness.Start();
        return harness;
    }

    public async Task<R2psReply> SendAsync(string envelope) => (await SendForResponseAsync(envelope)).Message;

    /// <summary>The reply with its headers.</summary>
    public Task<Response<R2psReply>> SendForResponseAsync(string envelope)
    {
        var client = _harness.GetRequestClient<HandleR2psRequest>();
        // As R2psServiceClient does: the request lives as long as the caller waits.
        return client.GetResponse<R2psReply>(new HandleR2psRequest(envelope),
            x => x.UseExecute(send => send.TimeToLive = TimeSpan.FromSeconds(10)), TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _harness.Stop();
        await _provider.DisposeAsync();
    }

    /// <summary>A port the test does not expect to be used: any call fails the request loudly.</summary>
    static T Unused<T>() where T : class => DispatchProxy.Create<T, UnusedPort>();

#pragma warning disable CA1852 // DispatchProxy needs a non-sealed proxy type.
    class UnusedPort : DispatchProxy
#pragma warning restore CA1852
    {
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            throw new InvalidOperationException($"Unexpected call to {targetMethod?.DeclaringType?.Name}.{targetMethod?.Name}.");
    }
}

internal sealed class AheadTimeProvider(TimeSpan ahead) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + ahead;
}

internal sealed class RecordingAudit : IAuditLog
{
    readonly List<AuditRecord> _records = [];

    public IReadOnlyList<AuditRecord> Records
    {
        get
        {
            lock (_records)
                return [.. _records];
        }
    }

    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        lock (_records)
            _records.Add(record);
        return Task.CompletedTask;
    }
}
