using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using R2ps.Crypto.Ec;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm.Tests;

/// <summary>
/// Service keys are used through in-memory session-object copies (<see cref="HsmConnection.WorkingHandleAsync"/>): the
/// same key, never a token object of its own, and the token object itself where copies are off or refused.
/// </summary>
public sealed class SessionCopyTests(SoftHsmFixture hsm)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[] Hash = SHA256.HashData("session copy"u8);

    [Fact]
    public async Task The_server_key_signs_through_a_session_object_that_verifies_under_the_token_key()
    {
        var label = "copy-server-" + Guid.NewGuid().ToString("N");

        var key = await HsmServiceKeys.GetOrCreateServerKeyAsync(hsm.Connection, label, Ct);
        var again = await HsmServiceKeys.GetOrCreateServerKeyAsync(hsm.Connection, label, Ct);

        Assert.False(await IsTokenObjectAsync(key.Handle));
        Assert.Equal(key.PublicKey, again.PublicKey);
        var token = await HsmServiceKeys.FindEcKeyAsync(hsm.Connection, label, Ct);
        Assert.NotNull(token);
        Assert.True(await IsTokenObjectAsync(token.Handle)); // the label still finds the one token object, not a copy
        Assert.Equal(key.PublicKey, token.PublicKey);
        Assert.Equal(1, await CountTokenObjectsAsync(label));
        using var verifier = ECDsa.Create(key.PublicKey.ToDotNet());
        Assert.True(verifier.VerifyHash(Hash, await key.SignHashAsync(Hash, Ct)));
        Assert.True(verifier.VerifyHash(Hash, await token.SignHashAsync(Hash, Ct)));
    }

    [Fact]
    public async Task The_sealing_key_copy_and_its_token_object_open_each_others_data()
    {
        var label = "copy-sealing-" + Guid.NewGuid().ToString("N");
        var copy = await HsmServiceKeys.GetOrCreateSealingKeyAsync(hsm.Connection, label, Ct);
        var tokenHandle = await hsm.Connection.RunAsync(session =>
            Pkcs11Mechanisms.FindObjects(session, AesTemplate(session, label), 4).Single(), Ct);
        var token = new HsmSealingKey(hsm.Connection, tokenHandle, label);
        var secret = RandomNumberGenerator.GetBytes(32);

        Assert.False(await IsTokenObjectAsync(copy.Handle));
        Assert.Equal(secret, await token.OpenAsync(await copy.SealAsync(secret, "aad"u8.ToArray(), Ct), "aad"u8.ToArray(), Ct));
        Assert.Equal(secret, await copy.OpenAsync(await token.SealAsync(secret, "aad"u8.ToArray(), Ct), "aad"u8.ToArray(), Ct));
    }

    [Fact]
    public async Task With_copies_off_the_service_keys_are_the_token_objects()
    {
        hsm.Restart(o => o.SessionCopiesOfServiceKeys = false);
        try
        {
            var key = await HsmServiceKeys.GetOrCreateServerKeyAsync(hsm.Connection, "copy-off-" + Guid.NewGuid().ToString("N"), Ct);
            var sealing = await HsmServiceKeys.GetOrCreateSealingKeyAsync(hsm.Connection, "copy-off-" + Guid.NewGuid().ToString("N"), Ct);

            Assert.True(await IsTokenObjectAsync(key.Handle));
            Assert.True(await IsTokenObjectAsync(sealing.Handle));
        }
        finally
        {
            hsm.Restart();
        }
    }

    [Fact]
    public async Task A_key_the_module_will_not_copy_is_used_through_its_token_object()
    {
        // CKA_COPYABLE false: C_CopyObject is refused (CKR_ACTION_PROHIBITED), and the token object is what is left.
        var label = "not-copyable-" + Guid.NewGuid().ToString("N");
        var tokenHandle = await hsm.Connection.RunSerialisedAsync(session => HsmServiceKeys.GenerateAesKey(session, label, copyable: false), Ct);

        var working = await hsm.Connection.WorkingHandleAsync(tokenHandle, Ct);

        Assert.Equal(tokenHandle.ObjectId, working.ObjectId);
        var sealing = await HsmServiceKeys.GetOrCreateSealingKeyAsync(hsm.Connection, label, Ct);
        Assert.Equal(tokenHandle.ObjectId, sealing.Handle.ObjectId);
        var secret = RandomNumberGenerator.GetBytes(16);
        Assert.Equal(secret, await sealing.OpenAsync(await sealing.SealAsync(secret, ReadOnlyMemory<byte>.Empty, Ct), ReadOnlyMemory<byte>.Empty, Ct));
    }

    private ValueTask<bool> IsTokenObjectAsync(IObjectHandle handle) =>
        hsm.Connection.RunAsync(session => Pkcs11Mechanisms.GetAttributes(session, handle, [CKA.CKA_TOKEN])[0] is [1], Ct);

    private ValueTask<int> CountTokenObjectsAsync(string label) => hsm.Connection.RunAsync(session =>
    {
        List<IObjectAttribute> template =
        [
            session.Factories.ObjectAttributeFactory.Create(CKA.CKA_TOKEN, true),
            session.Factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, label),
        ];
        return Pkcs11Mechanisms.FindObjects(session, template, 16).Count;
    }, Ct);

    private static List<IObjectAttribute> AesTemplate(ISession session, string label) =>
    [
        session.Factories.ObjectAttributeFactory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
        session.Factories.ObjectAttributeFactory.Create(CKA.CKA_TOKEN, true),
        session.Factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, label),
    ];
}
