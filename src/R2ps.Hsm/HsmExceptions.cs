namespace R2ps.Hsm;

/// <summary>Base of every error this library raises on purpose. Messages never carry PINs or key material.</summary>
public abstract class HsmException : Exception
{
    protected HsmException()
    {
    }

    protected HsmException(string message)
        : base(message)
    {
    }

    protected HsmException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Why the HSM could not be opened at start-up.</summary>
public enum HsmBootFailure
{
    /// <summary>The options are incomplete or contradictory.</summary>
    InvalidOptions,

    /// <summary>The module file does not exist or the dynamic loader refused it.</summary>
    ModuleNotLoadable,

    /// <summary>The file loaded but is not a PKCS#11 module (no C_GetFunctionList) or C_Initialize failed.</summary>
    NotAPkcs11Module,

    /// <summary>No initialised token has the configured label.</summary>
    TokenNotFound,

    /// <summary>The user PIN was rejected.</summary>
    WrongPin,

    /// <summary>The user PIN is locked or was never set.</summary>
    PinUnusable,

    /// <summary>The user PIN could not be read from its configured source.</summary>
    PinUnavailable,
}

/// <summary>Start-up failure: a wrong module path, a missing token or a wrong PIN, saying which.</summary>
public sealed class HsmConfigurationException : HsmException
{
    public HsmConfigurationException(HsmBootFailure failure, string message, Exception? innerException = null)
        : base(message, innerException!)
    {
        Failure = failure;
    }

    public HsmConfigurationException()
        : this(HsmBootFailure.InvalidOptions, "Invalid HSM configuration.")
    {
    }

    public HsmConfigurationException(string message)
        : this(HsmBootFailure.InvalidOptions, message)
    {
    }

    public HsmConfigurationException(string message, Exception innerException)
        : this(HsmBootFailure.InvalidOptions, message, innerException)
    {
    }

    public HsmBootFailure Failure { get; }
}

/// <summary>
/// No key with that kid belongs to the caller. Raised alike for a kid that does not exist and for another owner's kid,
/// so that the answer does not tell one from the other (PROTOCOL.md 1.4: ACCESS_DENIED).
/// </summary>
public sealed class HsmKeyNotFoundException : HsmException
{
    public HsmKeyNotFoundException()
        : base("No HSM key with this kid belongs to this client.")
    {
    }

    public HsmKeyNotFoundException(string message)
        : base(message)
    {
    }

    public HsmKeyNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A request the HSM layer refuses before using a key: bad kid syntax, hash length, peer point or curve.</summary>
public sealed class HsmInvalidRequestException : HsmException
{
    public HsmInvalidRequestException()
        : base("Invalid HSM request.")
    {
    }

    public HsmInvalidRequestException(string message)
        : base(message)
    {
    }

    public HsmInvalidRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Every pooled session stayed busy for the whole wait timeout (PROTOCOL.md 1.2: SERVICE_UNAVAILABLE).</summary>
public sealed class HsmBusyException : HsmException
{
    public HsmBusyException()
        : base("No HSM session became free in time.")
    {
    }

    public HsmBusyException(string message)
        : base(message)
    {
    }

    public HsmBusyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
