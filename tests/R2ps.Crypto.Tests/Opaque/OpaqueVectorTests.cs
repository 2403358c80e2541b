using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Crypto.Opaque;
using R2ps.Testing;

namespace R2ps.Crypto.Tests.Opaque;

public class OpaqueVectorTests
{
    // RFC 9807 App. C: config.Context = ASCII "OPAQUE-POC", KSF = Identity (our default Stretch).
    private const string Context = "4f50415155452d504f43";

    // RFC 9807 Appendix C.1.5: OPAQUE-3DH Real Test Vector 5 (P256-SHA256, no identities)
    private static readonly AppendixCVector RealVector5 = new()
    {
        Name = "C.1.5",
        OprfSeed = "62f60b286d20ce4fd1d64809b0021dad6ed5d52a2c8cf27ae6582543a0a8dce2",
        CredentialIdentifier = "31323334",
        Password = "436f7272656374486f72736542617474657279537461706c65",
        ServerPrivateKey = "c36139381df63bfc91c850db0b9cfbec7a62e86d80040a41aa7725bf0e79d5e5",
        ServerPublicKey = "035f40ff9cf88aa1f5cd4fe5fd3da9ea65a4923a5594f84fd9f2092d6067784874",
        BlindRegistration = "411bf1a62d119afe30df682b91a0a33d777972d4f2daa4b34ca527d597078153",
        EnvelopeNonce = "a921f2a014513bd8a90e477a629794e89fec12d12206dde662ebdcf65670e51f",
        BlindLogin = "c497fddf6056d241e6cf9fb7ac37c384f49b357a221eb0a802c989b9942256c1",
        ClientNonce = "ab3d33bde0e93eda72392346a7a73051110674bbf6b1b7ffab8be4f91fdaeeb1",
        ClientKeyshareSeed = "633b875d74d1556d2a2789309972b06db21dfcc4f5ad51d7e74d783b7cfab8dc",
        MaskingNonce = "38fe59af0df2c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6d",
        ServerNonce = "71cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a1",
        ServerKeyshareSeed = "05a4f54206eef1ba2f615bc0aa285cb22f26d1153b5b40a1e85ff80da12f982f",
        OprfKey = "2dfb5cb9aa1476093be74ca0d43e5b02862a05f5d6972614d7433acdc66f7f31",
        RandomizedPassword = "06be0a1a51d56557a3adad57ba29c5510565dcd8b5078fa319151b9382258fb0",
        MaskingKey = "7f0ed53532d3ae8e505ecc70d42d2b814b6b0e48156def71ea029148b2803aaf",
        AuthKey = "5bd4be1602516092dc5078f8d699f5721dc1720a49fb80d8e5c16377abd0987b",
        ClientPublicKey = "03b218507d978c3db570ca994aaf36695a731ddb2db272c817f79746fc37ae5214",
        Envelope = "a921f2a014513bd8a90e477a629794e89fec12d12206dde662ebdcf65670e51fad30bbcfc1f8eda0211553ab9aaf26345ad59a128e80188f035fe4924fad67b8",
        HandshakeSecret = "83a932431a8f25bad042f008efa2b07c6cd0faa8285f335b6363546a9f9b235f",
        ServerMacKey = "13e928581febfad28855e3e7f03306d61bd69489686f621535d44a1365b73b0d",
        ClientMacKey = "afdc53910c25183b08b930e6953c35b3466276736d9de2e9c5efaf150f4082c5",
        RegistrationRequest = "029e949a29cfa0bf7c1287333d2fb3dc586c41aa652f5070d26a5315a1b50229f8",
        RegistrationResponse = "0350d3694c00978f00a5ce7cd08a00547e4ab5fb5fc2b2f6717cdaa6c89136efef035f40ff9cf88aa1f5cd4fe5fd3da9ea65a4923a5594f84fd9f2092d6067784874",
        RegistrationUpload = "03b218507d978c3db570ca994aaf36695a731ddb2db272c817f79746fc37ae52147f0ed53532d3ae8e505ecc70d42d2b814b6b0e48156def71ea029148b2803aafa921f2a014513bd8a90e477a629794e89fec12d12206dde662ebdcf65670e51fad30bbcfc1f8eda0211553ab9aaf26345ad59a128e80188f035fe4924fad67b8",
        Ke1 = "037342f0bcb3ecea754c1e67576c86aa90c1de3875f390ad599a26686cdfee6e07ab3d33bde0e93eda72392346a7a73051110674bbf6b1b7ffab8be4f91fdaeeb1022ed3f32f318f81bab80da321fecab3cd9b6eea11a95666dfa6beeaab321280b6",
        Ke2 = "0246da9fe4d41d5ba69faa6c509a1d5bafd49a48615a47a8dd4b0823cc1476481138fe59af0df2c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6d2f0c547f70deaeca54d878c14c1aa5e1ab405dec833777132eea905c2fbb12504a67dcbe0e66740c76b62c13b04a38a77926e19072953319ec65e41f9bfd2ae26837b6ce688bf9af2542f04eec9ab96a1b9328812dc2f5c89182ed47fead61f09f71cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a103c1701353219b53acf337bf6456a83cefed8f563f1040b65afbf3b65d3bc9a19b50a73b145bc87a157e8c58c0342e2047ee22ae37b63db17e0a82a30fcc4ecf7b",
        Ke3 = "e97cab4433aa39d598e76f13e768bba61c682947bdcf9936035e8a3a3ebfb66e",
        ExportKey = "c3c9a1b0e33ac84dd83d0b7e8af6794e17e7a3caadff289fbd9dc769a853c64b",
        SessionKey = "484ad345715ccce138ca49e4ea362c6183f0949aaaa1125dc3bc3f80876e7cd1",
    };

