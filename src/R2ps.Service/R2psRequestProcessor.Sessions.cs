using System.Text;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Service.Ports;

namespace R2ps.Service;

/// <summary>session_end (device and user form) and session_context_end of PROTOCOL.md 1.4.</summary>
public sealed partial class R2psRequestProcessor
{
    private async Task<byte[]> SessionEndAsync(ServiceCall call, byte[] plaintext, AuditTrace trace, CancellationToken cancellationToken)
    {
        string pakeSessionId;
        if (call.Mode == EncryptionMode.User)
        {
            // User form: the envelope's (already verified and bound) session ends; the data is informational.
            pakeSessionId = call.Session!.PakeSessionId;
        }
        else
        {
            // Device form: the data names the session, which must be this key's in this context.
            pakeSessionId = Encoding.ASCII.GetString(plaintext).Trim();
            if (!EnvelopeRules.IsPakeSessionId(pakeSessionId))
                throw new R2psException(ErrorCode.IllegalRequestData, "session_end data must be a 64-character session id.");
            trace.SessionRef = pakeSessionId;
            var session = await _ports.Sessions.FindAsync(pakeSessionId, cancellationToken).ConfigureAwait(false);
            if (session is null || !session.IsBoundTo(call.ClientId, call.Kid, call.Context))
                throw new R2psException(ErrorCode.AccessDenied, "The session is unknown, ended or expired.");
        }
        await _ports.Sessions.CloseAsync(pakeSessionId, SessionEndReasons.Closed, cancellationToken).ConfigureAwait(false);
        return Encoding.ASCII.GetBytes(ProtocolConstants.Ok);
    }

    private async Task<byte[]> SessionContextEndAsync(ServiceCall call, CancellationToken cancellationToken)
    {
        await _ports.Sessions.CloseContextAsync(call.ClientId, call.Kid, call.Context, cancellationToken).ConfigureAwait(false);
        return Encoding.ASCII.GetBytes(ProtocolConstants.Ok);
    }
}
