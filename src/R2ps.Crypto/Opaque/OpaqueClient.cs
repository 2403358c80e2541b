using System.Security.Cryptography;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace R2ps.Crypto.Opaque;

/// <summary>Client state between CreateRegistrationRequest and FinalizeRegistrationRequest. Zeroed on dispose.</summary>
public sealed class ClientRegistrationState : IDisposable
{
    internal ClientRegistrationState(byte[] password, byte[] blind, byte[] request)
    {
        Password = password;
        Blind = blind;
        Request = request;
    }

    /// <summary>RegistrationRequest = blinded_message (33 bytes), to send to the server.</summary>
    public byte[] Request { get; }

    internal byte[] Password { get; }

    internal byte[] Blind { get; }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(Password);
        CryptographicOperations.ZeroMemory(Blind);
    }
}

/// <summary>The outcome of registration on the client: the record to upload and the export key.</summary>
public sealed class ClientRegistrationResult : IDisposable
{
    internal ClientRegistrationResult(byte[] record, byte[] exportKey)
    {
        Record = record;
        ExportKey = exportKey;
    }

    /// <summary>RegistrationRecord (129 bytes) for the server.</summary>
    public byte[] Record { get; }

    /// <summary>export_key (secret, 32 bytes).</summary>
    public byte[] ExportKey { get; }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(Record);
        CryptographicOperations.ZeroMemory(ExportKey);
    }
}

/// <summary>Client state between GenerateKE1 and GenerateKE3. Zeroed on dispose.</summary>
public sealed class ClientLoginState : IDisposable
{
    internal ClientLoginState(byte[] password, byte[] blind, byte[] clientSecret, byte[] ke1)
    {
        Password = password;
        Blind = blind;
        ClientSecret = clientSecret;
        Ke1 = ke1;
    }

    /// <summary>KE1 (98 bytes), to send to the server.</summary>
    public byte[] Ke1 { get; }

    internal byte[] Password { get; }

    internal byte[] Blind { get; }

    internal byte[] ClientSecret { get; }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(Password);
        CryptographicOperations.ZeroMemory(Blind);
        CryptographicOperations.ZeroMemory(ClientSecret);
    }
}

/// <summary>The outcome of a client login: KE3 for the server, and the session and export keys.</summary>
public sealed class ClientLoginResult : IDisposable
{
    internal ClientLoginResult(byte[] ke3, byte[] sessionKey, byte[] exportKey)
    {
        Ke3 = ke3;
        SessionKey = sessionKey;
        ExportKey = exportKey;
    }

    /// <summary>KE3 = client_mac (32 bytes).</summary>
    public byte[] Ke3 { get; }

    public byte[] SessionKey { get; }

    public byte[] ExportKey { get; }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(SessionKey);
        CryptographicOperations.ZeroMemory(ExportKey);
    }
}

/// <summary>
/// The RFC 9807 OPAQUE-3DH client, suite P256-SHA256: registration (§5.2) and login (§6.2). The R2PS service uses it in
/// tests and tools; the wallet is the real client.
/// </summary>
public sealed class OpaqueClient
{
    private readonly OpaqueOptions _options;
    private readonly byte[] _preamblePrefix;

    public OpaqueClient(OpaqueOptions? options = null)
    {
        _options = options ?? new OpaqueOptions();
        _preamblePrefix = OpaqueCore.PreamblePrefix(_options.Context);
    }

    /// <summary>RFC 9807 §5.2.1 CreateRegistrationRequest.</summary>
    public ClientRegistrationState CreateRegistrationRequest(ReadOnlySpan<byte> password)
    {
        var blind = P256Sha256Oprf.RandomScalar(_options.Random);
        var request = P256Sha256Oprf.BlindWith(password, blind);
        return new ClientRegistrationState(password.ToArray(), P256Group.SerializeScalar(blind), request);
    }

