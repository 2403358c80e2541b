using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Service.Ports;
using R2ps.Service.Tests.Fakes;
using R2ps.Wallet;
using Microsoft.Extensions.Time.Testing;

namespace R2ps.Service.Tests;

/// <summary>The service core wired to in-memory ports, driven by wallets over the in-process transport.</summary>
public sealed class ServiceHarness : IDisposable
{
    public const string Context = "hsm";

    public ServiceHarness(R2psServiceOptions? options = null, SoftwareEcKey? serverKey = null, DateTimeOffset? start = null,
        int maxLoginFailures = 5, TimeSpan? lockoutDuration = null, R2psServiceMetrics? metrics = null,
        Func<InMemoryStore, IRequestLedger>? ledger = null)
    {
        Options = options ?? new R2psServiceOptions { WorkerId = "test-worker" };
        Time = new FakeTimeProvider(start ?? new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero));
        ServerKey = serverKey ?? SoftwareEcKey.Generate(EcCurve.P256);
        // The lockout threshold and duration are the store's settings (its options are the single source of truth).
        Store = new InMemoryStore(Time, maxLoginFailures, lockoutDuration);
        Hsm = new SoftwareHsm(Time, ServerKey, Context);
        Sessions = new InMemorySignSessions(Time);
        Seed = OprfSeed.LoadOrCreateAsync(Store, Hsm, CancellationToken.None).GetAwaiter().GetResult();
        var ports = new R2psServicePorts
        {
            Clients = Store,
            RegistrationCodes = Store,
            OpaqueRecords = Store,
            Lockout = Store,
            Nonces = Store,
            Audit = Store,
            KeyMetadata = Store,
            ClientKeys = Hsm,
            Sealer = Hsm,
            ServerKeys = Hsm,
            Sessions = Sessions,
            Vault = Store,
            AuditTrail = Store,
            Ledger = ledger?.Invoke(Store),
        };
        Processor = new R2psRequestProcessor(Microsoft.Extensions.Options.Options.Create(Options), ports, Seed, Time, NullLogger<R2psRequestProcessor>.Instance, metrics);
        Transport = new InProcessTransport(async (jws, ct) =>
        {
            Sent.Enqueue(jws);
            var reply = await Processor.ProcessAsync(jws, ct);
            return new TransportReply(reply.Status, reply.Body);
        });
    }

    public R2psServiceOptions Options { get; }

    public FakeTimeProvider Time { get; }

    public SoftwareEcKey ServerKey { get; }

    public InMemoryStore Store { get; }

    public SoftwareHsm Hsm { get; }

    public InMemorySignSessions Sessions { get; }

    public OprfSeed Seed { get; }

    public R2psRequestProcessor Processor { get; }

    public IR2psTransport Transport { get; }

    /// <summary>Every envelope the wallets sent, in order.</summary>
    public ConcurrentQueue<string> Sent { get; } = new();

    private readonly List<IDisposable> _owned = [];

    /// <summary>A new registered device (kid = base64 of its compressed point, as reference wallets do) and its wallet.</summary>
    public R2psWallet NewWallet(string? clientId = null, string[]? contexts = null, TimeProvider? walletTime = null, string? kid = null)
    {
        var key = SoftwareEcKey.Generate(EcCurve.P256);
        var device = new R2psDevice(clientId ?? "https://example.com/wallet/" + Guid.NewGuid().ToString("N"), kid ?? Base64Std.Encode(key.PublicKey.ToCompressed()), key);
        _owned.Add(device);
        Store.Register(device.ClientId, device.Kid, device.PublicKey, contexts ?? [Context]);
        return new R2psWallet(device, ServerKey.PublicKey, Transport, new R2psWalletOptions { Time = walletTime ?? Time });
    }

    /// <summary>A wallet for an existing device with another clock or transport.</summary>
    public R2psWallet WalletFor(R2psDevice device, TimeProvider? walletTime = null, IR2psTransport? transport = null, string context = Context) =>
        new(device, ServerKey.PublicKey, transport ?? Transport, new R2psWalletOptions { Time = walletTime ?? Time, Context = context });

    /// <summary>The PIN <see cref="RegisteredWalletAsync"/> and <see cref="LoggedInWalletAsync"/> register unless told otherwise.</summary>
    public const string Pin = "123456";

    public async Task<R2psWallet> RegisteredWalletAsync(string pin = Pin, string? clientId = null, string? kid = null)
    {
        var wallet = NewWallet(clientId, kid: kid);
        await wallet.RegisterPinAsync(pin, Store.IssueCode(wallet.Device.ClientId, wallet.Device.Kid));
        return wallet;
    }

    /// <summary>
    /// A registered wallet (<see cref="RegisteredWalletAsync"/>) logged in with its PIN: the arrangement most tests start
    /// from. The harness disposes the session.
    /// </summary>
    public async Task<(R2psWallet Wallet, SignSession Session)> LoggedInWalletAsync(string pin = Pin, string? task = null)
    {
        var wallet = await RegisteredWalletAsync(pin);
        var session = await wallet.LoginAsync(pin, task, cancellationToken: TestContext.Current.CancellationToken);
        _owned.Add(session);
        return (wallet, session);
    }

    public async Task<ServiceReply> SendRawAsync(string envelope) => await Processor.ProcessAsync(envelope, CancellationToken.None);

    public static ErrorBody ReadError(ServiceReply reply) => R2psJson.Deserialize<ErrorBody>(reply.Body, "error body");

    public void Dispose()
    {
        // Newest first: a session before the device it was opened with.
        for (var i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        Seed.Dispose();
        Hsm.Dispose();
        ServerKey.Dispose();
    }
}
