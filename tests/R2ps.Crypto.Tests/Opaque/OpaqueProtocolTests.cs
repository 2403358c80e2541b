using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Crypto.Opaque;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Crypto.Tests.Opaque;

/// <summary>R2PS-configured round trips and one regression per known attack on the server's inputs.</summary>
public sealed class OpaqueProtocolTests : IDisposable
{
    // A compressed "point" whose x = 1: x³ - 3x + b is not a square mod p, so no P-256 point has it.
    private const string OffCurvePoint = "020000000000000000000000000000000000000000000000000000000000000001";

    private static readonly byte[] Password = System.Text.Encoding.UTF8.GetBytes("hardened-pin-bytes");
    private static readonly byte[] CredentialId = System.Text.Encoding.UTF8.GetBytes("wallet-hsm-key-1");
    private static readonly byte[] ClientIdentity = System.Text.Encoding.UTF8.GetBytes("a25d8884-c77b-43ab-bf9d-1279c08d860d");
    private static readonly byte[] ServerIdentity = System.Text.Encoding.UTF8.GetBytes("r2ps.local");

    private readonly SoftwareEcKey _serverKey = SoftwareEcKey.Generate(EcCurve.P256);
    private readonly byte[] _oprfSeed = RandomNumberGenerator.GetBytes(32);
    private readonly OpaqueServer _server;
    private readonly OpaqueClient _client = new();

    public OpaqueProtocolTests()
    {
        _server = new OpaqueServer(_serverKey, _oprfSeed, ServerIdentity);
    }

    public void Dispose()
    {
        _server.Dispose();
        _serverKey.Dispose();
    }

    [Fact]
    public void Registration_and_login_with_the_r2ps_context_agree_on_session_and_export_keys()
    {
        var record = Register(Password, out var registrationExportKey);

        using var login = _client.GenerateKE1(Password);
        Assert.Equal(OpaqueSizes.Ke1, login.Ke1.Length);
        using var parsed = RegistrationRecord.Parse(record);
        using var ke2 = _server.GenerateKE2(login.Ke1, CredentialId, parsed, ClientIdentity);
        Assert.Equal(OpaqueSizes.Ke2, ke2.Ke2.Length);
        using var finish = _client.GenerateKE3(login, ke2.Ke2, ServerIdentity, ClientIdentity);
        var serverSessionKey = OpaqueServer.ServerFinish(ke2.State, finish.Ke3);

        Assert.Equal(finish.SessionKey, serverSessionKey);
        Assert.Equal(registrationExportKey, finish.ExportKey);
    }

    [Fact]
    public async Task A_server_key_that_agrees_asynchronously_serves_the_same_login()
    {
        var record = Register(Password, out var registrationExportKey);
        var asyncKey = new AsyncOnlyKey(_serverKey);
        using var server = new OpaqueServer(asyncKey, _oprfSeed, ServerIdentity);

        using var login = _client.GenerateKE1(Password);
        using var parsed = RegistrationRecord.Parse(record);
        using var ke2 = await server.GenerateKE2Async(login.Ke1, CredentialId, parsed, ClientIdentity, TestContext.Current.CancellationToken);
        using var finish = _client.GenerateKE3(login, ke2.Ke2, ServerIdentity, ClientIdentity);

        Assert.Equal(1, asyncKey.AsyncAgreements); // s·X_c, and nothing through the synchronous members
        Assert.Equal(finish.SessionKey, OpaqueServer.ServerFinish(ke2.State, finish.Ke3));
        Assert.Equal(registrationExportKey, finish.ExportKey);
    }