    /// <summary>RFC 9807 §5.2.3 FinalizeRegistrationRequest: the record to upload and the export key.</summary>
    /// <param name="state">From <see cref="CreateRegistrationRequest"/>.</param>
    /// <param name="registrationResponse">evaluated_message ‖ server_public_key (66 bytes).</param>
    /// <param name="serverIdentity">null = the server public key.</param>
    /// <param name="clientIdentity">null = the client public key.</param>
    public ClientRegistrationResult FinalizeRegistrationRequest(ClientRegistrationState state, ReadOnlySpan<byte> registrationResponse,
        byte[]? serverIdentity = null, byte[]? clientIdentity = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (registrationResponse.Length != OpaqueSizes.RegistrationResponse)
            throw new OpaqueException(OpaqueError.InvalidLength, $"A registration response is {OpaqueSizes.RegistrationResponse} bytes.");
        OpaqueCore.CheckIdentity(serverIdentity, "The server identity");
        OpaqueCore.CheckIdentity(clientIdentity, "The client identity");
        var serverPublicKey = registrationResponse[OpaqueSizes.Element..];
        P256Group.DeserializeElement(serverPublicKey, "Server public key");

        var oprfOutput = P256Sha256Oprf.Finalize(state.Password, state.Blind, registrationResponse[..OpaqueSizes.Element]);
        var randomizedPassword = OpaqueCore.RandomizePassword(oprfOutput, _options);
        CryptographicOperations.ZeroMemory(oprfOutput);

        // Store (§4.1.2)
        var envelopeNonce = new byte[OpaqueSizes.Nonce];
        _options.Random.Fill(OpaqueRandomPurpose.EnvelopeNonce, envelopeNonce);
        var maskingKey = OpaqueCore.Expand(randomizedPassword, OpaqueCore.MaskingKeyLabel, OpaqueSizes.Hash);
        using var envelope = OpenEnvelopeKeys(randomizedPassword, envelopeNonce);
        CryptographicOperations.ZeroMemory(randomizedPassword);
        var clientPublicKey = P256Group.SerializeElement(P256Group.MultiplyGenerator(envelope.ClientPrivateKey));
        var credentials = OpaqueCore.CleartextCredentials(serverPublicKey, serverIdentity ?? serverPublicKey.ToArray(), clientIdentity ?? clientPublicKey);
        var authTag = OpaqueCore.Mac(envelope.AuthKey, [.. envelopeNonce, .. credentials]);

        byte[] record = [.. clientPublicKey, .. maskingKey, .. envelopeNonce, .. authTag];
        if (_options.Trace is not null)
        {
            OpaqueCore.Trace(_options, "masking_key", maskingKey);
            OpaqueCore.Trace(_options, "client_public_key", clientPublicKey);
            OpaqueCore.Trace(_options, "envelope", [.. envelopeNonce, .. authTag]);
        }
        CryptographicOperations.ZeroMemory(maskingKey);
        return new ClientRegistrationResult(record, envelope.TakeExportKey());
    }

    /// <summary>RFC 9807 §6.2.1 GenerateKE1.</summary>
    public ClientLoginState GenerateKE1(ReadOnlySpan<byte> password)
    {
        var blind = P256Sha256Oprf.RandomScalar(_options.Random);
        var blindedMessage = P256Sha256Oprf.BlindWith(password, blind);
        var clientNonce = new byte[OpaqueSizes.Nonce];
        _options.Random.Fill(OpaqueRandomPurpose.ClientNonce, clientNonce);
        var keyshareSeed = new byte[OpaqueSizes.Seed];
        _options.Random.Fill(OpaqueRandomPurpose.ClientKeyshareSeed, keyshareSeed);
        var clientSecret = OpaqueCore.DeriveDiffieHellmanPrivateKey(keyshareSeed);
        CryptographicOperations.ZeroMemory(keyshareSeed);
        var clientKeyshare = P256Group.SerializeElement(P256Group.MultiplyGenerator(clientSecret));
        byte[] ke1 = [.. blindedMessage, .. clientNonce, .. clientKeyshare];
        return new ClientLoginState(password.ToArray(), P256Group.SerializeScalar(blind), P256Group.SerializeScalar(clientSecret), ke1);
    }

