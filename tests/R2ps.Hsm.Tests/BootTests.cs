using Net.Pkcs11Interop.Common;
using R2ps.Tools.SoftHsm;

namespace R2ps.Hsm.Tests;

/// <summary>Start-up failures say which step failed: module, token or PIN.</summary>
public sealed class BootTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private HsmOptions Spare(Action<HsmOptions>? change = null)
    {
        var options = hsm.Options();
        options.TokenLabel = SoftHsmFixture.SpareTokenLabel;
        change?.Invoke(options);
        return options;
    }

    [Fact]
    public void A_module_path_that_does_not_exist_fails_as_module_not_loadable()
    {
        var e = Assert.Throws<HsmConfigurationException>(() => HsmConnection.Open(Spare(o => o.ModulePath = "/nonexistent/libpkcs11.so")));

        Assert.Equal(HsmBootFailure.ModuleNotLoadable, e.Failure);
        Assert.Contains("/nonexistent/libpkcs11.so", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_no_library_fails_as_module_not_loadable()
    {
        var e = Assert.Throws<HsmConfigurationException>(() => HsmConnection.Open(Spare(o => o.ModulePath = hsm.Token.ConfigurationPath)));

        Assert.Equal(HsmBootFailure.ModuleNotLoadable, e.Failure);
    }

    [Fact]
    public void A_library_without_c_get_function_list_fails_as_not_a_pkcs11_module()
    {
        var libc = new[] { "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6" }.First(File.Exists);

        var e = Assert.Throws<HsmConfigurationException>(() => HsmConnection.Open(Spare(o => o.ModulePath = libc)));

        Assert.Equal(HsmBootFailure.NotAPkcs11Module, e.Failure);
        Assert.Contains("C_GetFunctionList", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_token_fails_as_token_not_found_and_names_the_tokens_present()
    {
        var e = Assert.Throws<HsmConfigurationException>(() => HsmConnection.Open(Spare(o => o.TokenLabel = "no-such-token")));

        Assert.Equal(HsmBootFailure.TokenNotFound, e.Failure);
        Assert.Contains("'no-such-token'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{SoftHsmFixture.TokenLabel}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_pin_fails_as_wrong_pin_without_showing_it_and_the_right_pin_then_works()
    {
        var e = Assert.Throws<HsmConfigurationException>(() => HsmConnection.Open(Spare(o => o.UserPin = "not-the-pin")));

        Assert.Equal(HsmBootFailure.WrongPin, e.Failure);
        Assert.Contains("CKR_PIN_INCORRECT", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-pin", e.Message, StringComparison.Ordinal);
        using var connection = HsmConnection.Open(Spare());
        Assert.Equal(SoftHsmFixture.SpareTokenLabel, connection.TokenLabel);
    }

    [Fact]
    public void The_pin_can_come_from_a_file_or_an_environment_variable()
    {
        var file = Path.Combine(hsm.Directory, "user.pin");
        File.WriteAllText(file, SoftHsmFixture.UserPin + "\n");
        using (HsmConnection.Open(Spare(o => (o.UserPin, o.UserPinFile) = (null, file))))
        {
        }

        Environment.SetEnvironmentVariable("R2PS_TEST_HSM_PIN", SoftHsmFixture.UserPin);
        using (HsmConnection.Open(Spare(o => (o.UserPin, o.UserPinEnvironmentVariable) = (null, "R2PS_TEST_HSM_PIN"))))
        {
        }

        var missing = Assert.Throws<HsmConfigurationException>(() => HsmConnection.Open(Spare(o => (o.UserPin, o.UserPinEnvironmentVariable) = (null, "R2PS_TEST_HSM_PIN_UNSET"))));
        Assert.Equal(HsmBootFailure.PinUnavailable, missing.Failure);
    }

    [Fact]
    public void Options_without_exactly_one_pin_source_are_invalid()
    {
        var none = Assert.Throws<HsmConfigurationException>(() => HsmConnection.Open(Spare(o => o.UserPin = null)));
        var two = Assert.Throws<HsmConfigurationException>(() => HsmConnection.Open(Spare(o => o.UserPinFile = "/tmp/pin")));

        Assert.Equal(HsmBootFailure.InvalidOptions, none.Failure);
        Assert.Equal(HsmBootFailure.InvalidOptions, two.Failure);
        Assert.NotEmpty(new HsmOptions { UserPin = "x", SessionPoolSize = 0 }.Validate());
        Assert.Empty(new HsmOptions { UserPin = "x" }.Validate());
    }

    [Fact]
    public async Task The_same_token_cannot_be_opened_twice_in_one_process()
    {
        var e = Assert.Throws<HsmConfigurationException>(() => HsmConnection.Open(hsm.Options()));

        Assert.Contains("already open", e.Message, StringComparison.Ordinal);
        Assert.Empty(await hsm.Keys.ListKeysAsync(SoftHsmFixture.NewOwner(), cancellationToken: Ct)); // the open connection is unaffected
    }

    [Fact]
    public void Ensure_on_an_existing_token_changes_nothing()
    {
        var again = SoftHsmToken.Ensure(hsm.Directory, SoftHsmFixture.TokenLabel, SoftHsmFixture.SoPin, SoftHsmFixture.UserPin);

        Assert.False(again.Created);
        Assert.True(hsm.Token.Created);
        Assert.Contains("directories.tokendir", File.ReadAllText(again.ConfigurationPath), StringComparison.Ordinal);
    }

    [Fact]
    public void Pkcs11_errors_name_the_function_and_the_return_value()
    {
        Assert.Equal("C_Sign failed: CKR_KEY_HANDLE_INVALID", new HsmPkcs11Exception("C_Sign", (CKR)0x60).Message);
        Assert.Equal("C_Login failed: CKR_PIN_INCORRECT", new HsmPkcs11Exception("C_Login", (CKR)0xA0).Message);
        Assert.Equal("C_Foo failed: CKR_VENDOR_DEFINED+0x12", new HsmPkcs11Exception("C_Foo", (CKR)0x80000012).Message);
        Assert.Equal("CKR_0x000000ff", HsmPkcs11Exception.NameOf((CKR)0xFF));
    }
}
