using R2ps.Hsm.SelfTest;

namespace R2ps.Hsm.Tests;

public sealed class KnownAnswerTests(SoftHsmFixture hsm)
{
    [Fact]
    public void Every_hsm_known_answer_check_passes_on_a_real_token()
    {
        var checks = HsmKnownAnswers.Checks(hsm.Connection).ToList();

        Assert.NotEmpty(checks);
        foreach (var (_, check) in checks) check();
        Assert.Null(HsmServiceKeys.FindEcKey(hsm.Connection, "r2ps-self-test")); // the test key never reaches the token
    }
}