    [Fact]
    public async Task Ke1_with_an_invalid_key_share_is_rejected_before_an_asynchronous_key_agrees()
    {
        var asyncKey = new AsyncOnlyKey(_serverKey);
        using var server = new OpaqueServer(asyncKey, _oprfSeed, ServerIdentity);
        using var login = _client.GenerateKE1(Password);
        var ke1 = (byte[])login.Ke1.Clone();
        Hex.Decode(OffCurvePoint).CopyTo(ke1, OpaqueSizes.Element + OpaqueSizes.Nonce);
        using var record = server.CreateFakeRecord(CredentialId);

        var ex = await Assert.ThrowsAsync<OpaqueException>(() => server.GenerateKE2Async(ke1, CredentialId, record, ClientIdentity, CancellationToken.None));
        Assert.Equal(OpaqueError.InvalidPoint, ex.Reason);
        Assert.Equal(0, asyncKey.AsyncAgreements);
    }

    [Fact]
    public void The_default_context_is_the_r2ps_one() =>
        Assert.Equal("RPS-Ops"u8.ToArray(), new OpaqueOptions().Context);

    [Fact]
    public void A_client_with_another_context_rejects_the_server_mac()
    {
        var record = Register(Password, out _);
        var otherClient = new OpaqueClient(new OpaqueOptions { Context = "OPAQUE-POC"u8.ToArray() });
        using var login = otherClient.GenerateKE1(Password);
        using var parsed = RegistrationRecord.Parse(record);
        using var ke2 = _server.GenerateKE2(login.Ke1, CredentialId, parsed, ClientIdentity);

        var ex = Assert.Throws<OpaqueException>(() => otherClient.GenerateKE3(login, ke2.Ke2, ServerIdentity, ClientIdentity));
        Assert.Equal(OpaqueError.ServerAuthenticationFailed, ex.Reason);
    }

    [Fact]
    public void Ke2_with_a_tampered_server_mac_is_rejected_by_the_client()
    {
        var record = Register(Password, out _);
        using var login = _client.GenerateKE1(Password);
        using var parsed = RegistrationRecord.Parse(record);
        using var ke2 = _server.GenerateKE2(login.Ke1, CredentialId, parsed, ClientIdentity);
        var tampered = (byte[])ke2.Ke2.Clone();
        tampered[^1] ^= 1;

        var ex = Assert.Throws<OpaqueException>(() => _client.GenerateKE3(login, tampered, ServerIdentity, ClientIdentity));
        Assert.Equal(OpaqueError.ServerAuthenticationFailed, ex.Reason);
    }

    [Fact]
    public void Server_uses_its_long_term_key_only_through_DeriveSharedPoint()
    {
        using var hsmLike = new CountingKey(_serverKey);
        using var server = new OpaqueServer(hsmLike, RandomNumberGenerator.GetBytes(32), ServerIdentity);
        using var state = _client.CreateRegistrationRequest(Password);
        using var registration = _client.FinalizeRegistrationRequest(state, server.CreateRegistrationResponse(state.Request, CredentialId), ServerIdentity, ClientIdentity);

        using var login = _client.GenerateKE1(Password);
        using var record = RegistrationRecord.Parse(registration.Record);
        using var ke2 = server.GenerateKE2(login.Ke1, CredentialId, record, ClientIdentity);
        using var finish = _client.GenerateKE3(login, ke2.Ke2, ServerIdentity, ClientIdentity);

        Assert.Equal(finish.SessionKey, OpaqueServer.ServerFinish(ke2.State.Serialize(), finish.Ke3));
        Assert.Equal(1, hsmLike.DeriveSharedPointCalls);
    }

    [Fact]
    public void Wrong_password_fails_on_the_client_when_opening_the_envelope()
    {
        var record = Register(Password, out _);
        using var login = _client.GenerateKE1(System.Text.Encoding.UTF8.GetBytes("wrong"));
        using var parsed = RegistrationRecord.Parse(record);
        using var ke2 = _server.GenerateKE2(login.Ke1, CredentialId, parsed, ClientIdentity);

        var ex = Assert.Throws<OpaqueException>(() => _client.GenerateKE3(login, ke2.Ke2, ServerIdentity, ClientIdentity));
        Assert.Equal(OpaqueError.EnvelopeRecoveryFailed, ex.Reason);
    }

