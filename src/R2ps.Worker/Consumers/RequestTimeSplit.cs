using System.Diagnostics.Metrics;
using R2ps.Hsm;
using R2ps.Worker.Adapters;

namespace R2ps.Worker.Consumers;

/// <summary>
/// Where one request's handling went, for its reply's headers (<see cref="Contracts.R2psReplyHeaders"/>): its time in
/// store calls, on the HSM and waiting for the saga. Taken from what those calls record anyway (the store and saga-command
/// histograms of <see cref="WorkerTelemetry"/>, the operations of <see cref="HsmMetrics"/>): one listener adds each
/// measurement to the split of the request whose flow recorded it (an <see cref="AsyncLocal{T}"/>), so concurrent
/// requests never mix, and work outside a request (the saga's own consumer, the expiry sweeper, the store's commit loop)
/// counts nowhere.
/// </summary>
internal sealed class RequestTimeSplit : IDisposable
{
    static readonly AsyncLocal<RequestTimeSplit?> Current = new();

    // Started on first use and never stopped: one per process, like the instruments it listens to.
    static readonly Lazy<MeterListener> Listener = new(StartListener);

    long _storeMicroseconds;
    long _hsmMicroseconds;
    long _sagaMicroseconds;

    RequestTimeSplit()
    {
    }

    /// <summary>Time in store calls (reads, and writes waiting for their commit).</summary>
    public TimeSpan Store => TimeSpan.FromMicroseconds(Interlocked.Read(ref _storeMicroseconds));

    /// <summary>Time on the HSM, waits for a session included.</summary>
    public TimeSpan Hsm => TimeSpan.FromMicroseconds(Interlocked.Read(ref _hsmMicroseconds));

    /// <summary>Time waiting for the saga's answers.</summary>
    public TimeSpan Saga => TimeSpan.FromMicroseconds(Interlocked.Read(ref _sagaMicroseconds));

    /// <summary>Starts the split of the request running in this flow; what it awaits after this is counted in it.</summary>
    public static RequestTimeSplit Begin()
    {
        _ = Listener.Value;
        var split = new RequestTimeSplit();
        Current.Value = split;
        return split;
    }

    /// <summary>Stops counting into this split in this flow.</summary>
    public void Dispose()
    {
        if (ReferenceEquals(Current.Value, this)) Current.Value = null;
    }

    static MeterListener StartListener()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (PartOf(instrument) is { } part) listener.EnableMeasurementEvents(instrument, part);
            },
        };
        listener.SetMeasurementEventCallback<double>(static (_, seconds, _, state) =>
        {
            if (Current.Value is not { } split || state is not Part part || seconds <= 0) return;
            var microseconds = (long)Math.Round(seconds * 1e6);
            switch (part)
            {
                case Part.Store: Interlocked.Add(ref split._storeMicroseconds, microseconds); break;
                case Part.Hsm: Interlocked.Add(ref split._hsmMicroseconds, microseconds); break;
                default: Interlocked.Add(ref split._sagaMicroseconds, microseconds); break;
            }
        });
        listener.Start();
        return listener;
    }

    static object? PartOf(Instrument instrument) => (instrument.Meter.Name, instrument.Name) switch
    {
        (WorkerTelemetry.Name, WorkerTelemetry.StoreDurationName) => Part.Store,
        (HsmMetrics.MeterName, HsmMetrics.OperationDurationName) => Part.Hsm,
        (WorkerTelemetry.Name, WorkerTelemetry.SessionCommandDurationName) => Part.Saga,
        _ => null,
    };

    enum Part
    {
        Store,
        Hsm,
        Saga,
    }
}
