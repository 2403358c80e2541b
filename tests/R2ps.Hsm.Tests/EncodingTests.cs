using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;

namespace R2ps.Hsm.Tests;

/// <summary>The encodings around the HSM: DER signatures, hash truncation, the client key label.</summary>
public sealed class EncodingTests
{
    [Fact]
    public void Seed_002_ecdsa_signature_converts_between_der_and_raw_and_verifies()
    {
        // Seed 002 §3.3: kid 02205fb0…, tbs_hash (base64) and the DER signature of the response.
        const string der = "30440220260a6228484119be74f7f8f46f964af0433b1f1218e667a92e82e45e48ef488d02207cfe73d85a7b81d7853aa680ba4a0ee17120f7fd87b7542b34f79863052abcbf";
        var raw = Hex.Decode("260a6228484119be74f7f8f46f964af0433b1f1218e667a92e82e45e48ef488d7cfe73d85a7b81d7853aa680ba4a0ee17120f7fd87b7542b34f79863052abcbf");
        var key = EcPublicKey.FromSec1(EcCurve.P256, Hex.Decode("02205fb03627f3d6f2100c5c2f156cd8c8da828c168ba7bac39188ac40d648a5dc"));
        using var verifier = ECDsa.Create(key.ToDotNet());

        Assert.Equal(der, Hex.Encode(EcKeyEncoding.RawSignatureToDer(raw)));
        Assert.True(verifier.VerifyHash(Convert.FromBase64String("YUHJYghlxa4CTkBEKvtPmiA+jCMUURknHs19sd7bNjs="), Hex.Decode(der), DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public void Der_integers_drop_leading_zeros_and_keep_a_sign_byte()
    {
        var raw = new byte[64];
        raw[31] = 0x01;   // r = 1
        raw[32] = 0x80;   // s has its top bit set: DER needs a leading 00

        Assert.Equal("3026" + "020101" + "022100" + "80" + new string('0', 62), Hex.Encode(EcKeyEncoding.RawSignatureToDer(raw)));
    }

    [Fact]
    public void Hashes_are_truncated_to_the_order_length_only_where_ecdsa_says_so()
    {
        var sha512 = new byte[64];

        Assert.Equal(32, EcKeyEncoding.TruncateHash(EcCurve.P256, sha512).Length);
        Assert.Equal(48, EcKeyEncoding.TruncateHash(EcCurve.P384, sha512).Length);
        Assert.Equal(64, EcKeyEncoding.TruncateHash(EcCurve.P521, sha512).Length);
        Assert.Equal(32, EcKeyEncoding.TruncateHash(EcCurve.P384, new byte[32]).Length);
    }

    [Theory]
    [InlineData("https://example.com/wallet/1")]
    [InlineData("a;owner=b;created=3")]
    [InlineData("ünïcode client")]
    public void Client_key_labels_round_trip_any_owner(string owner)
    {
        var label = ClientKeyLabel.Format(owner, 1750751069);

        Assert.True(ClientKeyLabel.TryParse(System.Text.Encoding.UTF8.GetBytes(label), out var parsedOwner, out var created));
        Assert.Equal(owner, parsedOwner);
        Assert.Equal(1750751069, created);
    }

    [Theory]
    [InlineData("r2ps-server-key")]
    [InlineData("r2ps-client-key/1;created=;owner=x")]
    [InlineData("r2ps-client-key/1;created=12a;owner=x")]
    [InlineData("r2ps-client-key/1;created=12;owner=")]
    [InlineData("r2ps-client-key/2;created=12;owner=x")]
    public void Labels_that_are_not_client_key_labels_do_not_parse(string label)
    {
        Assert.False(ClientKeyLabel.TryParse(System.Text.Encoding.UTF8.GetBytes(label), out _, out _));
    }
}
