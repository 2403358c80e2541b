using System.Security.Cryptography;

namespace R2ps.Hsm.Tests;

/// <summary>AES-256-GCM sealing inside the HSM: nonce (12) ‖ ciphertext ‖ tag (16).</summary>
public sealed class SealingKeyTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly ReadOnlyMemory<byte> None = ReadOnlyMemory<byte>.Empty;

    private Task<HsmSealingKey> Key() => HsmServiceKeys.GetOrCreateSealingKeyAsync(hsm.Connection, "sealing-test", Ct);

    [Fact]
    public async Task Sealed_secret_round_trips_with_its_associated_data()
    {
        var secret = Convert.FromHexString("4f5bd0a5d7e3ad2b3c41c3e1e1f3cb1fe92d6a01a0d4ccbac5b7a1e8e2a58f12");

        var sealedData = await (await Key()).SealAsync(secret, "session:1"u8.ToArray(), Ct);

        Assert.Equal(12 + secret.Length + 16, sealedData.Length);
        Assert.Equal(secret, await (await Key()).OpenAsync(sealedData, "session:1"u8.ToArray(), Ct));
    }

    [Fact]
    public async Task An_empty_secret_round_trips()
    {
        var key = await Key();

        Assert.Empty(await key.OpenAsync(await key.SealAsync(None, None, Ct), None, Ct));
    }

    [Fact]
    public async Task Sealing_twice_uses_fresh_nonces()
    {
        var key = await Key();
        var a = await key.SealAsync("same"u8.ToArray(), None, Ct);
        var b = await key.SealAsync("same"u8.ToArray(), None, Ct);

        Assert.NotEqual(a.AsSpan(0, 12).ToArray(), b.AsSpan(0, 12).ToArray());
    }

    [Fact]
    public async Task A_flipped_bit_anywhere_fails_to_open_and_the_key_keeps_working()
    {
        var key = await Key();
        var sealedData = await key.SealAsync("thirty-two bytes of session key!"u8.ToArray(), "aad"u8.ToArray(), Ct);

        foreach (var index in new[] { 0, 11, 12, 30, sealedData.Length - 16, sealedData.Length - 1 })
        {
            var tampered = (byte[])sealedData.Clone();
            tampered[index] ^= 0x01;
            await Assert.ThrowsAsync<CryptographicException>(() => key.OpenAsync(tampered, "aad"u8.ToArray(), Ct));
        }
        Assert.Equal("thirty-two bytes of session key!"u8.ToArray(), await key.OpenAsync(sealedData, "aad"u8.ToArray(), Ct));
    }

    [Fact]
    public async Task Other_associated_data_fails_to_open()
    {
        var key = await Key();
        var sealedData = await key.SealAsync("secret"u8.ToArray(), "session:1"u8.ToArray(), Ct);

        await Assert.ThrowsAsync<CryptographicException>(() => key.OpenAsync(sealedData, "session:2"u8.ToArray(), Ct));
    }

    [Fact]
    public async Task Too_short_sealed_data_is_rejected_before_the_hsm()
    {
        var key = await Key();

        await Assert.ThrowsAsync<CryptographicException>(() => key.OpenAsync(new byte[27], None, Ct));
    }

    [Fact]
    public async Task Another_sealing_key_cannot_open_it()
    {
        var sealedData = await (await Key()).SealAsync("secret"u8.ToArray(), None, Ct);
        var other = await HsmServiceKeys.GetOrCreateSealingKeyAsync(hsm.Connection, "sealing-test-other", Ct);

        await Assert.ThrowsAsync<CryptographicException>(() => other.OpenAsync(sealedData, None, Ct));
    }
}
