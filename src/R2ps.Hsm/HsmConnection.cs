using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
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
/// <para>
/// Waiting for a session is asynchronous (<see cref="RunAsync{T}"/>: no thread is held while waiting), first come first
/// served, for at most <see cref="HsmOptions.SessionWaitTimeout"/>; then <see cref="HsmBusyException"/>. The PKCS#11
/// call itself is synchronous on the thread that got the session. At most <see cref="PoolSize"/> threads are ever
/// inside the module. <see cref="Run{T}"/> waits by blocking and serves only synchronous interfaces
/// (<c>IEcPrivateKey</c>, which protocol code calls synchronously).
/// </para>
/// <para>
/// <see cref="Dispose"/> may race with operations on other threads: it stops handing out sessions (waiting and later
/// callers get <see cref="ObjectDisposedException"/>), waits up to the session wait timeout for the operations in
/// flight to return their sessions, and only then logs out, closes and finalises. An operation still in the module
/// after that wait (a hung HSM) is not finalised under: the teardown then runs when it returns.
/// </para>
/// </remarks>
public sealed class HsmConnection : IDisposable
{
    private readonly Pkcs11Module _module;
    private readonly ISlot _slot;
    private readonly ISession _loginSession;
    private readonly ConcurrentBag<ISession> _idle = [];
    private readonly SessionGate _gate;
    private readonly TimeSpan _waitTimeout;
    private readonly bool _sessionCopies;
    private readonly Lock _loginSessionLock = new();
    private IObjectHandle? _tokenAnchor;
    private int _disposed;
    private int _tornDown;

    private HsmConnection(Pkcs11Module module, ISlot slot, ISession loginSession, HsmOptions options)
    {
        _module = module;
        _slot = slot;
        _loginSession = loginSession;
        _gate = new SessionGate(options.SessionPoolSize);
        _waitTimeout = options.SessionWaitTimeout;
        _sessionCopies = options.SessionCopiesOfServiceKeys;
        TokenLabel = options.TokenLabel;
        PoolSize = options.SessionPoolSize;
    }

    public string TokenLabel { get; }

    public int PoolSize { get; }

    internal Pkcs11Module Module => _module;

    /// <summary>Sessions currently in use by operations (for tests).</summary>
    internal int SessionsInUse => _gate.Held;

    /// <summary>Callers waiting for a session (for tests).</summary>
    internal int SessionWaiters => _gate.Waiting;

