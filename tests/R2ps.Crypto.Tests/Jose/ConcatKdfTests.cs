using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Testing;

namespace R2ps.Crypto.Tests.Jose;

/// <summary>
/// The Concat KDF of direct ECDH-ES (RFC 7518 §4.6.2), as jose-jwt's key management runs it with the recipient key
/// behind <see cref="IEcPrivateKey"/> (our ECDiffieHellman adapter): RFC 7518 App. C's keys, Z, OtherInfo and key.
/// </summary>
public class ConcatKdfTests
{
    // RFC 7518 App. C: Z of Alice's ephemeral and Bob's static P-256 keys.
    private const string ZHex = "9e56d91d817135d372834283bf84269cfb316ea3da806a48f6daa7798cfe90c4";
    private const string BobD = "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw";
    private const string AliceX = "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0";
    private const string AliceY = "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps";

    /// <summary>The content key jose-jwt derives for Bob from Alice's epk and these header values.</summary>
    private static byte[] Derive(int bits, string enc, string? apu = null, string? apv = null, string bobD = BobD, string aliceX = AliceX, string aliceY = AliceY)
    {
        using var bob = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Base64Url.Decode(bobD));
        var header = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["alg"] = "ECDH-ES",
            ["enc"] = enc,
            ["epk"] = new Dictionary<string, object>(StringComparer.Ordinal) { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = aliceX, ["y"] = aliceY },
        };
        if (apu is not null) header["apu"] = apu;
        if (apv is not null) header["apv"] = apv;
        using var agreement = new EcdhKeyAdapter(bob);
        return JoseEngine.DeriveEcdhEsKey(bits, agreement, header);
    }

    [Fact]
    public void Rfc7518_appendix_C_derives_the_published_key()
    {
        // RFC 7518 App. C: enc A128GCM, apu "Alice", apv "Bob", keydatalen 128 → "VqqN6vgjbSBcIijNcacQGg".
        var key = Derive(128, "A128GCM", Base64Url.Encode("Alice"u8), Base64Url.Encode("Bob"u8));
        Assert.Equal("VqqN6vgjbSBcIijNcacQGg", Base64Url.Encode(key));
        Assert.Equal("56aa8deaf8236d205c2228cd71a7101a", Hex.Encode(key));
    }

    [Fact]
    public void Rfc7518_appendix_C_other_info_is_the_published_byte_layout()
    {
        // RFC 7518 App. C: AlgorithmID [0,0,0,7,'A128GCM'], PartyUInfo [0,0,0,5,'Alice'], PartyVInfo [0,0,0,3,'Bob'],
        // SuppPubInfo [0,0,0,128].
        // One SHA-256 block over counter 1 ‖ Z ‖ that OtherInfo, cut to 128 bits, is what jose-jwt derives.
        var otherInfo = Convert.FromHexString("000000074131323847434d" + "00000005416c696365" + "00000003426f62" + "00000080");
        var block = SHA256.HashData([0, 0, 0, 1, .. Convert.FromHexString(ZHex), .. otherInfo]);
        Assert.Equal(block[..16], Derive(128, "A128GCM", Base64Url.Encode("Alice"u8), Base64Url.Encode("Bob"u8)));
    }

    [Fact]
    public void Rfc7518_appendix_C_Z_is_the_ECDH_of_either_key_pair()
    {
        // RFC 7518 App. C: Alice's ephemeral d and Bob's static d with each other's public keys.
        using var alice = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Base64Url.Decode("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"));
        using var bob = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Base64Url.Decode("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"));
        Assert.Equal("gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0", Base64Url.Encode(alice.PublicKey.X));
        Assert.Equal("weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ", Base64Url.Encode(bob.PublicKey.X));
        Assert.Equal(ZHex, Hex.Encode(alice.DeriveSharedSecret(bob.PublicKey)));
        Assert.Equal(ZHex, Hex.Encode(bob.DeriveSharedSecret(alice.PublicKey)));
    }

    [Fact]
    public void Output_longer_than_one_hash_is_the_concatenation_of_counter_blocks()
    {
        // RFC 7518 §4.6.2 / SP 800-56A §5.8.1: K(i) = SHA-256(counter_i ‖ Z ‖ OtherInfo), counter from 1.
        var z = Convert.FromHexString(ZHex);
        // OtherInfo: [0,0,0,13,'A256CBC-HS512'], empty PartyU/PartyV, SuppPubInfo 512.
        var otherInfo = Convert.FromHexString("0000000d" + Hex.Encode("A256CBC-HS512"u8) + "00000000" + "00000000" + "00000200");
        byte[] Block(byte counter) => SHA256.HashData([0, 0, 0, counter, .. z, .. otherInfo]);

        var key = Derive(512, "A256CBC-HS512");

        Assert.Equal([.. Block(1), .. Block(2)], key);
    }

    [Fact]
    public void Empty_party_infos_are_encoded_as_zero_lengths()
    {
        // PROTOCOL.md 1.3: AlgorithmID "A256GCM", empty PartyU/PartyV, 256 bits.
        var otherInfo = Convert.FromHexString("00000007413235364743" + "4d" + "00000000" + "00000000" + "00000100");
        Assert.Equal(SHA256.HashData([0, 0, 0, 1, .. Convert.FromHexString(ZHex), .. otherInfo]), Derive(256, "A256GCM"));
    }

    [Fact]
    public void Shared_vector_file_agrees_with_the_implementation()
    {
        using var vector = SharedFiles.ReadJson("vectors/jose_rfc7518_appendixC_ecdh_es.json");
        var root = vector.RootElement;
        var z = root.GetProperty("Z_bytes").EnumerateArray().Select(e => e.GetByte()).ToArray();
        var header = root.GetProperty("header");
        var epk = header.GetProperty("epk");
        var bobD = root.GetProperty("bob_static_key").GetProperty("d").GetString()!;
        using var bob = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Base64Url.Decode(bobD));
        Assert.Equal(z, bob.DeriveSharedSecret(JoseTestSupport.PublicKeyFromJwk(EcCurve.P256, epk.GetProperty("x").GetString()!, epk.GetProperty("y").GetString()!)));
        var key = Derive(
            root.GetProperty("keydatalen_bits").GetInt32(),
            header.GetProperty("enc").GetString()!,
            header.GetProperty("apu").GetString()!,
            header.GetProperty("apv").GetString()!,
            bobD,
            epk.GetProperty("x").GetString()!,
            epk.GetProperty("y").GetString()!);
        Assert.Equal(root.GetProperty("derived_key_b64u").GetString(), Base64Url.Encode(key));
    }
}
