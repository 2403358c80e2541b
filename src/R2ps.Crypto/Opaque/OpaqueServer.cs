using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;

namespace R2ps.Crypto.Opaque;

/// <summary>The result of <see cref="OpaqueServer.GenerateKE2"/>: KE2 for the client and the state to keep for KE3.</summary>
public sealed class ServerKe2Result : IDisposable
{
    internal ServerKe2Result(byte[] ke2, ServerLoginState state)
    {
        Ke2 = ke2;
        State = state;
    }

    /// <summary>KE2 (259 bytes).</summary>
    public byte[] Ke2 { get; }

    /// <summary>The secret login state for <see cref="OpaqueServer.ServerFinish(ServerLoginState, ReadOnlySpan{byte})"/>.</summary>
    public ServerLoginState State { get; }

    public void Dispose() => State.Dispose();
}

/// <summary>
/// The RFC 9807 OPAQUE-3DH server, suite P256-SHA256. The long-term key is an <see cref="IEcPrivateKey"/> (possibly in
/// an HSM): the 3DH term that uses it goes through <see cref="IEcPrivateKey.DeriveSharedPoint"/>. Ephemeral keys are
/// software. Thread-safe: it keeps no per-login state (that is returned as <see cref="ServerLoginState"/>).
/// </summary>
public sealed class OpaqueServer : IDisposable
{
    // Suffixes distinct from "OprfKey" and from each other, so Expand(oprf_seed, id ‖ label) never collides.
    private static ReadOnlySpan<byte> FakeMaskingKeyLabel => "R2PS-FakeMaskingKey"u8;
    private static ReadOnlySpan<byte> FakeClientKeyLabel => "R2PS-FakeClientKey"u8;

    private readonly IEcPrivateKey _serverKey;
    private readonly byte[] _oprfSeed;
    private readonly byte[] _serverPublicKey;
    private readonly byte[] _serverIdentity;
    private readonly byte[] _preamblePrefix;
    private readonly OpaqueOptions _options;
    private bool _disposed;

    /// <param name="serverKey">The server's long-term P-256 key (not owned: the caller disposes it).</param>
    /// <param name="oprfSeed">The server's 32-byte OPRF seed (copied; the copy is zeroed on dispose).</param>
    /// <param name="serverIdentity">The server identity; null means the server public key (RFC 9807 §4.1.2).</param>
    /// <param name="options">Context, randomness.</param>
    public OpaqueServer(IEcPrivateKey serverKey, ReadOnlySpan<byte> oprfSeed, byte[]? serverIdentity = null, OpaqueOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(serverKey);
        if (!ReferenceEquals(serverKey.PublicKey.Curve, EcCurve.P256))
            throw new OpaqueException(OpaqueError.InvalidInput, "The OPAQUE server key must be a P-256 key.");
        if (oprfSeed.Length != OpaqueSizes.OprfSeed)
            throw new OpaqueException(OpaqueError.InvalidLength, $"The OPRF seed must be {OpaqueSizes.OprfSeed} bytes.");
        OpaqueCore.CheckIdentity(serverIdentity, "The server identity");
        _options = options ?? new OpaqueOptions();
        _serverKey = serverKey;
        _oprfSeed = oprfSeed.ToArray();
        _serverPublicKey = serverKey.PublicKey.ToCompressed();
        _serverIdentity = serverIdentity is null ? _serverPublicKey : (byte[])serverIdentity.Clone();
        _preamblePrefix = OpaqueCore.PreamblePrefix(_options.Context);
    }

    /// <summary>The serialized (compressed) server public key.</summary>
    public byte[] ServerPublicKey => (byte[])_serverPublicKey.Clone();

