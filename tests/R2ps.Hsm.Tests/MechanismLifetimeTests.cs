using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;

namespace R2ps.Hsm.Tests;

/// <summary>
/// A Pkcs11Interop mechanism owns the unmanaged copy of its parameters (CK_GCM_PARAMS, CK_ECDH1_DERIVE_PARAMS) and frees
/// it in its finalizer. Once the session has read the mechanism's struct, an undisposed mechanism is unreachable, and
/// the finalizer could free the parameters while C_DecryptInit or C_DeriveKey was still copying them: a benchmark run
/// died with SIGSEGV in memcpy under C_DecryptInit, and a fuzz run got CKR_MECHANISM_PARAM_INVALID from C_DeriveKey
/// for a valid point. These tests keep the finalizer thread busy while the operations run.
/// </summary>
public sealed class MechanismLifetimeTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const int Rounds = 4_000;

    [Fact]
    public async Task Sealing_and_opening_survive_finalizers_running_alongside()
    {
        var key = await HsmServiceKeys.GetOrCreateSealingKeyAsync(hsm.Connection, "mechanism-lifetime", Ct);
        var secret = RandomNumberGenerator.GetBytes(32);
        var aad = RandomNumberGenerator.GetBytes(40);

        await WithFinalizersRunningAsync(() => Parallel.ForAsync(0, Rounds, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct },
            async (_, token) =>
            {
                var sealedData = await key.SealAsync(secret, aad, token);
                Assert.Equal(secret, await key.OpenAsync(sealedData, aad, token));
            }));
    }

    [Fact]
    public async Task Ecdh_survives_finalizers_running_alongside()
    {
        using var software = SoftwareEcKey.Generate(EcCurve.P256);
        var hsmKey = await HsmServiceKeys.ImportEcKeyAsync(hsm.Connection, "mechanism-lifetime-" + Guid.NewGuid().ToString("N"), software, Ct);
        using var peer = SoftwareEcKey.Generate(EcCurve.P256);
        var expected = software.DeriveSharedSecret(peer.PublicKey);

        await WithFinalizersRunningAsync(() => Parallel.ForAsync(0, Rounds, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct },
            async (_, token) => Assert.Equal(expected, await hsmKey.DeriveSharedSecretAsync(peer.PublicKey, token))));
    }

    /// <summary>Runs <paramref name="work"/> while another thread collects and runs finalizers without pause.</summary>
    private static async Task WithFinalizersRunningAsync(Func<Task> work)
    {
        using var stop = new CancellationTokenSource();
        var finalizedBefore = Interlocked.Read(ref s_finalized);
        var collector = Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Garbage with finalizers of its own keeps the finalizer thread running, as a loaded process does.
                for (var i = 0; i < 64; i++) _ = new Finalizable();
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }, TaskCreationOptions.LongRunning);
        try
        {
            await work();
        }
        finally
        {
            await stop.CancelAsync();
            await collector;
        }

        // The premise: finalizers did run while the operations did.
        Assert.True(Interlocked.Read(ref s_finalized) > finalizedBefore);
    }

    private static long s_finalized;

    private sealed class Finalizable
    {
        ~Finalizable() => Interlocked.Increment(ref s_finalized);
    }
}