    /// <summary>RFC 9807 §6.2.3 GenerateKE3: opens the envelope, checks the server MAC, returns KE3 and the keys.</summary>
    /// <param name="state">From <see cref="GenerateKE1"/>.</param>
    /// <param name="ke2">KE2 (259 bytes), strictly parsed.</param>
    /// <param name="serverIdentity">null = the server public key.</param>
    /// <param name="clientIdentity">null = the client public key.</param>
    public ClientLoginResult GenerateKE3(ClientLoginState state, ReadOnlySpan<byte> ke2, byte[]? serverIdentity = null, byte[]? clientIdentity = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (ke2.Length != OpaqueSizes.Ke2)
            throw new OpaqueException(OpaqueError.InvalidLength, $"KE2 is {OpaqueSizes.Ke2} bytes.");
        OpaqueCore.CheckIdentity(serverIdentity, "The server identity");
        OpaqueCore.CheckIdentity(clientIdentity, "The client identity");
        var evaluatedMessage = ke2[..OpaqueSizes.Element];
        var maskingNonce = ke2.Slice(OpaqueSizes.Element, OpaqueSizes.Nonce);
        var maskedResponse = ke2.Slice(OpaqueSizes.Element + OpaqueSizes.Nonce, OpaqueSizes.MaskedResponse);
        var serverKeyshare = P256Group.DeserializeElement(ke2.Slice(OpaqueSizes.CredentialResponse + OpaqueSizes.Nonce, OpaqueSizes.PublicKey), "Server key share");
        var macOffset = OpaqueSizes.Ke2 - OpaqueSizes.Hash;
        var serverMac = ke2[macOffset..];

        // RecoverCredentials (§6.3.2.2)
        var oprfOutput = P256Sha256Oprf.Finalize(state.Password, state.Blind, evaluatedMessage);
        var randomizedPassword = OpaqueCore.RandomizePassword(oprfOutput, _options);
        CryptographicOperations.ZeroMemory(oprfOutput);
        var maskingKey = OpaqueCore.Expand(randomizedPassword, OpaqueCore.MaskingKeyLabel, OpaqueSizes.Hash);
        OpaqueCore.Trace(_options, "masking_key", maskingKey);
        var pad = OpaqueCore.Expand(maskingKey, maskingNonce, OpaqueCore.CredentialResponsePadLabel, OpaqueSizes.MaskedResponse);
        CryptographicOperations.ZeroMemory(maskingKey);
        var unmasked = new byte[OpaqueSizes.MaskedResponse];
        OpaqueCore.Xor(pad, maskedResponse, unmasked);
        CryptographicOperations.ZeroMemory(pad);
        var serverPublicKey = unmasked.AsSpan(0, OpaqueSizes.PublicKey);
        var envelopeNonce = unmasked.AsSpan(OpaqueSizes.PublicKey, OpaqueSizes.Nonce);
        var authTag = unmasked.AsSpan(OpaqueSizes.PublicKey + OpaqueSizes.Nonce, OpaqueSizes.Hash);

        // Recover (§4.1.3): the MAC covers the unmasked server key bytes, so a wrong password fails here, before decoding.
        using var envelope = OpenEnvelopeKeys(randomizedPassword, envelopeNonce);
        CryptographicOperations.ZeroMemory(randomizedPassword);
        var clientPublicKey = P256Group.SerializeElement(P256Group.MultiplyGenerator(envelope.ClientPrivateKey));
        OpaqueCore.Trace(_options, "client_public_key", clientPublicKey);
        var resolvedServerIdentity = serverIdentity ?? serverPublicKey.ToArray();
        var resolvedClientIdentity = clientIdentity ?? clientPublicKey;
        var credentials = OpaqueCore.CleartextCredentials(serverPublicKey, resolvedServerIdentity, resolvedClientIdentity);
        var expectedTag = OpaqueCore.Mac(envelope.AuthKey, [.. envelopeNonce, .. credentials]);
        if (!CryptographicOperations.FixedTimeEquals(expectedTag, authTag))
            throw new OpaqueException(OpaqueError.EnvelopeRecoveryFailed, "The envelope could not be opened.");
        var serverPublicPoint = P256Group.DeserializeElement(serverPublicKey, "Server public key");

        // AuthClientFinalize (§6.4.4): dh1 = e_c·X_s, dh2 = e_c·P_s, dh3 = s_c·X_s
        var clientSecret = P256Group.DeserializeScalar(state.ClientSecret, "Client key share secret");
        var ikm = new byte[3 * OpaqueSizes.Element];
        P256Group.SerializeElement(P256Group.Multiply(serverKeyshare, clientSecret), ikm.AsSpan(0, OpaqueSizes.Element));
        P256Group.SerializeElement(P256Group.Multiply(serverPublicPoint, clientSecret), ikm.AsSpan(OpaqueSizes.Element, OpaqueSizes.Element));
        P256Group.SerializeElement(P256Group.Multiply(serverKeyshare, envelope.ClientPrivateKey), ikm.AsSpan(2 * OpaqueSizes.Element, OpaqueSizes.Element));
        CryptographicOperations.ZeroMemory(unmasked);

        var preamble = OpaqueCore.Preamble(_preamblePrefix, resolvedClientIdentity, state.Ke1, resolvedServerIdentity, ke2[..macOffset]);
        using var keys = OpaqueCore.DeriveAuthenticationKeys(ikm, preamble, _options);
        if (!CryptographicOperations.FixedTimeEquals(keys.ServerMac, serverMac))
            throw new OpaqueException(OpaqueError.ServerAuthenticationFailed, "Server authentication failed.");
        return new ClientLoginResult(keys.ClientMac.ToArray(), keys.SessionKey.ToArray(), envelope.TakeExportKey());
    }

