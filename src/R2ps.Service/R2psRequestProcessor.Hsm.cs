using System.Text;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Keys;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Protocol.Payloads;
using R2ps.Service.Ports;

namespace R2ps.Service;

/// <summary>The hsm_* service types of PROTOCOL.md 1.4. Keys belong to the client_id that created them.</summary>
public sealed partial class R2psRequestProcessor
{
    private const string UnknownKey = "The key is unknown.";

    private async Task<byte[]> KeygenAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var request = R2psJson.Deserialize<KeygenRequest>(plaintext, "hsm_ec_keygen request");
        var curve = Curve(request.Curve);
        var owned = await _ports.KeyMetadata.CountAsync(call.ClientId, curve.Name, cancellationToken).ConfigureAwait(false);
        if (owned >= _options.MaxKeysPerCurve)
            throw new R2psException(ErrorCode.Unauthorized, $"The limit of {_options.MaxKeysPerCurve} keys on {curve.Name} is reached.");

        // The count above only saves an HSM keygen when the limit is plainly reached; parallel keygens can all pass it,
        // so the limit itself is enforced by the atomic count-and-insert below. The key exists from here on: the
        // metadata write runs to the end whatever the caller does, and a key without metadata is taken out again.
        GeneratedClientKey key;
        using (R2psServiceActivity.StartHsm("generate", curve.Name))
            key = await _ports.ClientKeys.GenerateAsync(call.ClientId, curve, cancellationToken).ConfigureAwait(false);
        bool added;
        try
        {
            added = await _ports.KeyMetadata.TryAddWithinLimitAsync(new ClientKeyMetadata(key.Kid, call.ClientId, curve.Name, key.CreatedAt), _options.MaxKeysPerCurve, CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            // Without metadata the key could never be listed or used: take it out of the HSM again.
            await _ports.ClientKeys.DeleteAsync(call.ClientId, key.Kid, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        if (!added)
        {
            await _ports.ClientKeys.DeleteAsync(call.ClientId, key.Kid, CancellationToken.None).ConfigureAwait(false);
            throw new R2psException(ErrorCode.Unauthorized, $"The limit of {_options.MaxKeysPerCurve} keys on {curve.Name} is reached.");
        }
        return Json(new KeygenResponse(curve.Name));
    }

    private async Task<byte[]> ListKeysAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var request = plaintext.Length == 0 ? new ListKeysRequest() : R2psJson.Deserialize<ListKeysRequest>(plaintext, "hsm_list_keys request");
        var curves = request.Curve?.Select(name => Curve(name).Name).Distinct(StringComparer.Ordinal).ToList();
        var keys = await _ports.KeyMetadata.ListAsync(call.ClientId, curves, cancellationToken).ConfigureAwait(false);
        var infos = keys.Select(k =>
        {
            // The kid is the compressed public key: the SPKI needs no HSM round trip.
            var publicKey = EcPublicKey.FromSec1(EcCurve.FromName(k.CurveName), Hex.Decode(k.Kid));
            return new KeyInfo(k.Kid, k.CurveName, k.CreatedAt.ToUnixTimeSeconds(), Base64Std.Encode(publicKey.ToSpki()));
        }).ToList();
        return Json(new ListKeysResponse(infos));
    }

    private async Task<byte[]> EcdsaAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var request = R2psJson.Deserialize<EcdsaRequest>(plaintext, "hsm_ecdsa request");
        var key = await OwnedKeyAsync(call, request.Kid, cancellationToken).ConfigureAwait(false);
        var hash = DecodeBinary(request.TbsHash, "tbs_hash");
        if (hash.Length is not (32 or 48 or 64))
            throw new R2psException(ErrorCode.IllegalRequestData, "tbs_hash must be 32, 48 or 64 bytes.");
        using var hsm = R2psServiceActivity.StartHsm("sign", key.CurveName);
        return await _ports.ClientKeys.SignHashAsync(call.ClientId, key.Kid, hash, cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]> EcdhAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var request = R2psJson.Deserialize<EcdhRequest>(plaintext, "hsm_ecdh request");
        var key = await OwnedKeyAsync(call, request.Kid, cancellationToken).ConfigureAwait(false);
        var spki = DecodeBinary(request.PublicKey, "public_key");
        if (!EcPublicKey.TryFromSpki(spki, out var peer))
            throw new R2psException(ErrorCode.IllegalRequestData, "public_key is not an EC SubjectPublicKeyInfo with a valid point.");
        if (!string.Equals(peer.Curve.Name, key.CurveName, StringComparison.Ordinal))
            throw new R2psException(ErrorCode.IllegalRequestData, $"public_key is on {peer.Curve.Name}; the key is on {key.CurveName}.");
        using var hsm = R2psServiceActivity.StartHsm("derive", key.CurveName);
        return await _ports.ClientKeys.DeriveSharedSecretAsync(call.ClientId, key.Kid, peer, cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]> DeleteKeyAsync(ServiceCall call, byte[] plaintext, CancellationToken cancellationToken)
    {
        var request = R2psJson.Deserialize<DeleteKeyRequest>(plaintext, "hsm_ec_delete_key request");
        var key = await OwnedKeyAsync(call, request.Kid, cancellationToken).ConfigureAwait(false);
        // Metadata first: if the HSM delete then fails, the key is unusable and unlisted rather than listed and gone.
        await _ports.KeyMetadata.DeleteAsync(call.ClientId, key.Kid, cancellationToken).ConfigureAwait(false);
        using (R2psServiceActivity.StartHsm("delete", key.CurveName))
            await _ports.ClientKeys.DeleteAsync(call.ClientId, key.Kid, CancellationToken.None).ConfigureAwait(false);
        return Encoding.ASCII.GetBytes(ProtocolConstants.Ok);
    }

    /// <summary>The caller's own key; another client's kid is refused exactly like an unknown one.</summary>
    private async Task<ClientKeyMetadata> OwnedKeyAsync(ServiceCall call, string kid, CancellationToken cancellationToken)
    {
        // Shape before any store call: a kid that cannot name an HSM key is malformed input, not an unknown key.
        if (!EnvelopeRules.IsHsmKid(kid))
            throw new R2psException(ErrorCode.IllegalRequestData, "kid must be lowercase hex of a compressed P-256, P-384 or P-521 point.");
        return await _ports.KeyMetadata.FindAsync(call.ClientId, kid, cancellationToken).ConfigureAwait(false)
            ?? throw new R2psException(ErrorCode.AccessDenied, UnknownKey);
    }

    private static EcCurve Curve(string? name) => EcCurve.TryFromName(name, out var curve)
        ? curve
        : throw new R2psException(ErrorCode.IllegalRequestData, "curve must be P-256, P-384 or P-521.");

    private static byte[] Json<T>(T value) => EnvelopeJson.Serialize(value);

    private static byte[] DecodeBinary(string? base64, string member) =>
        Base64Std.TryDecode(base64, out var bytes)
            ? bytes
            : throw new R2psException(ErrorCode.IllegalRequestData, $"{member} is not canonical base64.");
}