    // RFC 9807 Appendix C.1.6: OPAQUE-3DH Real Test Vector 6 (P256-SHA256, client_identity="alice", server_identity="bob")
    private static readonly AppendixCVector RealVector6 = new()
    {
        Name = "C.1.6",
        OprfSeed = "62f60b286d20ce4fd1d64809b0021dad6ed5d52a2c8cf27ae6582543a0a8dce2",
        CredentialIdentifier = "31323334",
        Password = "436f7272656374486f72736542617474657279537461706c65",
        ServerPrivateKey = "c36139381df63bfc91c850db0b9cfbec7a62e86d80040a41aa7725bf0e79d5e5",
        ServerPublicKey = "035f40ff9cf88aa1f5cd4fe5fd3da9ea65a4923a5594f84fd9f2092d6067784874",
        ClientIdentity = "616c696365",
        ServerIdentity = "626f62",
        BlindRegistration = "411bf1a62d119afe30df682b91a0a33d777972d4f2daa4b34ca527d597078153",
        EnvelopeNonce = "a921f2a014513bd8a90e477a629794e89fec12d12206dde662ebdcf65670e51f",
        BlindLogin = "c497fddf6056d241e6cf9fb7ac37c384f49b357a221eb0a802c989b9942256c1",
        ClientNonce = "ab3d33bde0e93eda72392346a7a73051110674bbf6b1b7ffab8be4f91fdaeeb1",
        ClientKeyshareSeed = "633b875d74d1556d2a2789309972b06db21dfcc4f5ad51d7e74d783b7cfab8dc",
        MaskingNonce = "38fe59af0df2c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6d",
        ServerNonce = "71cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a1",
        ServerKeyshareSeed = "05a4f54206eef1ba2f615bc0aa285cb22f26d1153b5b40a1e85ff80da12f982f",
        OprfKey = "2dfb5cb9aa1476093be74ca0d43e5b02862a05f5d6972614d7433acdc66f7f31",
        RandomizedPassword = "06be0a1a51d56557a3adad57ba29c5510565dcd8b5078fa319151b9382258fb0",
        MaskingKey = "7f0ed53532d3ae8e505ecc70d42d2b814b6b0e48156def71ea029148b2803aaf",
        AuthKey = "5bd4be1602516092dc5078f8d699f5721dc1720a49fb80d8e5c16377abd0987b",
        ClientPublicKey = "03b218507d978c3db570ca994aaf36695a731ddb2db272c817f79746fc37ae5214",
        Envelope = "a921f2a014513bd8a90e477a629794e89fec12d12206dde662ebdcf65670e51f4d7773a36a208a866301dbb2858e40dc5638017527cf91aef32d3848eebe0971",
        HandshakeSecret = "80bdcc498f22de492e90ee8101fcc7c101e158dd49c77f7c283816ae329ed62f",
        ServerMacKey = "0f82432fbdb5b90daf27a91a3acc42299a9590dba1b77932c2207b4cb3d4a157",
        ClientMacKey = "7f629eb0b1b69979b07ca1f564b3e92ed22f07569fd1d11725d93e46731fbe71",
        RegistrationRequest = "029e949a29cfa0bf7c1287333d2fb3dc586c41aa652f5070d26a5315a1b50229f8",
        RegistrationResponse = "0350d3694c00978f00a5ce7cd08a00547e4ab5fb5fc2b2f6717cdaa6c89136efef035f40ff9cf88aa1f5cd4fe5fd3da9ea65a4923a5594f84fd9f2092d6067784874",
        RegistrationUpload = "03b218507d978c3db570ca994aaf36695a731ddb2db272c817f79746fc37ae52147f0ed53532d3ae8e505ecc70d42d2b814b6b0e48156def71ea029148b2803aafa921f2a014513bd8a90e477a629794e89fec12d12206dde662ebdcf65670e51f4d7773a36a208a866301dbb2858e40dc5638017527cf91aef32d3848eebe0971",
        Ke1 = "037342f0bcb3ecea754c1e67576c86aa90c1de3875f390ad599a26686cdfee6e07ab3d33bde0e93eda72392346a7a73051110674bbf6b1b7ffab8be4f91fdaeeb1022ed3f32f318f81bab80da321fecab3cd9b6eea11a95666dfa6beeaab321280b6",
        Ke2 = "0246da9fe4d41d5ba69faa6c509a1d5bafd49a48615a47a8dd4b0823cc1476481138fe59af0df2c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6d2f0c547f70deaeca54d878c14c1aa5e1ab405dec833777132eea905c2fbb12504a67dcbe0e66740c76b62c13b04a38a77926e19072953319ec65e41f9bfd2ae268d7f106042021c80300e4c6f585980cf39fc51a4a6bba41b0729f9b240c729e5671cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a103c1701353219b53acf337bf6456a83cefed8f563f1040b65afbf3b65d3bc9a19b84922c7e5d074838a8f278592c53f61fb59f031e85ad480c0c71086b871e1b24",
        Ke3 = "46833578cee137775f6be3f01b80748daac5a694101ad0e9e7025480552da56a",
        ExportKey = "c3c9a1b0e33ac84dd83d0b7e8af6794e17e7a3caadff289fbd9dc769a853c64b",
        SessionKey = "27766fabd8dd88ff37fbd0ef1a491e601d10d9f016c2b28c4bd1b0fb7511a3c3",
    };

