using System.Security.Cryptography;
using System.Text;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using R2ps.Bff.Broker;
using R2ps.Bff.Health;
using R2ps.Bff.Sessions;
using R2ps.Contracts;
using R2ps.Crypto.Encoding;
using R2ps.Messaging;
using R2ps.Protocol;
using R2ps.Protocol.DeviceSessions;
using R2ps.Protocol.Envelopes;
using AdminClientRegistered = R2ps.Protocol.Admin.ClientRegistered;
using AdminClientStatus = R2ps.Protocol.Admin.ClientStatus;
using AdminRegisterRequest = R2ps.Protocol.Admin.RegisterClientRequest;

namespace R2ps.Bff.Endpoints;

/// <summary>The BFF's routes (PROTOCOL.md 2.1–2.4 and health).</summary>
public static partial class BffEndpoints
{
    /// <summary>Largest admin request body (a registration is well under 2 KiB).</summary>
    const int MaxAdminBodyBytes = 16 * 1024;

    /// <summary>Bytes of entropy of a one-time registration code (as the store's default).</summary>
    const int RegistrationCodeBytes = 32;

    const string AdminClientsPrefix = "/admin/v1/clients/";

    /// <summary>
    /// Maps <c>GET /r2ps/v1/keys</c>, <c>POST /r2ps/v1/device-sessions</c>, <c>POST /r2ps/v1/service</c>,
    /// <c>POST /r2ps/v1/r2ps</c>, <c>/admin/v1/…</c>, <c>GET /health/live</c>, <c>GET /health/ready</c>, and a fallback that
    /// answers any other path 404 with the error body. Every failure is <c>{"error_code","error_message"}</c>; an
    /// unexpected fault is 500 SERVER_ERROR without details (logged).
    /// </summary>
    public static IEndpointRouteBuilder MapR2psBff(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // The per-address rate limit runs as middleware, before routing's work and any body is read. Every host maps the
        // BFF on its WebApplication, which is also the application builder.
        if (endpoints is IApplicationBuilder app)
            app.UseRateLimiter();
        var group = endpoints.MapGroup(string.Empty);
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !context.HttpContext.RequestAborted.IsCancellationRequested)
            {
                return Translate(context.HttpContext, e);
            }
        });

        group.MapGet("/r2ps/v1/keys", GetKeysAsync);
        group.MapPost("/r2ps/v1/device-sessions", EstablishAsync);
        group.MapPost("/r2ps/v1/service", ServiceAsync);
        group.MapPost("/r2ps/v1/r2ps", PlainAsync);

        group.MapPost("/admin/v1/clients", RegisterAsync);
        group.MapMethods("/admin/v1/clients/{**rest}", ["GET", "POST", "DELETE"], AdminClientAsync);

        group.MapGet("/health/live", () => Results.Json(new { status = "live" }));
        group.MapGet("/health/ready", ReadyAsync);
        // "{**path}" rather than the default "{*path:nonfile}": a path whose last segment has a dot (found by r2ps fuzz)
        // would otherwise get an empty 404 instead of the error body.
        group.MapFallback("{**path}", () => HttpIo.Error(ErrorCode.IllegalRequestData, "No such endpoint.", StatusCodes.Status404NotFound));
        return endpoints;
    }

    static async Task<IResult> GetKeysAsync(BffKeys keys, ServiceDirectory directory, CancellationToken cancellationToken)
    {
        var serverKeys = await directory.GetServerKeysAsync(cancellationToken).ConfigureAwait(false);
        var body = new ServiceKeys(Base64Std.Encode(keys.Key.PublicKey.ToSpki()),
            serverKeys.ToDictionary(k => k.Key, k => Base64Std.Encode(k.Value), StringComparer.Ordinal));
        return HttpIo.Json(body);
    }

    static async Task<IResult> EstablishAsync(HttpRequest request, DeviceSessionService sessions, IOptions<BffOptions> options, CancellationToken cancellationToken)
    {
        HttpIo.RequireContentType(request, HttpIo.JsonMediaType);
        var body = await HttpIo.ReadBodyAsync(request, options.Value.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        var created = await sessions.EstablishAsync(body, cancellationToken).ConfigureAwait(false);
        return HttpIo.Json(created, StatusCodes.Status201Created);
    }

    static async Task<IResult> ServiceAsync(HttpContext http, DeviceSessionService sessions, R2psServiceClient client, BffRateLimits limits,
        IOptions<BffOptions> options, CancellationToken cancellationToken)
    {
        HttpIo.RequireContentType(http.Request, HttpIo.JoseMediaType);
        var body = HttpIo.Ascii(await HttpIo.ReadBodyAsync(http.Request, options.Value.MaxBodyBytes, cancellationToken).ConfigureAwait(false));
        var (session, envelope, context) = await sessions.OpenCallAsync(body, cancellationToken).ConfigureAwait(false);
        using (session)
        {
            // The client is known from the device session; limited before the broker and the worker's HSM work.
            limits.AcquireForClient(session.ClientId);
            var reply = await client.SendAsync(context, envelope, cancellationToken).ConfigureAwait(false);
            return reply.Status == StatusCodes.Status200OK
                ? Results.Text(DeviceSessionService.WrapResponse(session, reply.Body), HttpIo.JoseMediaType, Encoding.ASCII)
                : HttpIo.Passthrough(reply.Status, reply.Body, HttpIo.JsonMediaType);
        }
    }

    static async Task<IResult> PlainAsync(HttpRequest request, R2psServiceClient client, BffRateLimits limits, IOptions<BffOptions> options,
        CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.PlainR2psEnabled)
            return HttpIo.Error(ErrorCode.AccessDenied, "The plain R2PS route is disabled here; use a device session (/r2ps/v1/device-sessions).");
        HttpIo.RequireContentType(request, HttpIo.JoseMediaType);
        var envelope = HttpIo.Ascii(await HttpIo.ReadBodyAsync(request, settings.MaxEnvelopeBytes, cancellationToken).ConfigureAwait(false));
        var payload = ServerEnvelope.Parse(envelope, settings.MaxEnvelopeBytes).Payload;
        // The (unverified) client_id of the envelope: limited before the broker round trip and the worker's checks.
        limits.AcquireForClient(payload.ClientId);
        var context = payload.Context;
        var reply = await client.SendAsync(context, envelope, cancellationToken).ConfigureAwait(false);
        return HttpIo.Passthrough(reply.Status, reply.Body, reply.Status == StatusCodes.Status200OK ? HttpIo.JoseMediaType : HttpIo.JsonMediaType);
    }

    static async Task<IResult> RegisterAsync(HttpRequest request, ServiceDirectory directory, IOptions<AdminOptions> admin, CancellationToken cancellationToken)
    {
        if (Authorize(request, admin.Value) is { } refusal)
            return refusal;
        HttpIo.RequireContentType(request, HttpIo.JsonMediaType);
        var body = await HttpIo.ReadBodyAsync(request, MaxAdminBodyBytes, cancellationToken).ConfigureAwait(false);
        var registration = R2psJson.Deserialize<AdminRegisterRequest>(body, "client registration");
        if (!Base64Std.TryDecode(registration.PublicKey, out var spki))
            return HttpIo.Error(ErrorCode.IllegalRequestData, "public_key must be base64 of an SPKI DER public key.");
        var (code, codeHash) = NewRegistrationCode();
        var outcome = await directory.AdminAsync<RegisterClient, ClientRegistered>(
            new RegisterClient(registration.ClientId, registration.Kid, spki, registration.Contexts, codeHash), cancellationToken).ConfigureAwait(false);
        if (outcome is ClientRegistered)
            directory.ForgetUnknownDeviceKey(registration.ClientId, registration.Kid); // a miss cached a moment ago must not hide it
        return outcome switch
        {
            ClientRegistered done => HttpIo.Json(new AdminClientRegistered(done.ClientId, done.Kid, code,
                done.AuthorizationExpiresAt.ToUnixTimeSeconds(), Base64Std.Encode(done.ServerPublicKeySpki)), StatusCodes.Status201Created),
            AdminRequestRefused refused => Refused(refused),
            _ => HttpIo.Error(ErrorCode.ServerError, "The service answered unexpectedly."),
        };
    }

    // /admin/v1/clients/{client_id}/keys/{kid}[/authorization], read from the raw target: a kid is often base64, whose
    // '/' arrives as %2F, and only the raw target keeps "%2F" apart from "/".
    static async Task<IResult> AdminClientAsync(HttpContext http, ServiceDirectory directory, IOptions<AdminOptions> admin, CancellationToken cancellationToken)
    {
        if (Authorize(http.Request, admin.Value) is { } refusal)
            return refusal;
        var target = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? http.Request.Path.Value ?? string.Empty;
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? target : target[..query];
        if (!path.StartsWith(AdminClientsPrefix, StringComparison.Ordinal))
            return NoSuchEndpoint();
        var segments = path[AdminClientsPrefix.Length..].Split('/');
        if (segments.Length is not (3 or 4) || segments[1] != "keys" || (segments.Length == 4 && segments[3] != "authorization"))
            return NoSuchEndpoint();
        string clientId, kid;
        try
        {
            clientId = Uri.UnescapeDataString(segments[0]);
            kid = Uri.UnescapeDataString(segments[2]);
        }
        catch (UriFormatException)
        {
            return HttpIo.Error(ErrorCode.IllegalRequestData, "The path is not well encoded.");
        }

        if (!EnvelopeRules.IsIdentifier(clientId) || !EnvelopeRules.IsIdentifier(kid))
            return HttpIo.Error(ErrorCode.IllegalRequestData, "client_id and kid must be 1–256 printable ASCII characters without spaces.");

        var method = http.Request.Method;
        if (segments.Length == 4)
        {
            if (!HttpMethods.IsPost(method))
                return MethodNotAllowed();
            var (code, codeHash) = NewRegistrationCode();
            var outcome = await directory.AdminAsync<IssueRegistrationCode, RegistrationCodeIssued>(new IssueRegistrationCode(clientId, kid, codeHash), cancellationToken)
                .ConfigureAwait(false);
            return outcome switch
            {
                RegistrationCodeIssued done => HttpIo.Json(new AdminClientRegistered(done.ClientId, done.Kid, code,
                    done.AuthorizationExpiresAt.ToUnixTimeSeconds(), Base64Std.Encode(done.ServerPublicKeySpki)), StatusCodes.Status201Created),
                AdminRequestRefused refused => Refused(refused),
                _ => HttpIo.Error(ErrorCode.ServerError, "The service answered unexpectedly."),
            };
        }

        if (HttpMethods.IsDelete(method))
        {
            var outcome = await directory.AdminAsync<RevokeClient, ClientRevoked>(new RevokeClient(clientId, kid), cancellationToken).ConfigureAwait(false);
            return outcome switch
            {
                ClientRevoked done => Results.Json(new { client_id = done.ClientId, kid = done.Kid, revoked = true, sessions_ended = done.SessionsEnded }),
                AdminRequestRefused refused => Refused(refused),
                _ => HttpIo.Error(ErrorCode.ServerError, "The service answered unexpectedly."),
            };
        }

        if (HttpMethods.IsGet(method))
        {
            var status = await directory.GetStatusAsync(new GetClientStatus(clientId, kid), cancellationToken).ConfigureAwait(false);
            return HttpIo.Json(new AdminClientStatus(status.ClientId, status.Kid, status.Registered, status.PinSet,
                status.LockedUntil?.ToUnixTimeSeconds(), status.HsmKeyCount, status.SecretCount));
        }

        return MethodNotAllowed();
    }

    // From the probe's last report (ReadinessProbe), not by asking the workers on every call; the broker connection is
    // read live (a field read), so a broker that just went down shows at once.
    static async Task<IResult> ReadyAsync(IBusControl bus, ReadinessProbe probe, CancellationToken cancellationToken)
    {
        var broker = bus.CheckHealth().Status == BusHealthStatus.Healthy;
        var report = await probe.CurrentAsync(cancellationToken).ConfigureAwait(false);
        var workers = broker && report.Workers;
        var checks = new { broker, store = report.Store, workers };
        return broker && report.Store && workers
            ? Results.Json(new { status = "ready", checks })
            : Results.Json(new { error_code = ErrorCode.ServiceUnavailable.ToWire(), error_message = "Not ready.", checks },
                statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// Checks <c>Authorization: Bearer &lt;Admin:Token&gt;</c> in constant time (SHA-256 of both, so the length does not leak
    /// either). Null when authorized; otherwise the answer: 503 when no token is configured, 401 when it is missing or wrong.
    /// </summary>
    /// <summary>
    /// A one-time registration code from the CSPRNG (base64, for the admin caller only) and its SHA-256, which is all
    /// the worker gets: ARCHITECTURE.md keeps secrets off the broker, and the store keeps only the hash anyway.
    /// </summary>
    static (string Code, byte[] Hash) NewRegistrationCode()
    {
        var code = RandomNumberGenerator.GetBytes(RegistrationCodeBytes);
        try
        {
            return (Base64Std.Encode(code), SHA256.HashData(code));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(code);
        }
    }

    static IResult? Authorize(HttpRequest request, AdminOptions admin)
    {
        if (!admin.Enabled)
            return HttpIo.Error(ErrorCode.ServiceUnavailable, "The admin API is disabled: no Admin:Token is configured.");
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        var presented = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : string.Empty;
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(admin.Token!));
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        if (presented.Length > 0 && CryptographicOperations.FixedTimeEquals(expected, given))
            return null;
        request.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        return HttpIo.Error(ErrorCode.Unauthorized, "A valid admin bearer token is required.");
    }

    static IResult Refused(AdminRequestRefused refused) =>
        ErrorCodes.TryFromWire(refused.ErrorCode, out var code)
            ? HttpIo.Error(code, refused.Message)
            : HttpIo.Error(ErrorCode.ServerError, "The service refused with an unknown error code.");

    static IResult NoSuchEndpoint() => HttpIo.Error(ErrorCode.IllegalRequestData, "No such endpoint.", StatusCodes.Status404NotFound);

    static IResult MethodNotAllowed() => HttpIo.Error(ErrorCode.IllegalRequestData, "Method not allowed here.", StatusCodes.Status405MethodNotAllowed);

    static IResult Translate(HttpContext http, Exception exception)
    {
        switch (exception)
        {
            case RateLimitedException limited:
                http.Response.Headers.RetryAfter = BffRateLimits.RetryAfterSeconds(limited.RetryAfter);
                return RateLimitedException.Answer(limited.Message);
            case DeviceSessionRejectedException rejected:
                http.Response.Headers.WWWAuthenticate = HttpIo.DeviceSessionChallenge;
                return HttpIo.Error(ErrorCode.Unauthorized, rejected.Message);
            case R2psException refusal:
                return HttpIo.Error(refusal.Code, refusal.Message);
            case BodyRejectedException body:
                return HttpIo.Error(body.Code, body.Message, body.Status);
            case BadHttpRequestException bad:
                // Kestrel's own limits (body too large, malformed framing).
                return HttpIo.Error(ErrorCode.IllegalRequestData, "The request could not be read.", bad.StatusCode);
            case var _ when DatabaseUnavailable.Is(exception):
                // The device-session database is down or restarting: retry later, as with a broker that is down.
                return HttpIo.Error(ErrorCode.ServiceUnavailable, DatabaseUnavailable.Message);
            default:
                LogUnexpected(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BffEndpoints)), exception, http.Request.Path);
                return HttpIo.Error(ErrorCode.ServerError, "Unexpected fault.");
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected fault on {Path}")]
    static partial void LogUnexpected(ILogger logger, Exception exception, string path);
}
