using System.Collections.Concurrent;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;

namespace R2ps.Hsm.Tests;

/// <summary>The session pool under load, bounded waiting, serialised key generation, and persistence across C_Finalize.</summary>
public sealed class ConcurrencyAndRestartTests(SoftHsmFixture hsm)
{
    [Fact]
    public async Task Sixteen_tasks_times_a_thousand_signs_all_succeed_and_verify()
    {
        var owner = SoftHsmFixture.NewOwner();
        var key = hsm.Keys.GenerateKey(owner, EcCurve.P256);
        var failures = new ConcurrentBag<string>();

        var tasks = Enumerable.Range(0, 16).Select(t => Task.Run(() =>
        {
            using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());
            Span<byte> input = stackalloc byte[8];
            for (var i = 0; i < 1000; i++)
            {
                BitConverter.TryWriteBytes(input, (t << 16) | i);
                var hash = SHA256.HashData(input);
                var signature = hsm.Keys.SignHash(owner, key.Kid, hash);
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
            Task.Run(() => hsm.Keys.GenerateKey(owner, EcCurve.All[i % 3]), TestContext.Current.CancellationToken)));

        Assert.Equal(6, generated.Select(k => k.Kid).Distinct().Count());
        Assert.Equal(generated.Select(k => k.Kid).Order(), hsm.Keys.ListKeys(owner).Select(k => k.Kid).Order());
        foreach (var key in generated) Assert.NotEmpty(hsm.Keys.SignHash(owner, key.Kid, new byte[32]));
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
            }), TestContext.Current.CancellationToken);
            holding.Wait(TestContext.Current.CancellationToken);

            Assert.Throws<HsmBusyException>(() => hsm.Keys.ListKeys(SoftHsmFixture.NewOwner()));

            release.Set();
            await holder;
            Assert.Empty(hsm.Keys.ListKeys(SoftHsmFixture.NewOwner()));
        }
        finally
        {
            hsm.Restart();
        }
    }

    [Fact]
    public void Keys_survive_finalize_and_reinitialize_of_the_module()
    {
        var owner = SoftHsmFixture.NewOwner();
        var clientKey = hsm.Keys.GenerateKey(owner, EcCurve.P521);
        var serverKey = HsmServiceKeys.GetOrCreateServerKey(hsm.Connection, "restart-server");
        var sealedData = HsmServiceKeys.GetOrCreateSealingKey(hsm.Connection, "restart-sealing").Seal("kept"u8, []);

        hsm.Restart();

        var listed = Assert.Single(hsm.Keys.ListKeys(owner));
        Assert.Equal(clientKey, listed);
        var hash = SHA512.HashData("after restart"u8);
        using var verifier = ECDsa.Create(clientKey.PublicKey.ToDotNet());
        Assert.True(verifier.VerifyHash(hash, hsm.Keys.SignHash(owner, clientKey.Kid, hash), DSASignatureFormat.Rfc3279DerSequence));
        Assert.Equal(serverKey.PublicKey, HsmServiceKeys.GetOrCreateServerKey(hsm.Connection, "restart-server").PublicKey);
        Assert.Equal("kept"u8.ToArray(), HsmServiceKeys.GetOrCreateSealingKey(hsm.Connection, "restart-sealing").Open(sealedData, []));
    }

    [Fact]
    public void A_disposed_connection_refuses_work()
    {
        hsm.Restart();
        var connection = hsm.Connection;
        var keys = hsm.Keys;
        hsm.Restart();

        Assert.Throws<ObjectDisposedException>(() => keys.ListKeys(SoftHsmFixture.NewOwner()));
        GC.KeepAlive(connection);
    }
}
