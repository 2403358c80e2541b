using System.Diagnostics;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using R2ps.Crypto.Ec;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm.Tests;

/// <summary>
/// Regression for SoftHSM2 2.6.1's token generation (see <see cref="HsmConnection.SeeOtherProcessesObjects"/>): a
/// process that creates a token object without having looked at the token since another process created one must
/// still see that other object afterwards. The other process is OpenSC's pkcs11-tool on the same token.
/// </summary>
public sealed class OtherProcessObjectTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_key_generated_here_right_after_another_process_made_an_object_leaves_that_object_visible()
    {
        var label = "other-process-" + Guid.NewGuid().ToString("N");
        Assert.Equal(0, await CountByLabelAsync(label)); // this process has looked at the token: its view is current

        await GenerateAesKeyInAnotherProcessAsync(label);
        // The creation that, unguarded, takes in the other process's change to the token without its object.
        await hsm.Keys.GenerateKeyAsync(SoftHsmFixture.NewOwner(), EcCurve.P256, Ct);

        Assert.Equal(1, await CountByLabelAsync(label));
    }

    private ValueTask<int> CountByLabelAsync(string label) => hsm.Connection.RunAsync(session =>
    {
        List<IObjectAttribute> template =
        [
            session.Factories.ObjectAttributeFactory.Create(CKA.CKA_TOKEN, true),
            session.Factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, label),
        ];
        return Pkcs11Mechanisms.FindObjects(session, template, 4).Count;
    }, Ct);

    private async Task GenerateAesKeyInAnotherProcessAsync(string label)
    {
        var start = new ProcessStartInfo("pkcs11-tool")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList =
            {
                "--module", hsm.Token.ModulePath, "--token-label", SoftHsmFixture.TokenLabel, "--login", "--pin", SoftHsmFixture.UserPin,
                "--keygen", "--key-type", "AES:32", "--label", label,
            },
        };
        start.Environment[R2ps.Tools.SoftHsm.SoftHsmToken.ConfigurationVariable] = hsm.Token.ConfigurationPath;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("pkcs11-tool did not start.");
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, $"pkcs11-tool failed ({process.ExitCode}): {await output}{await error}");
    }
}
