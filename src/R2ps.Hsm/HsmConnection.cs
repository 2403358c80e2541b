using System.Collections.Concurrent;
using System.Security.Cryptography;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm;

/// <summary>
/// The process's logged-in connection to one token: the module initialised once, the token found by label, the user
/// logged in, and a bounded pool of sessions. Each operation runs on a session of its own (sessions are never shared
/// between threads); waiting for one is bounded by <see cref="HsmOptions.SessionWaitTimeout"/>.
/// </summary>
/// <remarks>
/// PKCS#11 login state belongs to the application and token, not to a session, and it ends when the token's last
/// session closes. So one extra session opened at start holds the login for the connection's lifetime, and a pooled
/// session that failed is closed and replaced without logging out everybody.
/// </remarks>
public sealed class HsmConnection : IDisposable
{
    private readonly Pkcs11Module _module;
    private readonly Pkcs11Session _loginSession;
    private readonly ConcurrentBag<Pkcs11Session> _idle = [];
    private readonly SemaphoreSlim _available;
    private readonly TimeSpan _waitTimeout;
    private int _disposed;

    private HsmConnection(Pkcs11Module module, nuint slot, Pkcs11Session loginSession, HsmOptions options)
    {
        _module = module;
        Slot = slot;
        _loginSession = loginSession;
        _available = new SemaphoreSlim(options.SessionPoolSize, options.SessionPoolSize);
        _waitTimeout = options.SessionWaitTimeout;
        TokenLabel = options.TokenLabel;
        PoolSize = options.SessionPoolSize;
    }

    public string TokenLabel { get; }

    public int PoolSize { get; }

    internal nuint Slot { get; }

    internal Pkcs11Module Module => _module;

    /// <summary>
    /// Validates the options, loads and initialises the module, finds the token and logs in. Every failure is a
    /// <see cref="HsmConfigurationException"/> whose <see cref="HsmConfigurationException.Failure"/> says which step.
    /// </summary>
    public static HsmConnection Open(HsmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        var pin = options.ResolveUserPin();
        try
        {
            var module = Pkcs11Module.Acquire(options.ModulePath);
            nuint? claimedSlot = null;
            Pkcs11Session? loginSession = null;
            try
            {
                var slot = FindToken(module, options.TokenLabel);
                if (!module.TryClaimSlot(slot))
                    throw new HsmConfigurationException(HsmBootFailure.InvalidOptions, $"Token '{options.TokenLabel}' is already open in this process; share its HsmConnection.");
                claimedSlot = slot;
                loginSession = module.OpenSession(slot);
                Login(module, loginSession, options.TokenLabel, pin);
                var connection = new HsmConnection(module, slot, loginSession, options);
                // Prove a pooled session works too, and keep it.
                connection.Run(_ => 0);
                return connection;
            }
            catch
            {
                loginSession?.Dispose();
                if (claimedSlot is { } s) module.ReleaseSlot(s);
                module.Release();
                throw;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pin);
        }
    }

    private static nuint FindToken(Pkcs11Module module, string label)
    {
        var found = new List<nuint>();
        var seen = new List<string>();
        foreach (var slot in module.GetSlotList(tokenPresent: true))
        {
            var (tokenLabel, flags) = module.GetTokenInfo(slot);
            if ((flags & Ck.CKF_TOKEN_INITIALIZED) == 0) continue;
            seen.Add(tokenLabel);
            if (tokenLabel == label) found.Add(slot);
        }
        return found.Count switch
        {
            1 => found[0],
            0 => throw new HsmConfigurationException(HsmBootFailure.TokenNotFound,
                $"No initialised token labelled '{label}' in PKCS#11 module '{module.Path}' (tokens present: {(seen.Count == 0 ? "none" : string.Join(", ", seen.Select(l => $"'{l}'")))})."),
            _ => throw new HsmConfigurationException(HsmBootFailure.TokenNotFound, $"{found.Count} tokens are labelled '{label}'; labels must be unique."),
        };
    }

    private static void Login(Pkcs11Module module, Pkcs11Session session, string label, byte[] pin)
    {
        try
        {
            module.Login(session.Id, Ck.CKU_USER, pin);
        }
        catch (Pkcs11Exception e) when (e.ReturnValue == Pkcs11ReturnValues.CKR_USER_ALREADY_LOGGED_IN)
        {
            // Logged in by another user of the module in this process: the login is already ours to use.
        }
        catch (Pkcs11Exception e) when (e.ReturnValue == Pkcs11ReturnValues.CKR_PIN_INCORRECT)
        {
            throw new HsmConfigurationException(HsmBootFailure.WrongPin, $"Login to token '{label}' failed: the user PIN is wrong ({e.ReturnValueName}).", e);
        }
        catch (Pkcs11Exception e) when (e.ReturnValue is Pkcs11ReturnValues.CKR_PIN_LOCKED or Pkcs11ReturnValues.CKR_USER_PIN_NOT_INITIALIZED)
        {
            throw new HsmConfigurationException(HsmBootFailure.PinUnusable, $"Login to token '{label}' failed: {e.ReturnValueName}.", e);
        }
        catch (Pkcs11Exception e)
        {
            throw new HsmConfigurationException(HsmBootFailure.WrongPin, $"Login to token '{label}' failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on a session of its own. A session on which a PKCS#11 call failed is closed
    /// rather than reused: it may hold an unfinished operation or have lost its token.
    /// </summary>
    internal T Run<T>(Func<Pkcs11Session, T> operation)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!_available.Wait(_waitTimeout))
            throw new HsmBusyException($"No HSM session became free within {_waitTimeout.TotalSeconds:0.###} s (pool of {PoolSize}).");
        Pkcs11Session? session = null;
        try
        {
            if (!_idle.TryTake(out session)) session = _module.OpenSession(Slot);
            var result = operation(session);
            if (Volatile.Read(ref _disposed) == 0) _idle.Add(session);
            else session.Dispose();
            session = null;
            return result;
        }
        catch (Pkcs11Exception)
        {
            session?.Dispose();
            session = null;
            throw;
        }
        finally
        {
            // A non-PKCS#11 failure (e.g. a caller's validation) leaves the session clean: keep it.
            if (session is not null) _idle.Add(session);
            _available.Release();
        }
    }

    internal void Run(Action<Pkcs11Session> operation) => Run(session =>
    {
        operation(session);
        return 0;
    });

    /// <summary>Runs a token-object creation or destruction, serialised process-wide (see <see cref="Pkcs11Module.ObjectLifecycleLock"/>).</summary>
    internal T RunSerialised<T>(Func<Pkcs11Session, T> operation) => Run(session =>
    {
        lock (_module.ObjectLifecycleLock) return operation(session);
    });

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        while (_idle.TryTake(out var session)) session.Dispose();
        try
        {
            _module.Logout(_loginSession.Id);
        }
        catch (Pkcs11Exception)
        {
            // Already logged out (token removed, module finalised elsewhere): closing is all that is left.
        }
        _loginSession.Dispose();
        _module.ReleaseSlot(Slot);
        _module.Release();
        // _available is not disposed: an operation still finishing may release it; it holds no kernel handle.
    }
}