    [Fact]
    public void Unknown_credential_gets_a_well_formed_ke2_that_no_password_opens()
    {
        using var login = _client.GenerateKE1(Password);
        using var ke2 = _server.GenerateKE2(login.Ke1, System.Text.Encoding.UTF8.GetBytes("unknown-kid"), record: null, ClientIdentity);

        Assert.Equal(OpaqueSizes.Ke2, ke2.Ke2.Length);
        var ex = Assert.Throws<OpaqueException>(() => _client.GenerateKE3(login, ke2.Ke2, ServerIdentity, ClientIdentity));
        Assert.Equal(OpaqueError.EnvelopeRecoveryFailed, ex.Reason);
    }

    [Fact]
    public void Fake_records_are_deterministic_per_credential_identifier()
    {
        using var first = _server.CreateFakeRecord("kid-a"u8);
        using var again = _server.CreateFakeRecord("kid-a"u8);
        using var other = _server.CreateFakeRecord("kid-b"u8);

        Assert.Equal(first.ToBytes(), again.ToBytes());
        Assert.NotEqual(first.ClientPublicKey.ToArray(), other.ClientPublicKey.ToArray());
        Assert.NotEqual(first.MaskingKey.ToArray(), other.MaskingKey.ToArray());
        Assert.Equal(new byte[OpaqueSizes.Envelope], first.Envelope.ToArray());
    }

    [Fact]
    public void Ke1_with_an_invalid_point_is_rejected()
    {
        using var login = _client.GenerateKE1(Password);
        var ke1 = (byte[])login.Ke1.Clone();
        Hex.Decode(OffCurvePoint).CopyTo(ke1, OpaqueSizes.Element + OpaqueSizes.Nonce); // client_public_keyshare
        using var record = _server.CreateFakeRecord(CredentialId);

        var ex = Assert.Throws<OpaqueException>(() => _server.GenerateKE2(ke1, CredentialId, record, ClientIdentity));
        Assert.Equal(OpaqueError.InvalidPoint, ex.Reason);
    }

