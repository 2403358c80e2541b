namespace R2ps.Sessions.Tests;

/// <summary>A clock the test moves by hand. Timers stay real (the base class's), only "now" is the test's.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    readonly Lock _lock = new();
    DateTimeOffset _now = start;

    public ManualTimeProvider() : this(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
            return _now;
    }

    public void Advance(TimeSpan by)
    {
        lock (_lock)
            _now += by;
    }
}
