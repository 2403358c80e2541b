using MassTransit;
using Microsoft.Extensions.Options;
using R2ps.Contracts;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;
using R2ps.Messaging;
using R2ps.Protocol;
using R2ps.Protocol.Envelopes;
using R2ps.Service.Ports;
using R2ps.Sessions;
using R2ps.Store;
using StoreAuditLog = R2ps.Store.IAuditLog;

namespace R2ps.Worker.Admin;

/// <summary>
/// The HSM service's side of PROTOCOL.md 2.4 and of the BFF's lookups: register a device key (and issue its one-time
/// code), issue a fresh code, revoke, report status, find a device key. Every administrative action, refused or not, is
/// appended to the audit log with a pseudo type (<c>admin_register</c>, <c>admin_new_code</c>, <c>admin_revoke</c>,
/// <c>admin_status</c>). Refusals carry an R2PS error code and a message safe to show.
/// </summary>
public sealed class ClientAdministration
{
    /// <summary>How long a registration waits for another context's workers to name their server key.</summary>
    static readonly TimeSpan ServerKeyLookupTimeout = TimeSpan.FromSeconds(5);

    readonly IClientRegistry _registry;
    readonly IRegistrationCodeStore _codes;
    readonly IHsmKeyStore _keys;
    readonly ISecretStore _secrets;
    readonly ISignSessionCommands _sessions;
    readonly StoreAuditLog _audit;
    readonly IServerKeys _serverKeys;
    readonly IBus _bus;
    readonly WorkerOptions _worker;
    readonly TimeProvider _time;