    [Fact]
    public void Ke1_with_blinded_element_equal_to_the_identity_is_rejected()
    {
        using var login = _client.GenerateKE1(Password);
        var ke1 = (byte[])login.Ke1.Clone();
        Array.Clear(ke1, 0, OpaqueSizes.Element); // the all-zero stand-in for the identity
        using var record = _server.CreateFakeRecord(CredentialId);

        var ex = Assert.Throws<OpaqueException>(() => _server.GenerateKE2(ke1, CredentialId, record, ClientIdentity));
        Assert.Equal(OpaqueError.InvalidPoint, ex.Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(97)]
    [InlineData(99)]
    public void Ke1_of_wrong_length_is_rejected(int length)
    {
        using var record = _server.CreateFakeRecord(CredentialId);
        var ex = Assert.Throws<OpaqueException>(() => _server.GenerateKE2(new byte[length], CredentialId, record, ClientIdentity));
        Assert.Equal(OpaqueError.InvalidLength, ex.Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Ke3_of_wrong_length_is_rejected(int length)
    {
        using var login = _client.GenerateKE1(Password);
        using var record = _server.CreateFakeRecord(CredentialId);
        using var ke2 = _server.GenerateKE2(login.Ke1, CredentialId, record, ClientIdentity);

        var ex = Assert.Throws<OpaqueException>(() => OpaqueServer.ServerFinish(ke2.State, new byte[length]));
        Assert.Equal(OpaqueError.InvalidLength, ex.Reason);
    }

    [Fact]
    public void Ke3_with_a_wrong_mac_fails_with_the_one_generic_error()
    {
        var record = Register(Password, out _);
        using var login = _client.GenerateKE1(Password);
        using var parsed = RegistrationRecord.Parse(record);
        using var ke2 = _server.GenerateKE2(login.Ke1, CredentialId, parsed, ClientIdentity);
        using var finish = _client.GenerateKE3(login, ke2.Ke2, ServerIdentity, ClientIdentity);

        // A flip in the first byte, a flip in the last byte and an all-zero MAC: the same reason and message each time.
        var firstFlipped = (byte[])finish.Ke3.Clone();
        firstFlipped[0] ^= 1;
        var lastFlipped = (byte[])finish.Ke3.Clone();
        lastFlipped[^1] ^= 0x80;
        var failures = new[] { firstFlipped, lastFlipped, new byte[OpaqueSizes.Ke3] }
            .Select(ke3 => Assert.Throws<OpaqueException>(() => OpaqueServer.ServerFinish(ke2.State, ke3)))
            .ToList();

        Assert.All(failures, f => Assert.Equal(OpaqueError.ClientAuthenticationFailed, f.Reason));
        Assert.Single(failures.Select(f => f.Message).Distinct());
    }

    [Fact]
    public void Registration_record_with_an_invalid_client_public_key_is_rejected()
    {
        var record = Register(Password, out _);
        Hex.Decode(OffCurvePoint).CopyTo(record, 0);

        var ex = Assert.Throws<OpaqueException>(() => RegistrationRecord.Parse(record));
        Assert.Equal(OpaqueError.InvalidPoint, ex.Reason);
    }

    [Fact]
    public void Registration_request_with_an_invalid_point_is_rejected()
    {
        var ex = Assert.Throws<OpaqueException>(() => _server.CreateRegistrationResponse(Hex.Decode(OffCurvePoint), CredentialId));
        Assert.Equal(OpaqueError.InvalidPoint, ex.Reason);
    }

    [Fact]
    public void Serialized_login_state_of_wrong_length_is_rejected()
    {
        var ex = Assert.Throws<OpaqueException>(() => OpaqueServer.ServerFinish(new byte[ServerLoginState.SerializedSize - 1], new byte[OpaqueSizes.Ke3]));
        Assert.Equal(OpaqueError.InvalidLength, ex.Reason);
    }

    [Fact]
    public void Oprf_seed_of_wrong_length_is_rejected()
    {
        var ex = Assert.Throws<OpaqueException>(() => new OpaqueServer(_serverKey, new byte[31]));
        Assert.Equal(OpaqueError.InvalidLength, ex.Reason);
    }

    private byte[] Register(byte[] password, out byte[] exportKey)
    {
        using var state = _client.CreateRegistrationRequest(password);
        Assert.Equal(OpaqueSizes.RegistrationRequest, state.Request.Length);
        var response = _server.CreateRegistrationResponse(state.Request, CredentialId);
        Assert.Equal(OpaqueSizes.RegistrationResponse, response.Length);
        var result = _client.FinalizeRegistrationRequest(state, response, ServerIdentity, ClientIdentity);
        exportKey = (byte[])result.ExportKey.Clone();
        return (byte[])result.Record.Clone();
    }

    /// <summary>Stands in for an HSM key: only DeriveSharedPoint is allowed.</summary>
    private sealed class CountingKey(SoftwareEcKey inner) : IEcPrivateKey, IDisposable
    {
        public int DeriveSharedPointCalls { get; private set; }

        public EcPublicKey PublicKey => inner.PublicKey;

        public byte[] SignHash(ReadOnlySpan<byte> hash) => throw new InvalidOperationException("OPAQUE must not sign.");

        public byte[] DeriveSharedSecret(EcPublicKey peer) => throw new InvalidOperationException("OPAQUE needs the whole point.");

        public BcPoint DeriveSharedPoint(EcPublicKey peer)
        {
            DeriveSharedPointCalls++;
            return inner.DeriveSharedPoint(peer);
        }

        public void Dispose()
        {
        }
    }
}
