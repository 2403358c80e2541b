using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Crypto.Pin;
using R2ps.Testing;

namespace R2ps.Crypto.Tests.Pin;

public class PinHardeningTests
{
    // PROTOCOL.md §3: the private scalar of interop/r2ps-base-testkeys/p256.pem (diggsweden/r2ps-base test key).
    private const string DeviceScalar = "9d1a774bf9d72e255c7076454e3fc04a72191a161c72056edb88c85659578dc5";

    // PROTOCOL.md §3: PIN "123456" hardened with that key.
    private const string HardenedPin123456 = "e784ca50762b11f22d07cd61b5388a692faec4159080c8de6ac98567a69eb685";

    [Fact]
    public void Pin_123456_with_the_reference_test_key_gives_the_known_password()
    {
        using var key = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Hex.Decode(DeviceScalar));
        Assert.Equal(HardenedPin123456, Hex.Encode(PinHardening.HardenPin(key, "123456")));
    }

    [Fact]
    public void The_carried_scalar_is_the_one_of_the_shared_pem()
    {
        using var key = SoftwareEcKey.FromPem(SharedFiles.ReadText("interop/r2ps-base-testkeys/p256.pem"));
        Assert.Equal(DeviceScalar, Hex.Encode(EcCurve.P256.EncodeFieldElement(key.PrivateScalar)));
    }

    [Fact]
    public void Different_pins_and_different_keys_give_different_passwords()
    {
        using var key = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Hex.Decode(DeviceScalar));
        using var other = SoftwareEcKey.Generate(EcCurve.P256);
        Assert.NotEqual(HardenedPin123456, Hex.Encode(PinHardening.HardenPin(key, "123457")));
        Assert.NotEqual(HardenedPin123456, Hex.Encode(PinHardening.HardenPin(other, "123456")));
    }

    [Fact]
    public void A_device_key_on_another_curve_is_refused()
    {
        using var key = SoftwareEcKey.Generate(EcCurve.P384);
        Assert.Throws<System.Security.Cryptography.CryptographicException>(() => PinHardening.HardenPin(key, "123456"));
    }
}
