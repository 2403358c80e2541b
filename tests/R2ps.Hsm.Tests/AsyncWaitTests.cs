using System.Security.Cryptography;
using R2ps.Crypto.Ec;

namespace R2ps.Hsm.Tests;

/// <summary>
/// Waiting for a session holds no thread: callers queue as tasks, are served in turn once a session is free, and give
/// up after the session wait timeout (typed) or on cancellation without taking a session with them.
/// </summary>
public sealed class AsyncWaitTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[] Hash = SHA256.HashData("async wait"u8);

    [Fact]
    public async Task Sixty_four_waiters_on_a_held_pool_of_one_occupy_no_thread_and_all_complete_once_it_is_free()
    {
        await OnAHeldPoolOfOneAsync(TimeSpan.FromMinutes(2), async (owner, key, held) =>
        {
            // Each waiter starts on a pool thread. A wait that blocked would keep that thread until the release below,
            // so the starting tasks could not finish; waiting as a task, each hands back its pending sign and is done.
            var starters = Enumerable.Range(0, 64)
                .Select(_ => Task.Factory.StartNew(() => hsm.Keys.SignHashAsync(owner, key.Kid, Hash, Ct), Ct, TaskCreationOptions.None, TaskScheduler.Default))
                .ToArray();
            var signs = await Task.WhenAll(starters).WaitAsync(TimeSpan.FromMinutes(1), Ct);

            Assert.All(signs, sign => Assert.False(sign.IsCompleted));
            Assert.Equal(64, hsm.Connection.SessionWaiters);
            Assert.Equal(1, hsm.Connection.SessionsInUse);

            await held.ReleaseAsync();
            var signatures = await Task.WhenAll(signs).WaitAsync(TimeSpan.FromMinutes(1), Ct);

            using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());
            Assert.All(signatures, signature => Assert.True(verifier.VerifyHash(Hash, signature, DSASignatureFormat.Rfc3279DerSequence)));
            Assert.Equal(0, hsm.Connection.SessionWaiters);
            Assert.Equal(0, hsm.Connection.SessionsInUse);
        });
    }

    [Fact]
    public async Task Waiters_past_the_session_wait_timeout_get_the_typed_busy_error_and_leave_the_queue()
    {
        await OnAHeldPoolOfOneAsync(TimeSpan.FromMilliseconds(200), async (owner, key, held) =>
        {
            var waiters = Enumerable.Range(0, 8).Select(_ => hsm.Keys.SignHashAsync(owner, key.Kid, Hash, Ct)).ToArray();
            foreach (var waiter in waiters)
            {
                var e = await Assert.ThrowsAsync<HsmBusyException>(() => waiter);
                Assert.Contains("pool of 1", e.Message, StringComparison.Ordinal);
            }
            Assert.Equal(0, hsm.Connection.SessionWaiters);

            await held.ReleaseAsync();
            Assert.NotEmpty(await hsm.Keys.SignHashAsync(owner, key.Kid, Hash, Ct)); // no session was lost to the timeouts
        });
    }

    [Fact]
    public async Task A_cancelled_waiter_stops_waiting_and_takes_no_session_with_it()
    {
        await OnAHeldPoolOfOneAsync(TimeSpan.FromMinutes(2), async (owner, key, held) =>
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

            var cancelled = hsm.Keys.SignHashAsync(owner, key.Kid, Hash, cancel.Token);
            var behind = hsm.Keys.SignHashAsync(owner, key.Kid, Hash, Ct);
            Assert.Equal(2, hsm.Connection.SessionWaiters);
            await cancel.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
            Assert.Equal(1, hsm.Connection.SessionWaiters);
            await held.ReleaseAsync();
            Assert.NotEmpty(await behind.WaitAsync(TimeSpan.FromMinutes(1), Ct));
            Assert.Equal(0, hsm.Connection.SessionsInUse);
        });
    }

    [Fact]
    public async Task An_operations_recorded_duration_includes_its_wait_for_a_session()
    {
        await OnAHeldPoolOfOneAsync(TimeSpan.FromMinutes(2), async (owner, key, held) =>
        {
            // Only what this flow records from here on: other tests run HSM operations alongside, and the holder's
            // operation was started before.
            var recorded = new List<double>();
            Recorded.Value = recorded;
            using var listener = new System.Diagnostics.Metrics.MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == HsmMetrics.MeterName && instrument.Name == HsmMetrics.OperationDurationName)
                        l.EnableMeasurementEvents(instrument);
                },
            };
            listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
            {
                if (Recorded.Value is { } mine) lock (mine) mine.Add(seconds);
            });
            listener.Start();

            var sign = hsm.Keys.SignHashAsync(owner, key.Kid, Hash, Ct);
            Assert.Equal(1, hsm.Connection.SessionWaiters);
            await Task.Delay(TimeSpan.FromMilliseconds(200), Ct);
            await held.ReleaseAsync();
            Assert.NotEmpty(await sign.WaitAsync(TimeSpan.FromMinutes(1), Ct));

            // The sign waited at least the 200 ms the session was held after it asked for one, and says so.
            lock (recorded)
                Assert.Contains(recorded, seconds => seconds >= 0.2);
        });
    }

    private static readonly AsyncLocal<List<double>?> Recorded = new();

    /// <summary>
    /// Runs <paramref name="test"/> with the pool cut to one session, waits bounded by <paramref name="sessionWaitTimeout"/>,
    /// a fresh key of a fresh owner, and that one session held; the fixture's own settings come back afterwards.
    /// </summary>
    private async Task OnAHeldPoolOfOneAsync(TimeSpan sessionWaitTimeout, Func<string, HsmKeyInfo, HeldSession, Task> test)
    {
        hsm.Restart(o =>
        {
            o.SessionPoolSize = 1;
            o.SessionWaitTimeout = sessionWaitTimeout;
        });
        try
        {
            var owner = SoftHsmFixture.NewOwner();
            var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);
            using var held = HeldSession.Take(hsm.Connection);
            await test(owner, key, held);
        }
        finally
        {
            hsm.Restart();
        }
    }

    /// <summary>The pool's one session, held on a pool thread until <see cref="ReleaseAsync"/>.</summary>
    private sealed class HeldSession : IDisposable
    {
        private readonly ManualResetEventSlim _release = new();
        private readonly Task _holder;

        private HeldSession(HsmConnection connection)
        {
            using var holding = new ManualResetEventSlim();
            _holder = Task.Run(() => connection.Run(_ =>
            {
                holding.Set();
                _release.Wait(Ct);
                return 0;
            }), Ct);
            holding.Wait(Ct);
        }

        public static HeldSession Take(HsmConnection connection) => new(connection);

        public async Task ReleaseAsync()
        {
            _release.Set();
            await _holder;
        }

        public void Dispose()
        {
            _release.Set();
            _release.Dispose();
        }
    }
}
