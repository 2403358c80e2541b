using R2ps.Hsm;
using R2ps.Tools.SoftHsm;

[assembly: AssemblyFixture(typeof(R2ps.Hsm.Tests.SoftHsmFixture))]

// One PKCS#11 module per process, one login per token: tests share the fixture's connection and run one at a time
// (the restart test finalises the module under everybody).
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace R2ps.Hsm.Tests;

/// <summary>
/// A real SoftHSM2 token for the whole test run, created in a temporary directory with its own SOFTHSM2_CONF, plus a
/// second token ("spare") that no connection logs into, for the wrong-PIN test.
/// </summary>
public sealed class SoftHsmFixture : IDisposable
{
    public const string TokenLabel = "r2ps-test";
    public const string SpareTokenLabel = "r2ps-spare";
    public const string UserPin = "1234-user";
    public const string SoPin = "5678-so";

    public SoftHsmFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "r2ps-hsm-tests-" + Guid.NewGuid().ToString("N"));
        Token = SoftHsmToken.Ensure(Directory, TokenLabel, SoPin, UserPin);
        SoftHsmToken.Ensure(Directory, SpareTokenLabel, SoPin, UserPin);
        Connection = HsmConnection.Open(Options());
        Keys = new HsmKeyService(Connection);
    }

    public string Directory { get; }

    public SoftHsmToken Token { get; }

    public HsmConnection Connection { get; private set; }

    public HsmKeyService Keys { get; private set; }

    public HsmOptions Options(int poolSize = 4) => Token.CreateOptions(UserPin, poolSize);

    /// <summary>
    /// Disposes the connection (its last user: C_Finalize) and opens a new one (C_Initialize again), with the default
    /// options or changed ones.
    /// </summary>
    public void Restart(Action<HsmOptions>? change = null)
    {
        Connection.Dispose(); // idempotent
        var options = Options();
        change?.Invoke(options);
        Connection = HsmConnection.Open(options);
        Keys = new HsmKeyService(Connection);
    }

    /// <summary>A client_id no other test uses, so that listings see only this test's keys.</summary>
    public static string NewOwner() => "https://wallet.example/" + Guid.NewGuid().ToString("N");

    public void Dispose()
    {
        Connection.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is not worth failing the run for.
        }
    }
}
