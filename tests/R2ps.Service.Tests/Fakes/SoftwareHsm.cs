using System.Collections.Concurrent;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Service.Ports;

namespace R2ps.Service.Tests.Fakes;

/// <summary>
/// A software stand-in for the HSM ports (client keys, sealing key, server key) with the same contracts; the PKCS#11
/// implementation replaces it once the hsm branch is merged.
/// </summary>
public sealed class SoftwareHsm(TimeProvider time, IEcPrivateKey serverKey, string servedContext = "hsm") : IClientKeyOperations, ISecretSealer, IServerKeys, IDisposable
{
    private readonly ConcurrentDictionary<string, (string Owner, SoftwareEcKey Key)> _keys = new(StringComparer.Ordinal);
    private readonly byte[] _sealingKey = RandomNumberGenerator.GetBytes(32);

    public bool FailNextSign { get; set; }

    public int KeyCount => _keys.Count;

    public Task<GeneratedClientKey> GenerateAsync(string owner, EcCurve curve, CancellationToken cancellationToken)
    {
        var key = SoftwareEcKey.Generate(curve);
        var kid = Hex.Encode(key.PublicKey.ToCompressed());
        _keys[kid] = (owner, key);
        return Task.FromResult(new GeneratedClientKey(kid, key.PublicKey, time.GetUtcNow()));
    }

    public Task<byte[]> SignHashAsync(string owner, string kid, ReadOnlyMemory<byte> hash, CancellationToken cancellationToken) =>
        Task.FromResult(SignHash(owner, kid, hash.Span));

    private byte[] SignHash(string owner, string kid, ReadOnlySpan<byte> hash)
    {
        if (FailNextSign)
        {
            FailNextSign = false;
            throw new CryptographicException("Simulated HSM failure.");
        }
        var key = Find(owner, kid);
        using var ecdsa = ECDsa.Create(ToPrivateParameters(key));
        return ecdsa.SignHash(hash.ToArray(), DSASignatureFormat.Rfc3279DerSequence);
    }

    public Task<byte[]> DeriveSharedSecretAsync(string owner, string kid, EcPublicKey peer, CancellationToken cancellationToken) =>
        Task.FromResult(Find(owner, kid).DeriveSharedSecret(peer));

    public Task DeleteAsync(string owner, string kid, CancellationToken cancellationToken)
    {
        Find(owner, kid);
        if (_keys.TryRemove(kid, out var removed)) removed.Key.Dispose();
        return Task.CompletedTask;
    }

    public Task<byte[]> SealAsync(ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> associatedData, CancellationToken cancellationToken) =>
        Task.FromResult(Seal(plaintext.Span, associatedData.Span));

    public Task<byte[]> OpenAsync(ReadOnlyMemory<byte> sealedData, ReadOnlyMemory<byte> associatedData, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _opens);
        return Task.FromResult(Open(sealedData.Span, associatedData.Span));
    }

    private int _opens;

    /// <summary>Calls of <see cref="OpenAsync"/> so far (unsealing is an HSM operation; tests count them).</summary>
    public int OpenCount => Volatile.Read(ref _opens);

    private byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var output = new byte[12 + plaintext.Length + 16];
        RandomNumberGenerator.Fill(output.AsSpan(0, 12));
        using var aes = new AesGcm(_sealingKey, 16);
        aes.Encrypt(output.AsSpan(0, 12), plaintext, output.AsSpan(12, plaintext.Length), output.AsSpan(12 + plaintext.Length), associatedData);
        return output;
    }

    private byte[] Open(ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData)
    {
        if (sealedData.Length < 28) throw new CryptographicException("Sealed data is too short.");
        var plaintext = new byte[sealedData.Length - 28];
        using var aes = new AesGcm(_sealingKey, 16);
        aes.Decrypt(sealedData[..12], sealedData[12..^16], sealedData[^16..], plaintext, associatedData);
        return plaintext;
    }

    /// <summary>A second context served with the same server key (binding tests need a key registered for two).</summary>
    public string? AlsoServedContext { get; set; }

    public IEcPrivateKey? Find(string context) => context == servedContext || context == AlsoServedContext ? serverKey : null;

    public void Dispose()
    {
        foreach (var (_, key) in _keys.Values) key.Dispose();
        CryptographicOperations.ZeroMemory(_sealingKey);
    }

    private SoftwareEcKey Find(string owner, string kid) =>
        _keys.TryGetValue(kid, out var entry) && entry.Owner == owner ? entry.Key : throw new KeyNotFoundException("No such key for this owner.");

    private static ECParameters ToPrivateParameters(SoftwareEcKey key)
    {
        var parameters = key.PublicKey.ToDotNet();
        parameters.D = key.Curve.EncodeFieldElement(key.PrivateScalar);
        return parameters;
    }
}
