using System.Text;

namespace R2ps.Hsm;

/// <summary>
/// Where the HSM is and how to log in. Bind from configuration section <see cref="SectionName"/>; exactly one PIN
/// source must be set (the PIN itself, an environment variable's name, or a file holding it).
/// </summary>
public sealed class HsmOptions
{
    public const string SectionName = "Hsm";

    /// <summary>Path of the PKCS#11 module (the shared library).</summary>
    public string ModulePath { get; set; } = "/usr/lib/softhsm/libsofthsm2.so";

    /// <summary>Label of the token to use (CK_TOKEN_INFO.label, without its blank padding).</summary>
    public string TokenLabel { get; set; } = "r2ps";

    /// <summary>The user PIN itself (development; prefer the environment variable or the file).</summary>
    public string? UserPin { get; set; }

    /// <summary>Name of an environment variable that holds the user PIN, e.g. R2PS_HSM_PIN.</summary>
    public string? UserPinEnvironmentVariable { get; set; }

    /// <summary>A file whose content (trailing line break ignored) is the user PIN, e.g. a mounted secret.</summary>
    public string? UserPinFile { get; set; }

    /// <summary>Sessions in the pool: the number of HSM operations that can run at once.</summary>
    public int SessionPoolSize { get; set; } = 8;

    /// <summary>How long an operation waits for a free session before <see cref="HsmBusyException"/>.</summary>
    public TimeSpan SessionWaitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Label of the service's P-256 server key.</summary>
    public string ServerKeyLabel { get; set; } = "r2ps-server-key";

    /// <summary>Label of the AES-256 key that seals session keys and other small secrets.</summary>
    public string SealingKeyLabel { get; set; } = "r2ps-sealing-key";

    /// <summary>
    /// Use the service keys (server key, sealing key) through in-memory session-object copies made at start (C_CopyObject,
    /// CKA_TOKEN false; the key never leaves the module). SoftHSM2 re-reads a token object's file on every use of it;
    /// a session object is not re-read. A module that refuses the copy is used through the token object regardless.
    /// </summary>
    public bool SessionCopiesOfServiceKeys { get; set; } = true;

    /// <summary>Every problem with these options; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ModulePath)) problems.Add("Hsm:ModulePath is required.");
        if (string.IsNullOrWhiteSpace(TokenLabel)) problems.Add("Hsm:TokenLabel is required.");
        else if (Encoding.UTF8.GetByteCount(TokenLabel) > 32) problems.Add("Hsm:TokenLabel is at most 32 UTF-8 bytes.");
        var pinSources = (UserPin is not null ? 1 : 0) + (UserPinEnvironmentVariable is not null ? 1 : 0) + (UserPinFile is not null ? 1 : 0);
        if (pinSources != 1) problems.Add("Exactly one of Hsm:UserPin, Hsm:UserPinEnvironmentVariable and Hsm:UserPinFile must be set.");
        if (SessionPoolSize is < 1 or > 1024) problems.Add("Hsm:SessionPoolSize must be between 1 and 1024.");
        if (SessionWaitTimeout <= TimeSpan.Zero || SessionWaitTimeout > TimeSpan.FromMinutes(5)) problems.Add("Hsm:SessionWaitTimeout must be positive and at most 5 minutes.");
        if (string.IsNullOrWhiteSpace(ServerKeyLabel)) problems.Add("Hsm:ServerKeyLabel is required.");
        if (string.IsNullOrWhiteSpace(SealingKeyLabel)) problems.Add("Hsm:SealingKeyLabel is required.");
        if (ServerKeyLabel == SealingKeyLabel) problems.Add("Hsm:ServerKeyLabel and Hsm:SealingKeyLabel must differ.");
        foreach (var label in new[] { ServerKeyLabel, SealingKeyLabel })
            if (label?.StartsWith(ClientKeyLabel.Prefix, StringComparison.Ordinal) == true) problems.Add($"Service key labels must not start with '{ClientKeyLabel.Prefix}'.");
        return problems;
    }

    /// <summary>Throws <see cref="HsmConfigurationException"/> listing every problem.</summary>
    public void ThrowIfInvalid()
    {
        var problems = Validate();
        if (problems.Count > 0) throw new HsmConfigurationException(HsmBootFailure.InvalidOptions, "Invalid HSM options: " + string.Join(" ", problems));
    }

    /// <summary>The user PIN as UTF-8 bytes, from its one source. The caller zeroes the array.</summary>
    internal byte[] ResolveUserPin()
    {
        string? pin;
        if (UserPin is not null)
        {
            pin = UserPin;
        }
        else if (UserPinEnvironmentVariable is not null)
        {
            pin = Environment.GetEnvironmentVariable(UserPinEnvironmentVariable);
            if (pin is null) throw new HsmConfigurationException(HsmBootFailure.PinUnavailable, $"The environment variable '{UserPinEnvironmentVariable}' named by Hsm:UserPinEnvironmentVariable is not set.");
        }
        else
        {
            try
            {
                pin = File.ReadAllText(UserPinFile!).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new HsmConfigurationException(HsmBootFailure.PinUnavailable, $"The user PIN file '{UserPinFile}' could not be read: {e.GetType().Name}.", e);
            }
        }
        if (pin.Length == 0) throw new HsmConfigurationException(HsmBootFailure.PinUnavailable, "The configured user PIN is empty.");
        return Encoding.UTF8.GetBytes(pin);
    }
}
