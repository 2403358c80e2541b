using System.Security.Cryptography;

namespace R2ps.Hsm.Tests;

/// <summary>AES-256-GCM sealing inside the HSM: nonce (12) ‖ ciphertext ‖ tag (16).</summary>
public sealed class SealingKeyTests(SoftHsmFixture hsm)
{
    private HsmSealingKey Key() => HsmServiceKeys.GetOrCreateSealingKey(hsm.Connection, "sealing-test");

    [Fact]
    public void Sealed_secret_round_trips_with_its_associated_data()
    {
        var secret = Convert.FromHexString("4f5bd0a5d7e3ad2b3c41c3e1e1f3cb1fe92d6a01a0d4ccbac5b7a1e8e2a58f12");

        var sealedData = Key().Seal(secret, "session:1"u8);

        Assert.Equal(12 + secret.Length + 16, sealedData.Length);
        Assert.Equal(secret, Key().Open(sealedData, "session:1"u8));
    }

    [Fact]
    public void An_empty_secret_round_trips()
    {
        Assert.Empty(Key().Open(Key().Seal([], []), []));
    }

    [Fact]
    public void Sealing_twice_uses_fresh_nonces()
    {
        var a = Key().Seal("same"u8, []);
        var b = Key().Seal("same"u8, []);

        Assert.NotEqual(a.AsSpan(0, 12).ToArray(), b.AsSpan(0, 12).ToArray());
    }

    [Fact]
    public void A_flipped_bit_anywhere_fails_to_open_and_the_key_keeps_working()
    {
        var key = Key();
        var sealedData = key.Seal("thirty-two bytes of session key!"u8, "aad"u8);

        foreach (var index in new[] { 0, 11, 12, 30, sealedData.Length - 16, sealedData.Length - 1 })
        {
            var tampered = (byte[])sealedData.Clone();
            tampered[index] ^= 0x01;
            Assert.Throws<CryptographicException>(() => key.Open(tampered, "aad"u8));
        }
        Assert.Equal("thirty-two bytes of session key!"u8.ToArray(), key.Open(sealedData, "aad"u8));
    }

    [Fact]
    public void Other_associated_data_fails_to_open()
    {
        var sealedData = Key().Seal("secret"u8, "session:1"u8);

        Assert.Throws<CryptographicException>(() => Key().Open(sealedData, "session:2"u8));
    }

    [Fact]
    public void Too_short_sealed_data_is_rejected_before_the_hsm()
    {
        Assert.Throws<CryptographicException>(() => Key().Open(new byte[27], []));
    }

    [Fact]
    public void Another_sealing_key_cannot_open_it()
    {
        var sealedData = Key().Seal("secret"u8, []);
        var other = HsmServiceKeys.GetOrCreateSealingKey(hsm.Connection, "sealing-test-other");

        Assert.Throws<CryptographicException>(() => other.Open(sealedData, []));
    }
}
