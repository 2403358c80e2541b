using R2ps.Crypto.SelfTest;

namespace R2ps.Crypto.Tests.Jose;

public class JoseKnownAnswersTests
{
    [Fact]
    public void Every_start_up_check_passes()
    {
        var checks = JoseKnownAnswers.Checks().ToList();
        Assert.NotEmpty(checks);
        Assert.Equal(checks.Count, checks.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count());
        foreach (var (_, check) in checks) check();
    }
}
