using System.Collections.Concurrent;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;

namespace R2ps.Hsm.Tests;

/// <summary>
/// Disposing the connection while other threads use it: C_Logout/C_Finalize must never run under an operation in
/// flight (a use after free inside the module), and every racing operation either completes or fails typed.
/// </summary>
public sealed class DisposeRaceTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Disposing_while_eight_threads_sign_lets_each_operation_succeed_or_fail_typed()
    {
        hsm.Restart();
        var connection = hsm.Connection;
        var keys = hsm.Keys;
        var owner = SoftHsmFixture.NewOwner();
        var key = await keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);
        var hash = SHA256.HashData("dispose race"u8);
        var untyped = new ConcurrentBag<Exception>();
        var moduleErrors = new ConcurrentBag<HsmPkcs11Exception>();
        var succeeded = 0;
        var refused = 0;
        using var started = new CountdownEvent(8);
        try
        {
            var signers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                started.Signal();
                while (true)
                {
                    try
                    {
                        await keys.SignHashAsync(owner, key.Kid, hash, Ct);
                        Interlocked.Increment(ref succeeded);
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref refused);
                        return;
                    }
                    catch (HsmPkcs11Exception e)
                    {
                        // E.g. CKR_CRYPTOKI_NOT_INITIALIZED: the module was finalised under a running operation.
                        moduleErrors.Add(e);
                        return;
                    }
                    catch (HsmException)
                    {
                        // A typed failure is acceptable (e.g. busy); keep going until the connection refuses.
                    }
                    catch (Exception e)
                    {
                        untyped.Add(e);
                        return;
                    }
                }
            }, TestContext.Current.CancellationToken)).ToArray();
            started.Wait(TestContext.Current.CancellationToken);
            await Task.Delay(200, TestContext.Current.CancellationToken);

            connection.Dispose();

            await Task.WhenAll(signers).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Empty(untyped);
            Assert.Empty(moduleErrors);
            Assert.Equal(8, refused);
            Assert.True(succeeded > 0);
            Assert.True(connection.IsTornDown);
            Assert.Equal(0, connection.SessionsInUse);
        }
        finally
        {
            hsm.Restart();
        }

        // The module was finalised cleanly: the key is still there and usable after a fresh C_Initialize.
        Assert.NotEmpty(await hsm.Keys.SignHashAsync(owner, key.Kid, hash, Ct));
    }

    [Fact]
    public async Task Dispose_waits_for_the_operation_in_flight_before_logging_out()
    {
        hsm.Restart(o => o.SessionWaitTimeout = TimeSpan.FromSeconds(30));
        var connection = hsm.Connection;
        try
        {
            using var inside = new ManualResetEventSlim();
            using var leave = new ManualResetEventSlim();
            var operation = Task.Run(() => connection.Run(session =>
            {
                inside.Set();
                leave.Wait(TestContext.Current.CancellationToken);
                return session.GenerateRandom(16); // the session still works: nothing was finalised
            }), TestContext.Current.CancellationToken);
            inside.Wait(TestContext.Current.CancellationToken);

            var disposing = Task.Run(connection.Dispose, TestContext.Current.CancellationToken);
            await Task.Delay(200, TestContext.Current.CancellationToken);

            Assert.False(disposing.IsCompleted);
            Assert.False(connection.IsTornDown);
            Assert.Throws<ObjectDisposedException>(() => connection.Run(_ => 0));

            leave.Set();
            Assert.Equal(16, (await operation).Length);
            await disposing.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            Assert.True(connection.IsTornDown);
        }
        finally
        {
            hsm.Restart();
        }
    }

    [Fact]
    public async Task An_operation_outlasting_the_dispose_wait_defers_the_teardown_until_it_returns()
    {
        hsm.Restart(o => o.SessionWaitTimeout = TimeSpan.FromMilliseconds(100));
        var connection = hsm.Connection;
        try
        {
            using var inside = new ManualResetEventSlim();
            using var leave = new ManualResetEventSlim();
            var operation = Task.Run(() => connection.Run(session =>
            {
                inside.Set();
                leave.Wait(TestContext.Current.CancellationToken);
                return session.GenerateRandom(16);
            }), TestContext.Current.CancellationToken);
            inside.Wait(TestContext.Current.CancellationToken);

            connection.Dispose(); // returns after the bounded wait

            Assert.False(connection.IsTornDown);
            leave.Set();
            Assert.Equal(16, (await operation).Length);
            for (var i = 0; i < 500 && !connection.IsTornDown; i++) await Task.Delay(10, TestContext.Current.CancellationToken);
            Assert.True(connection.IsTornDown);
        }
        finally
        {
            hsm.Restart();
        }
    }
}
