using R2ps.Hsm.SelfTest;

namespace R2ps.Hsm.Tests;

public sealed class KnownAnswerTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_hsm_known_answer_check_passes_on_a_real_token()
    {
        var checks = HsmKnownAnswers.Checks(hsm.Connection).ToList();

        Assert.NotEmpty(checks);
        foreach (var (_, check) in checks) check();
        Assert.Null(await HsmServiceKeys.FindEcKeyAsync(hsm.Connection, "r2ps-self-test", Ct)); // the test key never reaches the token
    }
}