    /// <summary>RFC 9807 §5.2.2 CreateRegistrationResponse: evaluated_message ‖ server_public_key (66 bytes).</summary>
    public byte[] CreateRegistrationResponse(ReadOnlySpan<byte> registrationRequest, ReadOnlySpan<byte> credentialIdentifier)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (registrationRequest.Length != OpaqueSizes.RegistrationRequest)
            throw new OpaqueException(OpaqueError.InvalidLength, $"A registration request is {OpaqueSizes.RegistrationRequest} bytes.");
        var oprfKey = OpaqueCore.DeriveOprfKey(_oprfSeed, credentialIdentifier, _options);
        var evaluated = P256Sha256Oprf.BlindEvaluate(oprfKey, registrationRequest);
        return [.. evaluated, .. _serverPublicKey];
    }

    /// <summary>
    /// RFC 9807 §10.9: a stand-in record for an unknown credential identifier. Deterministic per identifier (derived
    /// from the OPRF seed), so repeated logins for the same unknown identifier get consistent-looking KE2s.
    /// </summary>
    public RegistrationRecord CreateFakeRecord(ReadOnlySpan<byte> credentialIdentifier)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var maskingKey = OpaqueCore.Expand(_oprfSeed, credentialIdentifier, FakeMaskingKeyLabel, OpaqueSizes.Hash);
        var keySeed = OpaqueCore.Expand(_oprfSeed, credentialIdentifier, FakeClientKeyLabel, OpaqueSizes.Seed);
        try
        {
            var clientPrivate = OpaqueCore.DeriveDiffieHellmanPrivateKey(keySeed);
            var clientPublic = P256Group.SerializeElement(P256Group.MultiplyGenerator(clientPrivate));
            return RegistrationRecord.CreateFake(clientPublic, maskingKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(maskingKey);
            CryptographicOperations.ZeroMemory(keySeed);
        }
    }

    /// <summary>
    /// RFC 9807 §6.2.2 GenerateKE2. <paramref name="record"/> null = unknown credential: a fake record from
    /// <see cref="CreateFakeRecord"/> is used, so the reply is indistinguishable and the later ServerFinish fails.
    /// </summary>
    /// <param name="ke1">KE1 (98 bytes), strictly parsed.</param>
    /// <param name="credentialIdentifier">The credential identifier (R2PS: the kid, UTF-8).</param>
    /// <param name="record">The stored registration record, or null.</param>
    /// <param name="clientIdentity">The client identity; null means the record's client public key.</param>
    public ServerKe2Result GenerateKE2(ReadOnlySpan<byte> ke1, ReadOnlySpan<byte> credentialIdentifier, RegistrationRecord? record, byte[]? clientIdentity = null) =>
        GenerateKE2(ke1, credentialIdentifier, record, clientIdentity, _serverKey, clientKeyshare: null);

    /// <summary>
    /// <see cref="GenerateKE2(ReadOnlySpan{byte}, ReadOnlySpan{byte}, RegistrationRecord?, byte[])"/> with a server key that
    /// agrees asynchronously (an HSM key on a bounded session pool): its one 3DH term, s·X_c, is computed first without
    /// holding a thread, after the same checks of KE1; the rest is the same code with a key that answers for exactly that
    /// key share (<see cref="PrecomputedAgreementKey"/>). Any other key runs the synchronous path.
    /// </summary>
    public async Task<ServerKe2Result> GenerateKE2Async(byte[] ke1, byte[] credentialIdentifier, RegistrationRecord? record, byte[]? clientIdentity,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ke1);
        ArgumentNullException.ThrowIfNull(credentialIdentifier);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_serverKey is not IAsyncEcPrivateKey asyncKey)
            return GenerateKE2(ke1, credentialIdentifier, record, clientIdentity);
        if (ke1.Length != OpaqueSizes.Ke1)
            throw new OpaqueException(OpaqueError.InvalidLength, $"KE1 is {OpaqueSizes.Ke1} bytes.");
        OpaqueCore.CheckIdentity(clientIdentity, "The client identity");
        var clientKeyshare = new EcPublicKey(EcCurve.P256, P256Group.DeserializeElement(ke1.AsSpan(OpaqueSizes.Element + OpaqueSizes.Nonce), "Client key share"));
        var shared = await asyncKey.DeriveSharedPointAsync(clientKeyshare, cancellationToken).ConfigureAwait(false);
        return GenerateKE2(ke1, credentialIdentifier, record, clientIdentity, new PrecomputedAgreementKey(_serverKey, clientKeyshare, shared), clientKeyshare);
    }

    /// <param name="clientKeyshare">KE1's key share if the caller already parsed it (a point decompression saved), else null.</param>
    private ServerKe2Result GenerateKE2(ReadOnlySpan<byte> ke1, ReadOnlySpan<byte> credentialIdentifier, RegistrationRecord? record, byte[]? clientIdentity,
        IEcPrivateKey serverKey, EcPublicKey? clientKeyshare)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ke1.Length != OpaqueSizes.Ke1)
            throw new OpaqueException(OpaqueError.InvalidLength, $"KE1 is {OpaqueSizes.Ke1} bytes.");
        OpaqueCore.CheckIdentity(clientIdentity, "The client identity");

        // Parse everything from the client before any secret-dependent work.
        var blindedMessage = ke1[..OpaqueSizes.Element];
        var clientKeyshareKey = clientKeyshare
            ?? new EcPublicKey(EcCurve.P256, P256Group.DeserializeElement(ke1[(OpaqueSizes.Element + OpaqueSizes.Nonce)..], "Client key share"));

        RegistrationRecord? fake = record is null ? CreateFakeRecord(credentialIdentifier) : null;
        var used = record ?? fake!;
        try
        {
            var ke2 = new byte[OpaqueSizes.Ke2];
            var span = ke2.AsSpan();

            // CreateCredentialResponse: evaluated_message ‖ masking_nonce ‖ masked_response
            var oprfKey = OpaqueCore.DeriveOprfKey(_oprfSeed, credentialIdentifier, _options);
            P256Sha256Oprf.BlindEvaluate(oprfKey, blindedMessage).CopyTo(span);
            var maskingNonce = span.Slice(OpaqueSizes.Element, OpaqueSizes.Nonce);
            _options.Random.Fill(OpaqueRandomPurpose.MaskingNonce, maskingNonce);
            var pad = OpaqueCore.Expand(used.MaskingKey, maskingNonce, OpaqueCore.CredentialResponsePadLabel, OpaqueSizes.MaskedResponse);
            var masked = span.Slice(OpaqueSizes.Element + OpaqueSizes.Nonce, OpaqueSizes.MaskedResponse);
            OpaqueCore.Xor(pad, _serverPublicKey, masked);
            OpaqueCore.Xor(pad.AsSpan(OpaqueSizes.PublicKey), used.Envelope, masked[OpaqueSizes.PublicKey..]);
            CryptographicOperations.ZeroMemory(pad);

            // AuthServerRespond: server_nonce ‖ server_public_keyshare ‖ server_mac
            var serverNonce = span.Slice(OpaqueSizes.CredentialResponse, OpaqueSizes.Nonce);
            _options.Random.Fill(OpaqueRandomPurpose.ServerNonce, serverNonce);
            var keyshareSeed = new byte[OpaqueSizes.Seed];
            _options.Random.Fill(OpaqueRandomPurpose.ServerKeyshareSeed, keyshareSeed);
            var serverSecret = OpaqueCore.DeriveDiffieHellmanPrivateKey(keyshareSeed);
            CryptographicOperations.ZeroMemory(keyshareSeed);
            P256Group.SerializeElement(P256Group.MultiplyGenerator(serverSecret), span.Slice(OpaqueSizes.CredentialResponse + OpaqueSizes.Nonce, OpaqueSizes.PublicKey));

            var macOffset = OpaqueSizes.Ke2 - OpaqueSizes.Hash;
            var preamble = OpaqueCore.Preamble(_preamblePrefix, clientIdentity is null ? used.ClientPublicKey : (ReadOnlySpan<byte>)clientIdentity, ke1, _serverIdentity, span[..macOffset]);

            // ikm = dh1 ‖ dh2 ‖ dh3 with dh1 = e_s·X_c, dh2 = s·X_c (through the key, maybe an HSM), dh3 = e_s·P_c
            var ikm = new byte[3 * OpaqueSizes.Element];
            P256Group.SerializeElement(P256Group.Multiply(clientKeyshareKey.Point, serverSecret), ikm.AsSpan(0, OpaqueSizes.Element));
            P256Group.SerializeElement(serverKey.DeriveSharedPoint(clientKeyshareKey), ikm.AsSpan(OpaqueSizes.Element, OpaqueSizes.Element));
            P256Group.SerializeElement(P256Group.Multiply(used.ClientPublicKeyPoint, serverSecret), ikm.AsSpan(2 * OpaqueSizes.Element, OpaqueSizes.Element));

            using var keys = OpaqueCore.DeriveAuthenticationKeys(ikm, preamble, _options);
            keys.ServerMac.CopyTo(span[macOffset..]);
            return new ServerKe2Result(ke2, ServerLoginState.Create(keys.ClientMac, keys.SessionKey));
        }
        finally
        {
            fake?.Dispose();
        }
    }

    /// <summary>
    /// RFC 9807 §6.2.3 ServerFinish: checks the client MAC in constant time and returns the session key (32 bytes).
    /// Every wrong KE3 of the right length fails the same way (<see cref="OpaqueError.ClientAuthenticationFailed"/>).
    /// </summary>
    public static byte[] ServerFinish(ServerLoginState state, ReadOnlySpan<byte> ke3)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (ke3.Length != OpaqueSizes.Ke3)
            throw new OpaqueException(OpaqueError.InvalidLength, $"KE3 is {OpaqueSizes.Ke3} bytes.");
        if (!CryptographicOperations.FixedTimeEquals(ke3, state.ExpectedClientMac))
            throw new OpaqueException(OpaqueError.ClientAuthenticationFailed, "Client authentication failed.");
        return state.SessionKey.ToArray();
    }

    /// <summary>ServerFinish over a serialized <see cref="ServerLoginState"/>.</summary>
    public static byte[] ServerFinish(ReadOnlySpan<byte> serializedState, ReadOnlySpan<byte> ke3)
    {
        using var state = ServerLoginState.Deserialize(serializedState);
        return ServerFinish(state, ke3);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CryptographicOperations.ZeroMemory(_oprfSeed);
    }
}
