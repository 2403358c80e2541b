using System.Reflection;
using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using R2ps.Crypto.Ec;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm.Tests;

/// <summary>
/// What a module hands back through Pkcs11Interop is checked where we use it: a signature, shared secret or GCM output
/// of the wrong length and a CKA_EC_POINT that is no point on the curve are typed errors, never a wrong result, and
/// the objects made on the way are destroyed. A fake session stands in for a broken module (SoftHSM2 behaves).
/// </summary>
public sealed class UntrustedOutputTests
{
    private static readonly Pkcs11InteropFactories Factories = new();

    [Theory]
    [InlineData(0)]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(128)]
    public void A_signature_that_is_not_two_field_sizes_long_is_a_typed_error(int length)
    {
        var session = FakeSession.Create(f => f.Signature = new byte[length]);

        var e = Assert.Throws<HsmPkcs11Exception>(() => Pkcs11Mechanisms.SignEcdsa(session, Handle(7), new byte[32], EcCurve.P256.FieldSize));

        Assert.Contains("C_Sign", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signature_of_two_field_sizes_is_returned_as_it_came()
    {
        var raw = RandomNumberGenerator.GetBytes(2 * EcCurve.P521.FieldSize);
        var session = FakeSession.Create(f => f.Signature = raw);

        Assert.Equal(raw, Pkcs11Mechanisms.SignEcdsa(session, Handle(7), new byte[64], EcCurve.P521.FieldSize));
    }

    [Theory]
    [InlineData(31)]
    [InlineData(33)]
    public void A_shared_secret_of_the_wrong_length_is_a_typed_error_and_the_derived_object_is_destroyed(int length)
    {
        var fake = default(FakeSession)!;
        var session = FakeSession.Create(f => (f.DerivedValue, fake) = (RandomNumberGenerator.GetBytes(length), f));
        var peer = EcCurve.P256.MultiplyGenerator(Org.BouncyCastle.Math.BigInteger.Two).GetEncoded(false);

        Assert.Throws<HsmPkcs11Exception>(() => Pkcs11Mechanisms.DeriveEcdh(session, Handle(7), peer, EcCurve.P256.FieldSize));

        Assert.Equal([FakeSession.DerivedHandle], fake.Destroyed);
    }

    [Fact]
    public void A_shared_secret_without_a_value_is_a_typed_error_and_the_derived_object_is_destroyed()
    {
        var fake = default(FakeSession)!;
        var session = FakeSession.Create(f => (f.DerivedValue, fake) = (null, f));
        var peer = EcCurve.P256.MultiplyGenerator(Org.BouncyCastle.Math.BigInteger.Two).GetEncoded(false);

        Assert.Throws<HsmPkcs11Exception>(() => Pkcs11Mechanisms.DeriveEcdh(session, Handle(7), peer, EcCurve.P256.FieldSize));

        Assert.Equal([FakeSession.DerivedHandle], fake.Destroyed);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(37)]
    public void A_gcm_ciphertext_that_is_not_plaintext_plus_tag_long_is_a_typed_error(int length)
    {
        var session = FakeSession.Create(f => f.CipherOutput = new byte[length]);

        Assert.Throws<HsmPkcs11Exception>(() => Pkcs11Mechanisms.EncryptAesGcm(session, Handle(7), new byte[12], [], new byte[20]));
    }

    [Fact]
    public void A_gcm_plaintext_that_is_not_ciphertext_minus_tag_long_is_a_typed_error()
    {
        var session = FakeSession.Create(f => f.CipherOutput = new byte[24]);

        Assert.Throws<HsmPkcs11Exception>(() => Pkcs11Mechanisms.DecryptAesGcm(session, Handle(7), new byte[12], [], new byte[36]));
    }

    [Theory]
    [InlineData("04")] // a bare prefix
    [InlineData("0441")] // an OCTET STRING of the wrong length
    [InlineData("ff")] // neither
    public void A_generated_key_whose_ec_point_is_no_point_is_refused_and_both_objects_are_destroyed(string ecPointHex)
    {
        var fake = default(FakeSession)!;
        var session = FakeSession.Create(f => (f.EcPoint, fake) = (Convert.FromHexString(ecPointHex), f));

        Assert.ThrowsAny<CryptographicException>(() => HsmKeyService.GenerateKeyPair(session, EcCurve.P256, "label"));

        Assert.Equal([FakeSession.PrivateHandle, FakeSession.PublicHandle], fake.Destroyed);
    }

    [Fact]
    public void A_generated_key_whose_ec_point_is_on_another_curve_is_refused()
    {
        var onP384 = EcCurve.P384.MultiplyGenerator(Org.BouncyCastle.Math.BigInteger.Two).GetEncoded(false);
        var session = FakeSession.Create(f => f.EcPoint = onP384);

        Assert.ThrowsAny<CryptographicException>(() => HsmKeyService.GenerateKeyPair(session, EcCurve.P256, "label"));
    }

    private static IObjectHandle Handle(ulong id) => Factories.ObjectHandleFactory.Create(id);

    /// <summary>An <see cref="ISession"/> that answers the calls the mechanisms make with what the test set.</summary>
    public class FakeSession : DispatchProxy
    {
        public const ulong PublicHandle = 11;
        public const ulong PrivateHandle = 12;
        public const ulong DerivedHandle = 13;

        public byte[]? Signature { get; set; }

        public byte[]? DerivedValue { get; set; }

        public byte[]? CipherOutput { get; set; }

        public byte[]? EcPoint { get; set; }

        public List<ulong> Destroyed { get; } = [];

        public static ISession Create(Action<FakeSession> setUp)
        {
            var session = DispatchProxy.Create<ISession, FakeSession>();
            setUp((FakeSession)(object)session);
            return session;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            switch (targetMethod?.Name)
            {
                case "get_Factories":
                    return Factories;
                case "Sign":
                    return Signature;
                case "Encrypt" or "Decrypt":
                    return CipherOutput;
                case "DeriveKey":
                    return Handle(DerivedHandle);
                case "GenerateKeyPair":
                    args![3] = Handle(PublicHandle);
                    args[4] = Handle(PrivateHandle);
                    return null;
                case "GetAttributeValue":
                    var type = ((List<CKA>)args![1]!)[0];
                    var value = type == CKA.CKA_EC_POINT ? EcPoint : DerivedValue;
                    // No value set: an attribute without a value, as a module that writes none leaves it.
                    return new List<IObjectAttribute> { value is null ? Factories.ObjectAttributeFactory.Create(type) : Factories.ObjectAttributeFactory.Create(type, value) };
                case "SetAttributeValue":
                    return null;
                case "DestroyObject":
                    Destroyed.Add(((IObjectHandle)args![0]!).ObjectId);
                    return null;
                default:
                    throw new NotSupportedException($"The fake session does not do {targetMethod?.Name}.");
            }
        }
    }
}