    public static TheoryData<string> RealVectors => new() { "C.1.5", "C.1.6" };

    [Theory]
    [MemberData(nameof(RealVectors))]
    public void Rfc9807_real_vector_registration_reproduces_every_intermediate(string which)
    {
        var v = Select(which);
        var clientTrace = new RecordingTrace();
        var client = new OpaqueClient(Options(clientTrace, new FixedOpaqueRandom()
            .With(OpaqueRandomPurpose.Blind, v.BlindRegistration)
            .With(OpaqueRandomPurpose.EnvelopeNonce, v.EnvelopeNonce)));
        var serverTrace = new RecordingTrace();
        using var serverKey = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Hex.Decode(v.ServerPrivateKey));
        using var server = new OpaqueServer(serverKey, Hex.Decode(v.OprfSeed), Identity(v.ServerIdentity), Options(serverTrace, new FixedOpaqueRandom()));
        Assert.Equal(v.ServerPublicKey, Hex.Encode(server.ServerPublicKey));

        using var state = client.CreateRegistrationRequest(Hex.Decode(v.Password));
        Assert.Equal(v.RegistrationRequest, Hex.Encode(state.Request));

        var response = server.CreateRegistrationResponse(state.Request, Hex.Decode(v.CredentialIdentifier));
        Assert.Equal(v.RegistrationResponse, Hex.Encode(response));
        Assert.Equal(v.OprfKey, serverTrace.Values["oprf_key"]);

