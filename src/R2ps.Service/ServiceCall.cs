using System.Security.Cryptography;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Service.Ports;

namespace R2ps.Service;

/// <summary>One authenticated request on its way through the handlers. Owns (and zeroes) the unsealed session key.</summary>
internal sealed class ServiceCall(ServiceRequestPayload request, RegisteredDevice device, IEcPrivateKey serverKey, DateTimeOffset now, EncryptionMode mode) : IDisposable
{
    private byte[]? _sessionKey;

    public ServiceRequestPayload Request { get; } = request;

    public RegisteredDevice Device { get; } = device;

    public IEcPrivateKey ServerKey { get; } = serverKey;

    public DateTimeOffset Now { get; } = now;

    public EncryptionMode Mode { get; } = mode;

    /// <summary>The session of a user-mode request, after binding checks.</summary>
    public SignSessionView? Session { get; private set; }

    public string ClientId => Request.ClientId;

    public string Kid => Request.Kid;

    public string Context => Request.Context;

    public ReadOnlySpan<byte> SessionKey =>
        _sessionKey ?? throw new InvalidOperationException("This call has no session key.");

    public void Bind(SignSessionView session, byte[] sessionKey)
    {
        Session = session;
        _sessionKey = sessionKey;
    }

    public void Dispose()
    {
        if (_sessionKey is not null) CryptographicOperations.ZeroMemory(_sessionKey);
    }
}