    /// <summary>Creates the service over the shared store, the saga's commands and this worker's server key.</summary>
    public ClientAdministration(IClientRegistry registry, IRegistrationCodeStore codes, IHsmKeyStore keys, ISignSessionCommands sessions,
        StoreAuditLog audit, IServerKeys serverKeys, IBus bus, IOptions<WorkerOptions> worker, TimeProvider time, ISecretStore secrets)
    {
        ArgumentNullException.ThrowIfNull(worker);
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _codes = codes ?? throw new ArgumentNullException(nameof(codes));
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _secrets = secrets ?? throw new ArgumentNullException(nameof(secrets));
        _sessions = sessions ?? throw new ArgumentNullException(nameof(sessions));
        _audit = audit ?? throw new ArgumentNullException(nameof(audit));
        _serverKeys = serverKeys ?? throw new ArgumentNullException(nameof(serverKeys));
        _bus = bus ?? throw new ArgumentNullException(nameof(bus));
        _worker = worker.Value;
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <summary>Registers a P-256 device key for known contexts and issues its one-time code.</summary>
    /// <returns><see cref="ClientRegistered"/> or <see cref="AdminRequestRefused"/>.</returns>
    public async Task<object> RegisterAsync(RegisterClient command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        const string action = "admin_register";
        var firstContext = command.Contexts is { Count: > 0 } ? command.Contexts[0] : null;
        try
        {
            CheckIds(command.ClientId, command.Kid);
            CheckDeviceKey(command.PublicKeySpki);
            CheckCodeHash(command.RegistrationCodeHash);
            var contexts = CheckContexts(command.Contexts);

            try
            {
                await _registry.RegisterAsync(new ClientRegistration(command.ClientId, command.Kid, command.PublicKeySpki, contexts), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (ClientAlreadyRegisteredException e)
            {
                throw new R2psException(ErrorCode.IllegalState, "The client key is already registered; revoke it first.", e);
            }

            var expiresAt = await _codes.IssueHashedAsync(command.ClientId, command.Kid, command.RegistrationCodeHash, cancellationToken).ConfigureAwait(false)
                ?? throw new R2psException(ErrorCode.IllegalState, "The registration was revoked while it was being made.");
            var serverKey = await ServerKeyAsync(contexts[0], cancellationToken).ConfigureAwait(false);
            await AuditAsync(action, command.ClientId, command.Kid, firstContext, null, "registered", cancellationToken).ConfigureAwait(false);
            return new ClientRegistered(command.ClientId, command.Kid, expiresAt, serverKey);
        }
        catch (R2psException refusal)
        {
            await AuditAsync(action, command.ClientId, command.Kid, firstContext, refusal.Code, refusal.Message, cancellationToken).ConfigureAwait(false);
            return Refused(refusal);
        }
    }

    /// <summary>A fresh one-time code for an active registration (PIN reset), replacing any earlier one.</summary>
    /// <returns><see cref="RegistrationCodeIssued"/> or <see cref="AdminRequestRefused"/>.</returns>
    public async Task<object> IssueCodeAsync(IssueRegistrationCode command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        const string action = "admin_new_code";
        try
        {
            CheckIds(command.ClientId, command.Kid);
            CheckCodeHash(command.RegistrationCodeHash);
            var client = await _registry.FindAsync(command.ClientId, command.Kid, cancellationToken).ConfigureAwait(false)
                ?? throw new R2psException(ErrorCode.AccessDenied, "The client key is not registered.");
            var expiresAt = await _codes.IssueHashedAsync(command.ClientId, command.Kid, command.RegistrationCodeHash, cancellationToken).ConfigureAwait(false)
                ?? throw new R2psException(ErrorCode.AccessDenied, "The client key is not registered.");
            var serverKey = await ServerKeyAsync(client.Contexts[0], cancellationToken).ConfigureAwait(false);
            await AuditAsync(action, command.ClientId, command.Kid, client.Contexts[0], null, "code issued", cancellationToken).ConfigureAwait(false);
            return new RegistrationCodeIssued(command.ClientId, command.Kid, expiresAt, serverKey);
        }
        catch (R2psException refusal)
        {
            await AuditAsync(action, command.ClientId, command.Kid, null, refusal.Code, refusal.Message, cancellationToken).ConfigureAwait(false);
            return Refused(refusal);
        }
    }

    /// <summary>
    /// Revokes a registration, then ends its sign sessions through the saga. Revocation comes first: from then on every
    /// request of the key is denied, so a session cannot be used in between.
    /// </summary>
    /// <returns><see cref="ClientRevoked"/> or <see cref="AdminRequestRefused"/>.</returns>
    public async Task<object> RevokeAsync(RevokeClient command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        const string action = "admin_revoke";
        try
        {
            CheckIds(command.ClientId, command.Kid);
            if (!await _registry.RevokeAsync(command.ClientId, command.Kid, cancellationToken).ConfigureAwait(false))
                throw new R2psException(ErrorCode.AccessDenied, "The client key is not registered.");
            int ended;
            try
            {
                ended = await _sessions.EndClientSessionsAsync(command.ClientId, command.Kid, SignSessionEndReasons.Revoked, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (RequestTimeoutException e)
            {
                // Revoked all the same: every request of the key is denied, and the sessions expire by TTL.
                throw new R2psException(ErrorCode.ServiceUnavailable, "The client key is revoked, but its sessions could not be ended yet.", e);
            }

            await AuditAsync(action, command.ClientId, command.Kid, null, null, $"revoked, {ended} sessions ended", cancellationToken).ConfigureAwait(false);
            return new ClientRevoked(command.ClientId, command.Kid, ended);
        }
        catch (R2psException refusal)
        {
            await AuditAsync(action, command.ClientId, command.Kid, null, refusal.Code, refusal.Message, cancellationToken).ConfigureAwait(false);
            return Refused(refusal);
        }
    }

    /// <summary>Registered?, PIN set?, locked until?, HSM key count (keys belong to the <c>client_id</c>), stored vault
    /// secrets (they belong to the <c>(client_id, kid)</c>).</summary>
    public async Task<ClientStatusReported> GetStatusAsync(GetClientStatus query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!EnvelopeRules.IsIdentifier(query.ClientId) || !EnvelopeRules.IsIdentifier(query.Kid))
            return new ClientStatusReported(query.ClientId ?? string.Empty, query.Kid ?? string.Empty, false, false, null, 0);

        var status = await _registry.GetStatusAsync(query.ClientId, query.Kid, cancellationToken).ConfigureAwait(false);
        var active = status is { IsActive: true };
        var keyCount = active ? await _keys.CountAsync(query.ClientId, null, cancellationToken).ConfigureAwait(false) : 0;
        var secretCount = active ? await _secrets.CountAsync(query.ClientId, query.Kid, cancellationToken).ConfigureAwait(false) : 0;
        await AuditAsync("admin_status", query.ClientId, query.Kid, null, null, active ? "registered" : "not registered", cancellationToken)
            .ConfigureAwait(false);
        return new ClientStatusReported(query.ClientId, query.Kid, active, active && status!.PinSet, active ? status!.LockedUntil : null, keyCount, secretCount);
    }

    /// <summary>The active registration's device key, for the BFF's device sessions; unknown and revoked look alike.</summary>
    /// <returns><see cref="DeviceKeyFound"/> or <see cref="DeviceKeyNotFound"/>.</returns>
    public async Task<object> FindDeviceKeyAsync(GetDeviceKey query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!EnvelopeRules.IsIdentifier(query.ClientId) || !EnvelopeRules.IsIdentifier(query.Kid))
            return new DeviceKeyNotFound(query.ClientId ?? string.Empty, query.Kid ?? string.Empty);
        var client = await _registry.FindAsync(query.ClientId, query.Kid, cancellationToken).ConfigureAwait(false);
        return client is null
            ? new DeviceKeyNotFound(query.ClientId, query.Kid)
            : new DeviceKeyFound(client.ClientId, client.Kid, client.PublicKeySpki.ToArray(), client.Contexts);
    }

    static void CheckIds(string? clientId, string? kid)
    {
        if (!EnvelopeRules.IsIdentifier(clientId))
            throw new R2psException(ErrorCode.IllegalRequestData, $"client_id must be 1–{EnvelopeRules.MaxIdentifierLength} printable ASCII characters without spaces.");
        if (!EnvelopeRules.IsIdentifier(kid))
            throw new R2psException(ErrorCode.IllegalRequestData, $"kid must be 1–{EnvelopeRules.MaxIdentifierLength} printable ASCII characters without spaces.");
    }

    static void CheckCodeHash(byte[]? hash)
    {
        if (hash is not { Length: System.Security.Cryptography.SHA256.HashSizeInBytes })
            throw new R2psException(ErrorCode.IllegalRequestData, "The registration code hash must be a SHA-256 value.");
    }

    // PROTOCOL.md 1.1: device keys are P-256 (the same key signs, runs HPKE and hardens the PIN).
    static void CheckDeviceKey(byte[]? spki)
    {
        if (spki is null || spki.Length is 0 or > 1024 || !EcPublicKey.TryFromSpki(spki, out var key))
            throw new R2psException(ErrorCode.IllegalRequestData, "public_key is not a valid SPKI DER EC public key.");
        if (!ReferenceEquals(key.Curve, EcCurve.P256))
            throw new R2psException(ErrorCode.IllegalRequestData, "public_key must be a P-256 key.");
    }

    List<string> CheckContexts(IReadOnlyList<string>? contexts)
    {
        if (contexts is null || contexts.Count == 0)
            throw new R2psException(ErrorCode.IllegalRequestData, "contexts must name at least one context.");
        var known = _worker.EffectiveRegistrationContexts;
        var result = new List<string>(contexts.Count);
        foreach (var context in contexts)
        {
            if (context is null || !known.Contains(context, StringComparer.Ordinal))
                throw new R2psException(ErrorCode.IllegalRequestData, $"Unknown context; the known contexts are: {string.Join(", ", known)}.");
            if (!result.Contains(context, StringComparer.Ordinal))
                result.Add(context);
        }

        return result;
    }

    async Task<byte[]> ServerKeyAsync(string context, CancellationToken cancellationToken)
    {
        if (_serverKeys.Find(context) is { } local)
            return local.PublicKey.ToSpki();
        try
        {
            var client = _bus.CreateRequestClient<GetServerKey>(R2psQueues.RequestAddress(context),
                RequestTimeout.After(ms: (int)ServerKeyLookupTimeout.TotalMilliseconds));
            var response = await client.GetResponse<ServerKeyFound>(new GetServerKey(context), cancellationToken).ConfigureAwait(false);
            return response.Message.PublicKeySpki;
        }
        catch (RequestTimeoutException e)
        {
            throw new R2psException(ErrorCode.ServiceUnavailable, "No worker of the client's first context named its server key in time.", e);
        }
    }

    async Task AuditAsync(string action, string? clientId, string? kid, string? context, ErrorCode? error, string detail,
        CancellationToken cancellationToken)
    {
        await _audit.AppendAsync(new AuditEntry(
            _time.GetUtcNow(),
            _worker.ResolvedId,
            action,
            clientId,
            kid,
            context,
            error is null ? AuditOutcome.Success : AuditOutcome.Failure,
            ErrorCode: error?.ToWire(),
            Detail: detail), cancellationToken).ConfigureAwait(false);
    }

    static AdminRequestRefused Refused(R2psException refusal) => new(refusal.Code.ToWire(), refusal.Message);
}
