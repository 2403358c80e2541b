namespace R2ps.Protocol.Tests;

public class ErrorCodeTests
{
    // PROTOCOL.md 1.2: every code with its HTTP status.
    [Theory]
    [InlineData(ErrorCode.IllegalRequestData, "ILLEGAL_REQUEST_DATA", 400)]
    [InlineData(ErrorCode.Unauthorized, "UNAUTHORIZED", 401)]
    [InlineData(ErrorCode.AccessDenied, "ACCESS_DENIED", 403)]
    [InlineData(ErrorCode.IllegalState, "ILLEGAL_STATE", 409)]
    [InlineData(ErrorCode.UnsupportedRequestType, "UNSUPPORTED_REQUEST_TYPE", 415)]
    [InlineData(ErrorCode.ServerError, "SERVER_ERROR", 500)]
    [InlineData(ErrorCode.ServiceUnavailable, "SERVICE_UNAVAILABLE", 503)]
    public void Each_code_has_its_wire_name_and_status(ErrorCode code, string wire, int status)
    {
        Assert.Equal(wire, code.ToWire());
        Assert.Equal(status, code.HttpStatus());
        Assert.True(ErrorCodes.TryFromWire(wire, out var parsed));
        Assert.Equal(code, parsed);
    }

    [Fact]
    public void Error_body_has_the_two_members_of_the_spec()
    {
        var body = new R2psException(ErrorCode.AccessDenied, "Replayed nonce.").ToBody();
        Assert.Equal("""{"error_code":"ACCESS_DENIED","error_message":"Replayed nonce."}""", R2psJson.SerializeToString(body));
    }

    // PROTOCOL.md 1.3: the type decides the crypto; session_end is a user type only when it names a session.
    [Theory]
    [InlineData(ServiceTypes.Authenticate, false, EncryptionMode.Device)]
    [InlineData(ServiceTypes.Authenticate, true, EncryptionMode.Device)]
    [InlineData(ServiceTypes.PinRegistration, false, EncryptionMode.Device)]
    [InlineData(ServiceTypes.SessionContextEnd, false, EncryptionMode.Device)]
    [InlineData(ServiceTypes.SessionEnd, false, EncryptionMode.Device)]
    [InlineData(ServiceTypes.SessionEnd, true, EncryptionMode.User)]
    [InlineData(ServiceTypes.PinChange, true, EncryptionMode.User)]
    [InlineData(ServiceTypes.HsmEcdsa, true, EncryptionMode.User)]
    public void Encryption_mode_follows_the_type(string type, bool hasSession, EncryptionMode mode) =>
        Assert.Equal(mode, ServiceTypes.ModeOf(type, hasSession));
}
