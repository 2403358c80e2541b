using MassTransit;
using R2ps.Contracts;

namespace R2ps.Sessions.Tests;

/// <summary>
/// MassTransit names a message on the wire by its full type name (<c>urn:message:Namespace:Type</c>): renaming or
/// moving a contract silently breaks every peer still running the old name. These names are pinned.
/// </summary>
public sealed class ContractNameTests
{
    static readonly string[] PinnedMessageTypes =
    [
        "R2ps.Contracts.ActivateSignSession",
        "R2ps.Contracts.AdminRequestRefused",
        "R2ps.Contracts.BeginSignSessionLogin",
        "R2ps.Contracts.ClientRegistered",
        "R2ps.Contracts.ClientRevoked",
        "R2ps.Contracts.ClientSignSessionsEnded",
        "R2ps.Contracts.ClientStatusReported",
        "R2ps.Contracts.CloseSignSession",
        "R2ps.Contracts.CloseSignSessionContext",
        "R2ps.Contracts.DeviceKeyFound",
        "R2ps.Contracts.DeviceKeyNotFound",
        "R2ps.Contracts.EndClientSignSessions",
        "R2ps.Contracts.ExpireSignSession",
        "R2ps.Contracts.GetClientStatus",
        "R2ps.Contracts.GetDeviceKey",
        "R2ps.Contracts.GetServerKey",
        "R2ps.Contracts.HandleR2psRequest",
        "R2ps.Contracts.IssueRegistrationCode",
        "R2ps.Contracts.R2psReply",
        "R2ps.Contracts.RegisterClient",
        "R2ps.Contracts.RegistrationCodeIssued",
        "R2ps.Contracts.RevokeClient",
        "R2ps.Contracts.ServerKeyFound",
        "R2ps.Contracts.SignSessionActivated",
        "R2ps.Contracts.SignSessionClosed",
        "R2ps.Contracts.SignSessionContextClosed",
        "R2ps.Contracts.SignSessionEnded",
        "R2ps.Contracts.SignSessionLoginPending",
        "R2ps.Contracts.SignSessionNotActivated",
    ];

    [Fact]
    public void Every_contract_type_has_its_pinned_full_name()
    {
        var messageTypes = typeof(HandleR2psRequest).Assembly.GetExportedTypes()
            .Where(type => !(type.IsAbstract && type.IsSealed)) // static classes hold wire constants, not messages
            .Select(type => type.FullName)
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(PinnedMessageTypes, messageTypes);
    }

    [Fact]
    public void Message_urns_are_derived_from_the_pinned_names()
    {
        Assert.Equal("urn:message:R2ps.Contracts:HandleR2psRequest", MessageUrn.ForTypeString<HandleR2psRequest>());
        Assert.Equal("urn:message:R2ps.Contracts:R2psReply", MessageUrn.ForTypeString<R2psReply>());
        Assert.Equal("urn:message:R2ps.Contracts:BeginSignSessionLogin", MessageUrn.ForTypeString<BeginSignSessionLogin>());
        Assert.Equal("urn:message:R2ps.Contracts:SignSessionEnded", MessageUrn.ForTypeString<SignSessionEnded>());
    }

    [Fact]
    public void Contract_properties_keep_their_wire_names_and_order()
    {
        // The JSON body of a message carries the property names; positional order is the records' constructor shape.
        Assert.Equal(["Envelope"], PropertyNames<HandleR2psRequest>());
        Assert.Equal(["Status", "Body"], PropertyNames<R2psReply>());
        Assert.Equal(
            ["SessionId", "PakeSessionId", "ClientId", "Kid", "Context", "SealedLoginState", "StartedAt", "LoginExpiresAt"],
            PropertyNames<BeginSignSessionLogin>());
        Assert.Equal(["SessionId"], PropertyNames<SignSessionLoginPending>());
        Assert.Equal(["SessionId", "SealedSessionKey", "Task", "ExpiresAt"], PropertyNames<ActivateSignSession>());
        Assert.Equal(["SessionId", "ExpiresAt"], PropertyNames<SignSessionActivated>());
        Assert.Equal(["SessionId", "Reason"], PropertyNames<SignSessionNotActivated>());
        Assert.Equal(["SessionId", "Reason"], PropertyNames<CloseSignSession>());
        Assert.Equal(["SessionId"], PropertyNames<SignSessionClosed>());
        Assert.Equal(["ClientId", "Kid", "Context"], PropertyNames<CloseSignSessionContext>());
        Assert.Equal(["Count"], PropertyNames<SignSessionContextClosed>());
        Assert.Equal(["ClientId", "Kid", "Reason"], PropertyNames<EndClientSignSessions>());
        Assert.Equal(["Count"], PropertyNames<ClientSignSessionsEnded>());
        Assert.Equal(["SessionId"], PropertyNames<ExpireSignSession>());
        Assert.Equal(["SessionId", "PakeSessionId", "ClientId", "Kid", "Context", "Reason", "EndedAt"], PropertyNames<SignSessionEnded>());
    }

    [Fact]
    public void Reason_values_are_pinned()
    {
        Assert.Equal("closed", SignSessionEndReasons.Closed);
        Assert.Equal("context-closed", SignSessionEndReasons.ContextClosed);
        Assert.Equal("expired", SignSessionEndReasons.Expired);
        Assert.Equal("login-expired", SignSessionEndReasons.LoginExpired);
        Assert.Equal("revoked", SignSessionEndReasons.Revoked);
        Assert.Equal("pin-changed", SignSessionEndReasons.PinChanged);
        Assert.Equal("locked-out", SignSessionEndReasons.LockedOut);
        Assert.Equal("not-pending", SignSessionNotActivatedReasons.NotPending);
        Assert.Equal("login-expired", SignSessionNotActivatedReasons.LoginExpired);
        Assert.Equal("unknown", SignSessionNotActivatedReasons.Unknown);
    }

    static string[] PropertyNames<T>() =>
        typeof(T).GetConstructors().Single().GetParameters().Select(parameter => parameter.Name!).ToArray();
}
