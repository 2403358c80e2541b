using Net.Pkcs11Interop.Common;

namespace R2ps.Hsm.Tests;

/// <summary>
/// The boot's retry on CKR_GENERAL_ERROR (SoftHSM2 answers so while another process rewrites a fresh token's file):
/// driven with scripted Pkcs11Interop failures, since the race itself cannot be produced on demand.
/// </summary>
public sealed class BootRetryTests
{
    private static readonly TimeSpan NoPause = TimeSpan.Zero;

    [Fact]
    public void A_general_error_that_clears_is_tried_again_until_the_call_succeeds()
    {
        var calls = 0;
        var result = HsmConnection.RetryWhileTokenRewritten(() => ++calls < 3 ? throw new Pkcs11Exception("C_GetTokenInfo", CKR.CKR_GENERAL_ERROR) : "token", pause: NoPause);

        Assert.Equal("token", result);
        Assert.Equal(3, calls);
    }

    [Theory]
    [InlineData(CKR.CKR_GENERAL_ERROR, HsmConnection.BootAttempts)] // persists: thrown after the last attempt
    [InlineData(CKR.CKR_PIN_INCORRECT, 1)] // any other error: thrown at once
    public void A_failure_that_does_not_clear_is_thrown_after_the_attempts_it_is_owed(CKR error, int attempts)
    {
        var calls = 0;
        var e = Assert.Throws<HsmPkcs11Exception>(() =>
            HsmConnection.RetryWhileTokenRewritten<int>(() => { calls++; throw new Pkcs11Exception("C_Login", error); }, pause: NoPause));

        Assert.Equal(error, e.ReturnValue);
        Assert.Equal(attempts, calls);
    }
}