        using var result = client.FinalizeRegistrationRequest(state, response, Identity(v.ServerIdentity), Identity(v.ClientIdentity));
        Assert.Equal(v.RegistrationUpload, Hex.Encode(result.Record));
        Assert.Equal(v.ExportKey, Hex.Encode(result.ExportKey));
        Assert.Equal(v.RandomizedPassword, clientTrace.Values["randomized_password"]);
        Assert.Equal(v.MaskingKey, clientTrace.Values["masking_key"]);
        Assert.Equal(v.AuthKey, clientTrace.Values["auth_key"]);
        Assert.Equal(v.ClientPublicKey, clientTrace.Values["client_public_key"]);
        Assert.Equal(v.Envelope, clientTrace.Values["envelope"]);
        Assert.Equal(v.ExportKey, clientTrace.Values["export_key"]);

        using var record = RegistrationRecord.Parse(result.Record);
        Assert.Equal(v.ClientPublicKey, Hex.Encode(record.ClientPublicKey));
        Assert.Equal(v.MaskingKey, Hex.Encode(record.MaskingKey));
        Assert.Equal(v.Envelope, Hex.Encode(record.Envelope));
    }

    [Theory]
    [MemberData(nameof(RealVectors))]
    public void Rfc9807_real_vector_login_reproduces_every_intermediate_and_output(string which)
    {
        var v = Select(which);
        var clientTrace = new RecordingTrace();
        var client = new OpaqueClient(Options(clientTrace, new FixedOpaqueRandom()
            .With(OpaqueRandomPurpose.Blind, v.BlindLogin)
            .With(OpaqueRandomPurpose.ClientNonce, v.ClientNonce)
            .With(OpaqueRandomPurpose.ClientKeyshareSeed, v.ClientKeyshareSeed)));
        var serverTrace = new RecordingTrace();
        using var serverKey = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Hex.Decode(v.ServerPrivateKey));
        using var server = new OpaqueServer(serverKey, Hex.Decode(v.OprfSeed), Identity(v.ServerIdentity), Options(serverTrace, new FixedOpaqueRandom()
            .With(OpaqueRandomPurpose.MaskingNonce, v.MaskingNonce)
            .With(OpaqueRandomPurpose.ServerNonce, v.ServerNonce)
            .With(OpaqueRandomPurpose.ServerKeyshareSeed, v.ServerKeyshareSeed)));

        using var login = client.GenerateKE1(Hex.Decode(v.Password));
        Assert.Equal(v.Ke1, Hex.Encode(login.Ke1));

        using var record = RegistrationRecord.Parse(Hex.Decode(v.RegistrationUpload));
        using var ke2 = server.GenerateKE2(login.Ke1, Hex.Decode(v.CredentialIdentifier), record, Identity(v.ClientIdentity));
        Assert.Equal(v.Ke2, Hex.Encode(ke2.Ke2));
        Assert.Equal(v.OprfKey, serverTrace.Values["oprf_key"]);
        Assert.Equal(v.HandshakeSecret, serverTrace.Values["handshake_secret"]);
        Assert.Equal(v.ServerMacKey, serverTrace.Values["server_mac_key"]);
        Assert.Equal(v.ClientMacKey, serverTrace.Values["client_mac_key"]);

        using var finish = client.GenerateKE3(login, ke2.Ke2, Identity(v.ServerIdentity), Identity(v.ClientIdentity));
        Assert.Equal(v.Ke3, Hex.Encode(finish.Ke3));
        Assert.Equal(v.SessionKey, Hex.Encode(finish.SessionKey));
        Assert.Equal(v.ExportKey, Hex.Encode(finish.ExportKey));
        Assert.Equal(v.RandomizedPassword, clientTrace.Values["randomized_password"]);
        Assert.Equal(v.MaskingKey, clientTrace.Values["masking_key"]);
        Assert.Equal(v.AuthKey, clientTrace.Values["auth_key"]);
        Assert.Equal(v.ClientPublicKey, clientTrace.Values["client_public_key"]);
        Assert.Equal(v.HandshakeSecret, clientTrace.Values["handshake_secret"]);
        Assert.Equal(v.ServerMacKey, clientTrace.Values["server_mac_key"]);
        Assert.Equal(v.ClientMacKey, clientTrace.Values["client_mac_key"]);

        // The state crosses a (sealed) store as bytes.
        var stored = ke2.State.Serialize();
        Assert.Equal(ServerLoginState.SerializedSize, stored.Length);
        Assert.Equal(v.SessionKey, Hex.Encode(OpaqueServer.ServerFinish(stored, finish.Ke3)));
    }

    [Fact]
    public void Rfc9807_C23_fake_vector_reproduces_ke2()
    {
        // RFC 9807 App. C.2.3: Fake Test Vector 3 (P256-SHA256, client_identity "alice", server_identity "bob")
        const string oprfSeed = "bb1cd59e16ac09bc0cb6d528541695d7eba2239b1613a3db3ade77b36280f725";
        const string serverPrivateKey = "34fbe7e830be1fe8d2187c97414e3826040cbe49b893b64229bab5e85a5888c7";
        const string serverPublicKey = "0221e034c0e202fe883dcfc96802a7624166fed4cfcab4ae30cf5f3290d01c88bf";
        const string clientPublicKey = "03b81708eae026a9370616c22e1e8542fe9dbebd36ce8a2661b708e9628f4a57fc";
        const string maskingKey = "caecc6ccb4cae27cb54d8f3a1af1bac52a3d53107ce08497cdd362b1992e4e5e";
        const string credentialIdentifier = "31323334";
        const string ke1 = "0396875da2b4f7749bba411513aea02dc514a48d169d8a9531bd61d3af3fa9baae42d4e61ed3f8d64cdd3b9d153343eca15b9b0d5e388232793c6376bd2d9cfd0a02147a6583983cc9973b5082db5f5070890cb373d70f7ac1b41ed2305361009784";
        const string expectedKe2 = "0201198dcd13f9792eb75dcfa815f61b049abfe2e3e9456d4bbbceec5f442efd049c035896a043e70f897d87180c543e7a063b83c1bb728fbd189c619e27b6e5a6facda65ce0a97b9085e7af07f61fd3fdd046d257cbf2183ce8766090b8041a8bf28d79dd4c9031ddc75bb6ddb4c291e639937840e3d39fc0d5a3d6e7723c09f7945df485bcf9aefe3fe82d149e84049e259bb5b33d6a2ff3b25e4bfb7eff0962821e10f6eeab2a7a420bf09da9b27a4639645622c46358de9cf7ae813055ae2d12023f82bbb24e75b8683fd13b843cd566efae996cd0016cffdcc24ee2bc937d026f80144878749a69565b433c1040aff67e94f79345de888a877422b9bbe21ec329";

        using var serverKey = SoftwareEcKey.FromPrivateScalar(EcCurve.P256, Hex.Decode(serverPrivateKey));
        using var server = new OpaqueServer(serverKey, Hex.Decode(oprfSeed), Hex.Decode("626f62"), Options(null, new FixedOpaqueRandom()
            .With(OpaqueRandomPurpose.MaskingNonce, "9c035896a043e70f897d87180c543e7a063b83c1bb728fbd189c619e27b6e5a6")
            .With(OpaqueRandomPurpose.ServerNonce, "1e10f6eeab2a7a420bf09da9b27a4639645622c46358de9cf7ae813055ae2d12")
            .With(OpaqueRandomPurpose.ServerKeyshareSeed, "360b0937f47d45f6123a4d8f0d0c0814b6120d840ebb8bc5b4f6b62df07f78c2")));
        Assert.Equal(serverPublicKey, Hex.Encode(server.ServerPublicKey));

        using var fake = RegistrationRecord.CreateFake(Hex.Decode(clientPublicKey), Hex.Decode(maskingKey));
        using var result = server.GenerateKE2(Hex.Decode(ke1), Hex.Decode(credentialIdentifier), fake, Hex.Decode("616c696365"));
        Assert.Equal(expectedKe2, Hex.Encode(result.Ke2));
    }

    [Fact]
    public void Every_vector_of_the_shared_file_is_the_one_carried_here()
    {
        using var json = SharedFiles.ReadJson("vectors/opaque_rfc9807_p256_sha256.json");
        var vectors = json.RootElement.GetProperty("vectors");
        Assert.Equal(3, vectors.GetArrayLength());
        foreach (var (index, carried) in new[] { (0, RealVector5), (1, RealVector6) })
        {
            var file = vectors[index];
            Assert.Equal("Appendix " + carried.Name, file.GetProperty("rfc9807_section").GetString());
            Assert.Equal(Context, file.GetProperty("config").GetProperty("Context").GetString());
            foreach (var group in new[] { "inputs", "intermediates", "outputs" })
            {
                foreach (var field in file.GetProperty(group).EnumerateObject())
                    Assert.Equal(field.Value.GetString(), carried.Field(field.Name));
            }
        }
        Assert.Equal("Appendix C.2.3", vectors[2].GetProperty("rfc9807_section").GetString());
    }

    private static AppendixCVector Select(string which) => which == "C.1.5" ? RealVector5 : RealVector6;

    private static byte[]? Identity(string? hex) => hex is null ? null : Hex.Decode(hex);

    private static OpaqueOptions Options(RecordingTrace? trace, FixedOpaqueRandom random) => new()
    {
        Context = Hex.Decode(Context),
        Random = random,
        Trace = trace,
    };

    private sealed class AppendixCVector
    {
        public required string Name { get; init; }
        public required string OprfSeed { get; init; }
        public required string CredentialIdentifier { get; init; }
        public required string Password { get; init; }
        public required string ServerPrivateKey { get; init; }
        public required string ServerPublicKey { get; init; }
        public string? ClientIdentity { get; init; }
        public string? ServerIdentity { get; init; }
        public required string BlindRegistration { get; init; }
        public required string EnvelopeNonce { get; init; }
        public required string BlindLogin { get; init; }
        public required string ClientNonce { get; init; }
        public required string ClientKeyshareSeed { get; init; }
        public required string MaskingNonce { get; init; }
        public required string ServerNonce { get; init; }
        public required string ServerKeyshareSeed { get; init; }
        public required string OprfKey { get; init; }
        public required string RandomizedPassword { get; init; }
        public required string MaskingKey { get; init; }
        public required string AuthKey { get; init; }
        public required string ClientPublicKey { get; init; }
        public required string Envelope { get; init; }
        public required string HandshakeSecret { get; init; }
        public required string ServerMacKey { get; init; }
        public required string ClientMacKey { get; init; }
        public required string RegistrationRequest { get; init; }
        public required string RegistrationResponse { get; init; }
        public required string RegistrationUpload { get; init; }
        public required string Ke1 { get; init; }
        public required string Ke2 { get; init; }
        public required string Ke3 { get; init; }
        public required string ExportKey { get; init; }
        public required string SessionKey { get; init; }

        /// <summary>A carried value by its App. C (JSON) name.</summary>
        public string? Field(string name) => name switch
        {
            "oprf_seed" => OprfSeed,
            "credential_identifier" => CredentialIdentifier,
            "password" => Password,
            "server_private_key" => ServerPrivateKey,
            "server_public_key" => ServerPublicKey,
            "client_identity" => ClientIdentity,
            "server_identity" => ServerIdentity,
            "blind_registration" => BlindRegistration,
            "envelope_nonce" => EnvelopeNonce,
            "blind_login" => BlindLogin,
            "client_nonce" => ClientNonce,
            "client_keyshare_seed" => ClientKeyshareSeed,
            "masking_nonce" => MaskingNonce,
            "server_nonce" => ServerNonce,
            "server_keyshare_seed" => ServerKeyshareSeed,
            "oprf_key" => OprfKey,
            "randomized_password" => RandomizedPassword,
            "masking_key" => MaskingKey,
            "auth_key" => AuthKey,
            "client_public_key" => ClientPublicKey,
            "envelope" => Envelope,
            "handshake_secret" => HandshakeSecret,
            "server_mac_key" => ServerMacKey,
            "client_mac_key" => ClientMacKey,
            "registration_request" => RegistrationRequest,
            "registration_response" => RegistrationResponse,
            "registration_upload" => RegistrationUpload,
            "KE1" => Ke1,
            "KE2" => Ke2,
            "KE3" => Ke3,
            "export_key" => ExportKey,
            "session_key" => SessionKey,
            _ => throw new InvalidOperationException($"Unexpected App. C field {name}."),
        };
    }
}
