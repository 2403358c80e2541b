namespace R2ps.Service.Ports;

/// <summary>One-time registration codes (store: <c>IRegistrationCodeStore</c>).</summary>
public interface IRegistrationCodes
{
    /// <summary>
    /// Whether an unexpired code is waiting for <c>(client_id, kid)</c>, without consuming it. Gates the
    /// <c>pin_registration</c> evaluate: no OPRF evaluation without a registration in progress.
    /// </summary>
    Task<bool> IsPendingAsync(string clientId, string kid, CancellationToken cancellationToken);

    /// <summary>
    /// Checks the presented base64 code in constant time. Any call consumes the stored code, whatever the outcome.
    /// False if there is none, it expired, or it does not match.
    /// </summary>
    Task<bool> ConsumeAsync(string clientId, string kid, string presentedCodeBase64, CancellationToken cancellationToken);
}
