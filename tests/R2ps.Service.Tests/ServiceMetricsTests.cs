using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Wallet;

namespace R2ps.Service.Tests;

/// <summary>The service core's meter: requests and latency by service type and outcome, errors by code.</summary>
public sealed class ServiceMetricsTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_signature_is_counted_under_hsm_ecdsa_and_a_refused_one_as_an_access_denied_error()
    {
        // A meter factory of our own: the listener hears this harness's meter only, not those of tests running beside it.
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var recorded = new RecordedMeasurements(factory);
        using var metrics = new R2psServiceMetrics(factory);
        using var harness = new ServiceHarness(metrics: metrics);

        var (_, session) = await harness.LoggedInWalletAsync("246810");
        await session.GenerateKeyAsync(EcCurve.P256, cancellationToken: Ct);
        var kid = (await session.ListKeysAsync(cancellationToken: Ct)).Single().Kid;
        await session.SignAsync(kid, SHA256.HashData("counted"u8), Ct);

        // Well-formed, but no key of this client: ACCESS_DENIED.
        using var stranger = System.Security.Cryptography.ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var unknownKid = Hex.Encode(EcPublicKey.FromSpki(stranger.ExportSubjectPublicKeyInfo()).ToCompressed());
        var refused = await Assert.ThrowsAsync<R2psClientException>(() => session.SignAsync(unknownKid, SHA256.HashData("refused"u8), Ct));
        Assert.Equal(ErrorCode.AccessDenied, refused.Code);

        Assert.Equal(1, recorded.Sum("r2ps.service.requests", ("r2ps.service_type", "hsm_ecdsa"), ("r2ps.outcome", "OK")));
        Assert.Equal(1, recorded.Sum("r2ps.service.requests", ("r2ps.service_type", "hsm_ecdsa"), ("r2ps.outcome", "ACCESS_DENIED")));
        Assert.Equal(1, recorded.Sum("r2ps.service.errors", ("r2ps.service_type", "hsm_ecdsa"), ("r2ps.error_code", "ACCESS_DENIED")));
        Assert.Equal(2, recorded.Count("r2ps.service.request.duration", ("r2ps.service_type", "hsm_ecdsa")));
        Assert.All(recorded.Values("r2ps.service.request.duration"), seconds => Assert.True(seconds >= 0));
        // The other steps are counted under their own types, and nothing succeeded that was not asked for.
        Assert.Equal(1, recorded.Sum("r2ps.service.requests", ("r2ps.service_type", "hsm_ec_keygen"), ("r2ps.outcome", "OK")));
        Assert.Equal(0, recorded.Sum("r2ps.service.errors", ("r2ps.service_type", "hsm_ec_keygen")));
    }

    [Fact]
    public async Task Refusals_before_the_signature_verified_are_counted_not_audited_and_authenticated_ones_stay_audited()
    {
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var recorded = new RecordedMeasurements(factory);
        using var metrics = new R2psServiceMetrics(factory);
        using var harness = new ServiceHarness(metrics: metrics);

        // A made-up client, an impostor signing for a registered one, and junk: none of them may cost an audit row.
        using var stranger = new R2psDevice("never-registered-" + Guid.NewGuid().ToString("N"), "k1", SoftwareEcKey.Generate(EcCurve.P256));
        Assert.Equal(ErrorCode.AccessDenied,
            (await Assert.ThrowsAsync<R2psClientException>(() => harness.WalletFor(stranger).LoginAsync("123456", cancellationToken: Ct))).Code);
        var victim = await harness.RegisteredWalletAsync("123456");
        var auditedBefore = harness.Store.AuditRecords.Count;
        using var impostor = new R2psDevice(victim.Device.ClientId, victim.Device.Kid, SoftwareEcKey.Generate(EcCurve.P256));
        Assert.Equal(ErrorCode.AccessDenied,
            (await Assert.ThrowsAsync<R2psClientException>(() => harness.WalletFor(impostor).LoginAsync("123456", cancellationToken: Ct))).Code);
        Assert.Equal("ILLEGAL_REQUEST_DATA", ServiceHarness.ReadError(await harness.SendRawAsync("not-a-jws")).ErrorCode);

        Assert.Equal(auditedBefore, harness.Store.AuditRecords.Count);
        Assert.DoesNotContain(harness.Store.AuditRecords, r => r.ClientId == stranger.ClientId);
        Assert.Equal(2, recorded.Sum(R2psServiceMetrics.UnauthenticatedRefusalsName, ("r2ps.service_type", "authenticate"), ("r2ps.error_code", "ACCESS_DENIED")));
        Assert.Equal(1, recorded.Sum(R2psServiceMetrics.UnauthenticatedRefusalsName, ("r2ps.service_type", "none"), ("r2ps.error_code", "ILLEGAL_REQUEST_DATA")));
        // They still count as requests and errors like any other.
        Assert.Equal(2, recorded.Sum("r2ps.service.errors", ("r2ps.service_type", "authenticate"), ("r2ps.error_code", "ACCESS_DENIED")));

        // Signed requests are audited whatever their outcome (here a wrong PIN), and not counted as unauthenticated.
        Assert.Equal(ErrorCode.Unauthorized, (await Assert.ThrowsAsync<R2psClientException>(() => victim.LoginAsync("654321", cancellationToken: Ct))).Code);
        var audited = harness.Store.AuditRecords.Skip(auditedBefore).ToArray();
        Assert.NotEmpty(audited);
        Assert.All(audited, r => Assert.Equal((victim.Device.ClientId, "authenticate", true), (r.ClientId, r.Type, r.Authenticated)));
        Assert.Equal(3, recorded.Sum(R2psServiceMetrics.UnauthenticatedRefusalsName));
    }

    [Fact]
    public void Service_type_tags_come_from_the_protocol_s_closed_set_so_a_client_cannot_grow_the_series()
    {
        Assert.Equal("hsm_ecdsa", R2psServiceMetrics.ServiceTypeOf("hsm_ecdsa"));
        Assert.Equal("unknown", R2psServiceMetrics.ServiceTypeOf("hsm_ecdsa_" + Guid.NewGuid().ToString("N")));
        Assert.Equal("none", R2psServiceMetrics.ServiceTypeOf(null));
    }

    /// <summary>Every measurement of the meters of one factory, with its tags.</summary>
    sealed class RecordedMeasurements : IDisposable
    {
        readonly MeterListener _listener = new();
        readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

        public RecordedMeasurements(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
            _listener.Start();
        }

        public double Sum(string instrument, params (string Key, string Value)[] tags) => Matching(instrument, tags).Sum(m => m.Value);

        public int Count(string instrument, params (string Key, string Value)[] tags) => Matching(instrument, tags).Count();

        public IEnumerable<double> Values(string instrument) => Matching(instrument, []).Select(m => m.Value);

        IEnumerable<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> Matching(string instrument, (string Key, string Value)[] tags) =>
            _measurements.Where(m => m.Instrument == instrument
                && tags.All(t => m.Tags.Any(x => x.Key == t.Key && Equals(x.Value, t.Value))));

        public void Dispose() => _listener.Dispose();
    }
}
