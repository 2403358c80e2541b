using R2ps.Crypto.SelfTest;

namespace R2ps.Crypto.Tests.Hpke;

public class HpkeKnownAnswersTests
{
    [Fact]
    public void Every_hpke_self_test_check_passes()
    {
        var checks = HpkeKnownAnswers.Checks().ToList();
        Assert.Equal(3, checks.Count);
        Assert.All(checks, c => c.Check());
        Assert.Equal(checks.Count, checks.Select(c => c.Name).Distinct().Count());
    }
}
