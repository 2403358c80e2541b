using R2ps.Crypto.Encoding;
using R2ps.Crypto.Opaque;
using R2ps.Testing;

namespace R2ps.Crypto.Tests.Opaque;

public class P256Sha256OprfTests
{
    // RFC 9497 App. A.3.1 (P256-SHA256, OPRF mode): Seed, KeyInfo, skSm
    private const string Seed = "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3";
    private const string KeyInfo = "74657374206b6579";
    private const string SkSm = "159749d750713afe245d2d39ccfaae8381c53ce92d098a9375ee70739c7ac0bf";

    // RFC 9497 App. A.3.1 test vectors 1 and 2: Input, Blind, BlindedElement, EvaluationElement, Output
    public static TheoryData<string, string, string, string, string> Vectors => new()
    {
        {
            "00",
            "3338fa65ec36e0290022b48eb562889d89dbfa691d1cde91517fa222ed7ad364",
            "03723a1e5c09b8b9c18d1dcbca29e8007e95f14f4732d9346d490ffc195110368d",
            "030de02ffec47a1fd53efcdd1c6faf5bdc270912b8749e783c7ca75bb412958832",
            "a0b34de5fa4c5b6da07e72af73cc507cceeb48981b97b7285fc375345fe495dd"
        },
        {
            "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
            "3338fa65ec36e0290022b48eb562889d89dbfa691d1cde91517fa222ed7ad364",
            "03cc1df781f1c2240a64d1c297b3f3d16262ef5d4cf102734882675c26231b0838",
            "03a0395fe3828f2476ffcd1f4fe540e5a8489322d398be3c4e5a869db7fcb7c52c",
            "c748ca6dd327f0ce85f4ae3a8cd6d4d5390bbb804c9e12dcf94f853fece3dcce"
        },
    };

    [Fact]
    public void Rfc9497_A31_DeriveKeyPair_reproduces_skSm()
    {
        var (privateKey, publicKey) = P256Sha256Oprf.DeriveKeyPair(Hex.Decode(Seed), Hex.Decode(KeyInfo));
        Assert.Equal(SkSm, Hex.Encode(privateKey));
        Assert.Equal(33, publicKey.Length);
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Rfc9497_A31_Blind_BlindEvaluate_Finalize_reproduce(string input, string blind, string blindedElement, string evaluationElement, string output)
    {
        var random = new FixedOpaqueRandom().With(OpaqueRandomPurpose.Blind, blind);
        using var blinded = P256Sha256Oprf.Blind(Hex.Decode(input), random);
        Assert.Equal(blind, Hex.Encode(blinded.Blind));
        Assert.Equal(blindedElement, Hex.Encode(blinded.BlindedElement));

        var evaluated = P256Sha256Oprf.BlindEvaluate(Hex.Decode(SkSm), blinded.BlindedElement);
        Assert.Equal(evaluationElement, Hex.Encode(evaluated));

        Assert.Equal(output, Hex.Encode(P256Sha256Oprf.Finalize(Hex.Decode(input), blinded.Blind, evaluated)));
    }

    [Fact]
    public void Every_vector_of_the_shared_file_reproduces()
    {
        using var json = SharedFiles.ReadJson("vectors/oprf_rfc9497_p256_sha256_mode0.json");
        var root = json.RootElement;
        var (sk, _) = P256Sha256Oprf.DeriveKeyPair(Hex.Decode(root.GetProperty("seed").GetString()!), Hex.Decode(root.GetProperty("keyInfo").GetString()!));
        Assert.Equal(root.GetProperty("skSm").GetString(), Hex.Encode(sk));
        Assert.Equal(root.GetProperty("derived").GetProperty("contextString_hex").GetString(), Hex.Encode(P256Sha256Oprf.ContextString));
        var count = 0;
        foreach (var v in root.GetProperty("vectors").EnumerateArray())
        {
            var input = Hex.Decode(v.GetProperty("Input").GetString()!);
            using var blinded = P256Sha256Oprf.Blind(input, new FixedOpaqueRandom().With(OpaqueRandomPurpose.Blind, v.GetProperty("Blind").GetString()!));
            Assert.Equal(v.GetProperty("BlindedElement").GetString(), Hex.Encode(blinded.BlindedElement));
            var evaluated = P256Sha256Oprf.BlindEvaluate(sk, blinded.BlindedElement);
            Assert.Equal(v.GetProperty("EvaluationElement").GetString(), Hex.Encode(evaluated));
            Assert.Equal(v.GetProperty("Output").GetString(), Hex.Encode(P256Sha256Oprf.Finalize(input, blinded.Blind, evaluated)));
            count++;
        }
        Assert.Equal(2, count);
    }

    [Fact]
    public void Blinded_element_equal_to_the_identity_is_rejected()
    {
        // The identity has no 33-byte compressed form; its usual stand-ins (all zero, or 0x00 alone) must both fail.
        var ex = Assert.Throws<OpaqueException>(() => P256Sha256Oprf.BlindEvaluate(Hex.Decode(SkSm), new byte[33]));
        Assert.Equal(OpaqueError.InvalidPoint, ex.Reason);
        var single = Assert.Throws<OpaqueException>(() => P256Sha256Oprf.BlindEvaluate(Hex.Decode(SkSm), [0x00]));
        Assert.Equal(OpaqueError.InvalidLength, single.Reason);
    }

    [Fact]
    public void Private_key_out_of_range_is_rejected()
    {
        var order = Hex.Decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        var ex = Assert.Throws<OpaqueException>(() => P256Sha256Oprf.BlindEvaluate(order, Hex.Decode("03723a1e5c09b8b9c18d1dcbca29e8007e95f14f4732d9346d490ffc195110368d")));
        Assert.Equal(OpaqueError.InvalidScalar, ex.Reason);
    }

    [Fact]
    public void Blind_draws_again_when_the_random_scalar_is_zero()
    {
        var random = new QueueRandom(new byte[32], Hex.Decode("3338fa65ec36e0290022b48eb562889d89dbfa691d1cde91517fa222ed7ad364"));
        using var blinded = P256Sha256Oprf.Blind([0x00], random);
        Assert.Equal("03723a1e5c09b8b9c18d1dcbca29e8007e95f14f4732d9346d490ffc195110368d", Hex.Encode(blinded.BlindedElement));
    }

    private sealed class QueueRandom(params byte[][] values) : IOpaqueRandom
    {
        private readonly Queue<byte[]> _values = new(values);

        public void Fill(OpaqueRandomPurpose purpose, Span<byte> destination) => _values.Dequeue().CopyTo(destination);
    }
}