    /// <summary>True once logout, close and C_Finalize (or the module release) are done.</summary>
    internal bool IsTornDown => Volatile.Read(ref _tornDown) != 0;

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
            ulong? claimedSlot = null;
            ISession? loginSession = null;
            try
            {
                var slot = FindToken(module, options.TokenLabel);
                if (!module.TryClaimSlot(slot.SlotId))
                    throw new HsmConfigurationException(HsmBootFailure.InvalidOptions, $"Token '{options.TokenLabel}' is already open in this process; share its HsmConnection.");
                claimedSlot = slot.SlotId;
                loginSession = Translate(() => slot.OpenSession(SessionType.ReadWrite));
                Login(loginSession, options.TokenLabel, pin);
                var connection = new HsmConnection(module, slot, loginSession, options);
                // Prove a pooled session works too, and keep it (nobody else can hold one yet: this never waits).
                connection.Run(_ => 0);
                return connection;
            }
            catch
            {
                CloseQuietly(loginSession);
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

    private static ISlot FindToken(Pkcs11Module module, string label)
    {
        var found = new List<ISlot>();
        var seen = new List<string>();
        foreach (var slot in RetryWhileTokenRewritten(() => module.Library.GetSlotList(SlotsType.WithTokenPresent)))
        {
            var info = RetryWhileTokenRewritten(slot.GetTokenInfo);
            if (!info.TokenFlags.TokenInitialized) continue;
            var tokenLabel = info.Label.TrimEnd(' ', '\0');
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

    /// <summary>Boot calls tried when the module answers CKR_GENERAL_ERROR, and the pause before each new try.</summary>
    internal const int BootAttempts = 3;
    internal static readonly TimeSpan BootRetryPause = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// A boot-time PKCS#11 call, tried again briefly when the module answers CKR_GENERAL_ERROR. Busy-core CI runs had a
    /// worker's first login, and another's token lookup (C_GetTokenInfo), answered so while another process was starting
    /// on the same fresh SoftHSM2 token: its token file is rewritten under the readers. A failure that persists past
    /// <paramref name="attempts"/> still fails the boot; any other error fails it at once.
    /// </summary>
    internal static T RetryWhileTokenRewritten<T>(Func<T> call, int attempts = BootAttempts, TimeSpan? pause = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return Translate(call);
            }
            catch (HsmPkcs11Exception e) when (e.ReturnValue == CKR.CKR_GENERAL_ERROR && attempt < attempts)
            {
                Thread.Sleep(pause ?? BootRetryPause);
            }
        }
    }

    private static void Login(ISession session, string label, byte[] pin)
    {
        try
        {
            RetryWhileTokenRewritten(() =>
            {
                session.Login(CKU.CKU_USER, pin);
                return 0;
            });
        }
        catch (HsmPkcs11Exception e) when (e.ReturnValue == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            // Logged in by another user of the module in this process: the login is already ours to use.
        }
        catch (HsmPkcs11Exception e) when (e.ReturnValue == CKR.CKR_PIN_INCORRECT)
        {
            throw new HsmConfigurationException(HsmBootFailure.WrongPin, $"Login to token '{label}' failed: the user PIN is wrong ({e.ReturnValueName}).", e);
        }
        catch (HsmPkcs11Exception e) when (e.ReturnValue is CKR.CKR_PIN_LOCKED or CKR.CKR_USER_PIN_NOT_INITIALIZED)
        {
            throw new HsmConfigurationException(HsmBootFailure.PinUnusable, $"Login to token '{label}' failed: {e.ReturnValueName}.", e);
        }
        catch (HsmPkcs11Exception e)
        {
            throw new HsmConfigurationException(HsmBootFailure.WrongPin, $"Login to token '{label}' failed: {e.Message}", e);
        }
    }

    /// <summary>Runs a Pkcs11Interop call, its <see cref="Net.Pkcs11Interop.Common.Pkcs11Exception"/> made our typed one.</summary>
    internal static T Translate<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Net.Pkcs11Interop.Common.Pkcs11Exception e)
        {
            throw HsmPkcs11Exception.From(e);
        }
    }

    internal static void Translate(Action call) => Translate(() =>
    {
        call();
        return 0;
    });

    /// <summary>
    /// Runs <paramref name="operation"/> on a session of its own, waiting for one without holding a thread. A session
    /// on which a PKCS#11 call failed is closed rather than reused: it may hold an unfinished operation or have lost
    /// its token. Pkcs11Interop's errors come out as <see cref="HsmPkcs11Exception"/>.
    /// </summary>
    internal async ValueTask<T> RunAsync<T>(Func<ISession, T> operation, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            CheckEntry(await _gate.EnterAsync(_waitTimeout, cancellationToken).ConfigureAwait(false));
            return RunEntered(operation);
        }
        finally
        {
            HsmMetrics.RecordOperation(started);
        }
    }

    /// <summary>
    /// <see cref="RunAsync{T}"/> for synchronous callers only (the <c>IEcPrivateKey</c> members, the self-test): when
    /// every session is busy, this blocks its thread for up to the wait timeout.
    /// </summary>
    internal T Run<T>(Func<ISession, T> operation)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            CheckEntry(_gate.Enter(_waitTimeout));
            return RunEntered(operation);
        }
        finally
        {
            HsmMetrics.RecordOperation(started);
        }
    }

    /// <summary>
    /// The handle to use for a long-lived service key: an in-memory session-object copy of the token object
    /// <paramref name="tokenObject"/> (<see cref="HsmOptions.SessionCopiesOfServiceKeys"/>), or the token object itself
    /// when copies are off or the module refuses one (CKA_COPYABLE false, no C_CopyObject: any PKCS#11 error).
    /// </summary>
    /// <remarks>
    /// Why: SoftHSM2 opens, locks and reads the token's generation file and the object's own file on every operation
    /// that names a token object, which is most of a sign's cost in the module. The copy is made in the login session,
    /// so it lives exactly as long as this connection (session objects end with the session that made it) and is
    /// shared by every pooled session; its value stays inside the module, private, sensitive and non-extractable like
    /// the original. Service keys are not destroyed while a process runs, so the copy cannot outlive its original's
    /// meaning; client keys, which other workers delete, are never copied.
    /// </remarks>
    internal async ValueTask<IObjectHandle> WorkingHandleAsync(IObjectHandle tokenObject, CancellationToken cancellationToken = default)
    {
        if (!_sessionCopies) return tokenObject;
        // Entering the gate keeps Dispose from logging out and closing the login session under the copy.
        CheckEntry(await _gate.EnterAsync(_waitTimeout, cancellationToken).ConfigureAwait(false));
        try
        {
            var factory = _loginSession.Factories.ObjectAttributeFactory;
            List<IObjectAttribute> template = [factory.Create(CKA.CKA_TOKEN, false)];
            try
            {
                lock (_loginSessionLock)
                lock (_module.ObjectLifecycleLock)
                {
                    var copy = Translate(() => _loginSession.CopyObject(tokenObject, template));
                    _tokenAnchor ??= tokenObject;
                    return copy;
                }
            }
            catch (HsmPkcs11Exception)
            {
                return tokenObject;
            }
            finally
            {
                Pkcs11Mechanisms.DisposeAll(template);
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// Makes the module take in token objects other processes have created or destroyed, before this process creates
    /// one. <see cref="RunSerialisedAsync{T}"/>, which every token-object creation goes through, calls it first.
    /// </summary>
    /// <remarks>
    /// SoftHSM2 2.6.1 (OSToken.cpp) re-reads the token directory only when the token's generation file differs from the
    /// value it last saw, and creating or destroying an object commits that file: it adds one to what is on disk and
    /// remembers the sum. A process that creates an object without having looked at the token since another process
    /// created one thus takes in that count without the object, and does not see that object until a third process
    /// changes the token. Two workers met it as "The key is unknown." for a key the other had just made. Any operation
    /// naming a token object makes the module look first (C_GetAttributeValue checks the object, which indexes its
    /// token), and so does C_FindObjectsInit; the per-request token-object use that used to do it by the way is gone
    /// with the in-memory copies of the service keys. Destroying a client key needs no call here: the key is looked up
    /// or re-checked on the token just before. A creation in another process between this look and the creation is
    /// still missed; that window is two PKCS#11 calls wide.
    /// </remarks>
    private void SeeOtherProcessesObjects(ISession session)
    {
        if (Volatile.Read(ref _tokenAnchor) is { } anchor)
        {
            try
            {
                Pkcs11Mechanisms.GetAttributes(session, anchor, [CKA.CKA_TOKEN]);
                return;
            }
            catch (Net.Pkcs11Interop.Common.Pkcs11Exception)
            {
                // The anchor is gone (destroyed elsewhere): the search below looks at the token as well.
            }
        }
        List<IObjectAttribute> nothing =
        [
            session.Factories.ObjectAttributeFactory.Create(CKA.CKA_CLASS, CKO.CKO_DATA),
            session.Factories.ObjectAttributeFactory.Create(CKA.CKA_LABEL, "r2ps-token-view"),
        ];
        Pkcs11Mechanisms.FindObjects(session, nothing, 1);
    }

    /// <summary>
    /// Runs a token-object creation or destruction, serialised process-wide (see <see cref="Pkcs11Module.ObjectLifecycleLock"/>),
    /// after <see cref="SeeOtherProcessesObjects"/>: every creation through here first takes in other processes' objects.
    /// </summary>
    internal ValueTask<T> RunSerialisedAsync<T>(Func<ISession, T> operation, CancellationToken cancellationToken = default) => RunAsync(session =>
    {
        lock (_module.ObjectLifecycleLock)
        {
            SeeOtherProcessesObjects(session);
            return operation(session);
        }
    }, cancellationToken);

    private void CheckEntry(GateEntry entry)
    {
        switch (entry)
        {
            case GateEntry.Closed:
                throw new ObjectDisposedException(GetType().FullName);
            case GateEntry.TimedOut:
                throw new HsmBusyException($"No HSM session became free within {_waitTimeout.TotalSeconds:0.###} s (pool of {PoolSize}).");
        }
    }

    private T RunEntered<T>(Func<ISession, T> operation)
    {
        // Holding a permit keeps the module initialised: Dispose tears down only once every permit is back.
        ISession? session = null;
        try
        {
            if (!_idle.TryTake(out session)) session = Translate(() => _slot.OpenSession(SessionType.ReadWrite));
            var result = Translate(() => operation(session));
            _idle.Add(session);
            session = null;
            return result;
        }
        catch (HsmPkcs11Exception)
        {
            CloseQuietly(session);
            session = null;
            throw;
        }
        finally
        {
            // A non-PKCS#11 failure (e.g. a caller's validation) leaves the session clean: keep it.
            if (session is not null) _idle.Add(session);
            _gate.Exit();
        }
    }

    private static void CloseQuietly(ISession? session)
    {
        if (session is null) return;
        try
        {
            session.Dispose(); // C_CloseSession
        }
        catch (Net.Pkcs11Interop.Common.Pkcs11Exception)
        {
            // The session is gone already (token removed, handle invalid): nothing is left to close.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _gate.Close();
        // C_Logout/C_Finalize under a running C_Sign is undefined behaviour in PKCS#11 (use after free in the module).
        if (_gate.Drained.Wait(_waitTimeout)) TearDown();
        else _ = _gate.Drained.ContinueWith(_ => TearDown(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Runs once, with no operation in flight: closes the pooled sessions, logs out and releases the module.</summary>
    private void TearDown()
    {
        if (Interlocked.Exchange(ref _tornDown, 1) != 0) return;
        while (_idle.TryTake(out var session)) CloseQuietly(session);
        try
        {
            _loginSession.Logout();
        }
        catch (Net.Pkcs11Interop.Common.Pkcs11Exception)
        {
            // Already logged out (token removed, module finalised elsewhere): closing is all that is left.
        }
        CloseQuietly(_loginSession);
        _module.ReleaseSlot(_slot.SlotId);
        _module.Release();
    }
}
