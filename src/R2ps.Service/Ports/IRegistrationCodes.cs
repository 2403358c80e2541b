namespace R2ps.Service.Ports;

/// <summary>One-time registration codes (store: <c>IRegistrationCodeStore</c>).</summary>
public interface IRegistrationCodes
{
    /// <summary>
    /// Checks the presented base64 code in constant time. Any call consumes the stored code, whatever the outcome.
    /// False if there is none, it expired, or it does not match.
    /// </summary>
    Task<bool> ConsumeAsync(string clientId, string kid, string presentedCodeBase64, CancellationToken cancellationToken);
}
