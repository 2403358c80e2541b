using System.Collections.Concurrent;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;

namespace R2ps.Hsm.Tests;

/// <summary>The session pool under load, bounded waiting, serialised key generation, and persistence across C_Finalize.</summary>
public sealed class ConcurrencyAndRestartTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sixteen_tasks_times_a_thousand_signs_all_succeed_and_verify()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P256, Ct);
        var failures = new ConcurrentBag<string>();

        var tasks = Enumerable.Range(0, 16).Select(t => Task.Run(async () =>
        {
            using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());
            var input = new byte[8];
            for (var i = 0; i < 1000; i++)
            {
                BitConverter.TryWriteBytes(input, (t << 16) | i);
                var hash = SHA256.HashData(input);
                var signature = await hsm.Keys.SignHashAsync(owner, key.Kid, hash, Ct);
                if (!verifier.VerifyHash(hash, signature, DSASignatureFormat.Rfc3279DerSequence)) failures.Add($"{t}/{i}");
            }
        }, TestContext.Current.CancellationToken));
        await Task.WhenAll(tasks);

        Assert.Empty(failures);
    }

    [Fact]
    public async Task Parallel_key_generation_on_every_curve_yields_distinct_usable_keys()
    {
        var owner = SoftHsmFixture.NewOwner();

        var generated = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Task.Run(() => hsm.Keys.GenerateKeyAsync(owner, EcCurve.All[i % 3], Ct), TestContext.Current.CancellationToken)));

        Assert.Equal(6, generated.Select(k => k.Kid).Distinct().Count());
        Assert.Equal(generated.Select(k => k.Kid).Order(), (await hsm.Keys.ListKeysAsync(owner, cancellationToken: Ct)).Select(k => k.Kid).Order());
        foreach (var key in generated) Assert.NotEmpty(await hsm.Keys.SignHashAsync(owner, key.Kid, new byte[32], Ct));
    }

    [Fact]
    public async Task Waiting_for_a_session_is_bounded_by_the_timeout()
    {
        hsm.Restart(o =>
        {
            o.SessionPoolSize = 1;
            o.SessionWaitTimeout = TimeSpan.FromMilliseconds(200);
        });
        try
        {
            using var holding = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            var holder = Task.Run(() => hsm.Connection.Run(_ =>
            {
                holding.Set();
                release.Wait(TestContext.Current.CancellationToken);
                return 0;
            }), TestContext.Current.CancellationToken);
            holding.Wait(TestContext.Current.CancellationToken);

            await Assert.ThrowsAsync<HsmBusyException>(() => hsm.Keys.ListKeysAsync(SoftHsmFixture.NewOwner(), cancellationToken: Ct));

            release.Set();
            await holder;
            Assert.Empty(await hsm.Keys.ListKeysAsync(SoftHsmFixture.NewOwner(), cancellationToken: Ct));
        }
        finally
        {
            hsm.Restart();
        }
    }

    [Fact]
    public async Task Keys_survive_finalize_and_reinitialize_of_the_module()
    {
        var owner = SoftHsmFixture.NewOwner();
        var clientKey = await hsm.Keys.GenerateKeyAsync(owner, EcCurve.P521, Ct);
        var serverKey = await HsmServiceKeys.GetOrCreateServerKeyAsync(hsm.Connection, "restart-server", Ct);
        var sealedData = await (await HsmServiceKeys.GetOrCreateSealingKeyAsync(hsm.Connection, "restart-sealing", Ct)).SealAsync("kept"u8.ToArray(), ReadOnlyMemory<byte>.Empty, Ct);

        hsm.Restart();

        var listed = Assert.Single(await hsm.Keys.ListKeysAsync(owner, cancellationToken: Ct));
        Assert.Equal(clientKey, listed);
        var hash = SHA512.HashData("after restart"u8);
        using var verifier = ECDsa.Create(clientKey.PublicKey.ToDotNet());
        Assert.True(verifier.VerifyHash(hash, await hsm.Keys.SignHashAsync(owner, clientKey.Kid, hash, Ct), DSASignatureFormat.Rfc3279DerSequence));
        Assert.Equal(serverKey.PublicKey, (await HsmServiceKeys.GetOrCreateServerKeyAsync(hsm.Connection, "restart-server", Ct)).PublicKey);
        Assert.Equal("kept"u8.ToArray(), await (await HsmServiceKeys.GetOrCreateSealingKeyAsync(hsm.Connection, "restart-sealing", Ct)).OpenAsync(sealedData, ReadOnlyMemory<byte>.Empty, Ct));
    }

    [Fact]
    public async Task A_disposed_connection_refuses_work()
    {
        hsm.Restart();
        var connection = hsm.Connection;
        var keys = hsm.Keys;
        hsm.Restart();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => keys.ListKeysAsync(SoftHsmFixture.NewOwner(), cancellationToken: Ct));
        GC.KeepAlive(connection);
    }
}
