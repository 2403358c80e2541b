using R2ps.Crypto.SelfTest;

namespace R2ps.Crypto.Tests.Opaque;

public class OpaqueKnownAnswersTests
{
    [Fact]
    public void Every_opaque_known_answer_check_passes()
    {
        var checks = OpaqueKnownAnswers.Checks().ToList();
        Assert.Equal(4, checks.Count);
        foreach (var (name, check) in checks)
        {
            Assert.False(string.IsNullOrWhiteSpace(name));
            check();
        }
    }
}