    private EnvelopeKeys OpenEnvelopeKeys(ReadOnlySpan<byte> randomizedPassword, ReadOnlySpan<byte> envelopeNonce)
    {
        var authKey = OpaqueCore.Expand(randomizedPassword, envelopeNonce, OpaqueCore.AuthKeyLabel, OpaqueSizes.Hash);
        var exportKey = OpaqueCore.Expand(randomizedPassword, envelopeNonce, OpaqueCore.ExportKeyLabel, OpaqueSizes.Hash);
        var seed = OpaqueCore.Expand(randomizedPassword, envelopeNonce, OpaqueCore.PrivateKeyLabel, OpaqueSizes.Seed);
        var clientPrivateKey = OpaqueCore.DeriveDiffieHellmanPrivateKey(seed);
        CryptographicOperations.ZeroMemory(seed);
        OpaqueCore.Trace(_options, "auth_key", authKey);
        OpaqueCore.Trace(_options, "export_key", exportKey);
        return new EnvelopeKeys(authKey, exportKey, clientPrivateKey);
    }

    /// <summary>Keys derived from randomized_password and the envelope nonce (§4.1.2 Store / §4.1.3 Recover).</summary>
    private sealed class EnvelopeKeys(byte[] authKey, byte[] exportKey, BcBigInteger clientPrivateKey) : IDisposable
    {
        private byte[]? _exportKey = exportKey;

        public byte[] AuthKey { get; } = authKey;

        public BcBigInteger ClientPrivateKey { get; } = clientPrivateKey;

        /// <summary>Hands the export key to the caller (who then owns and zeroes it).</summary>
        public byte[] TakeExportKey()
        {
            var key = _exportKey ?? throw new InvalidOperationException("The export key was already taken.");
            _exportKey = null;
            return key;
        }

        public void Dispose()
        {
            CryptographicOperations.ZeroMemory(AuthKey);
            if (_exportKey is not null) CryptographicOperations.ZeroMemory(_exportKey);
        }
    }
}
