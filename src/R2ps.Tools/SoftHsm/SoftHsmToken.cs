using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using R2ps.Hsm;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Tools.SoftHsm;

/// <summary>
/// Sets up SoftHSM2 tokens in a directory of their own (tests, the demo, compose): writes a
/// <c>softhsm2.conf</c> there, points SOFTHSM2_CONF at it, and initialises the token through Pkcs11Interop
/// (C_InitToken, then C_InitPIN as the security officer) — no softhsm2-util needed.
/// </summary>
/// <remarks>
/// SoftHSM2 reads SOFTHSM2_CONF once, at C_Initialize. .NET's Environment.SetEnvironmentVariable does not reach the
/// native environment on Unix, so the variable is also set with libc's setenv; call this at start-up, before any
/// thread could be reading the environment, and before the module is initialised for anything else.
/// </remarks>
public sealed partial class SoftHsmToken
{
    public const string DefaultModulePath = "/usr/lib/softhsm/libsofthsm2.so";
    public const string ConfigurationVariable = "SOFTHSM2_CONF";

    private SoftHsmToken(string directory, string configurationPath, string label, string modulePath, bool created)
    {
        Directory = directory;
        ConfigurationPath = configurationPath;
        Label = label;
        ModulePath = modulePath;
        Created = created;
    }

    public string Directory { get; }

    public string ConfigurationPath { get; }

    public string Label { get; }

    public string ModulePath { get; }

    /// <summary>False when a token with this label already existed (and was left unchanged).</summary>
    public bool Created { get; }

    /// <summary>Options for <see cref="HsmConnection.Open"/> on this token.</summary>
    public HsmOptions CreateOptions(string userPin, int sessionPoolSize = 8) => new()
    {
        ModulePath = ModulePath,
        TokenLabel = Label,
        UserPin = userPin,
        SessionPoolSize = sessionPoolSize,
    };

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds a SoftHSM2 token labelled <paramref name="label"/> with the given
    /// PINs, creating the configuration, the token store and the token as needed. Idempotent.
    /// </summary>
    public static SoftHsmToken Ensure(string directory, string label, string soPin, string userPin, string modulePath = DefaultModulePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        ArgumentException.ThrowIfNullOrEmpty(soPin);
        ArgumentException.ThrowIfNullOrEmpty(userPin);
        // Check-and-create under the directory's lock, or two processes starting at once both find no token and both
        // initialise a slot, leaving two tokens with this label.
        using var initialisation = FolderLock.Acquire(directory);
        var configurationPath = UseDirectory(directory);
        var module = Pkcs11Module.Acquire(modulePath);
        try
        {
            if (FindSlot(module, label, initialized: true) is not null)
                return new SoftHsmToken(Path.GetFullPath(directory), configurationPath, label, module.Path, created: false);
            var free = FindSlot(module, label: null, initialized: false)
                ?? throw new InvalidOperationException("SoftHSM2 offers no uninitialised slot; is SOFTHSM2_CONF pointing at this directory?");
            if (Encoding.UTF8.GetByteCount(label) > 32) throw new ArgumentException("A token label is at most 32 UTF-8 bytes.", nameof(label));
            var so = Encoding.UTF8.GetBytes(soPin);
            var user = Encoding.UTF8.GetBytes(userPin);
            try
            {
                // C_InitToken wants the label blank-padded to 32 bytes.
                free.InitToken(so, Encoding.UTF8.GetBytes(label.PadRight(32 - Encoding.UTF8.GetByteCount(label) + label.Length)));
                // SoftHSM2 moves an initialised token to a new slot id: look it up again.
                var slot = FindSlot(module, label, initialized: true) ?? throw new InvalidOperationException($"Token '{label}' vanished after C_InitToken.");
                using var session = slot.OpenSession(SessionType.ReadWrite);
                session.Login(CKU.CKU_SO, so);
                try
                {
                    session.InitPin(user);
                }
                finally
                {
                    session.Logout();
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(so);
                CryptographicOperations.ZeroMemory(user);
            }
            return new SoftHsmToken(Path.GetFullPath(directory), configurationPath, label, module.Path, created: true);
        }
        finally
        {
            module.Release();
        }
    }

    /// <summary>
    /// Writes <c>&lt;directory&gt;/softhsm2.conf</c> (token store in <c>&lt;directory&gt;/tokens</c>) if missing and sets
    /// SOFTHSM2_CONF to it for this process. Returns the configuration path.
    /// </summary>
    public static string UseDirectory(string directory)
    {
        var root = Path.GetFullPath(directory);
        var tokens = Path.Combine(root, "tokens");
        System.IO.Directory.CreateDirectory(tokens);
        var configurationPath = Path.Combine(root, "softhsm2.conf");
        if (!File.Exists(configurationPath))
        {
            // Through a rename, so a process starting meanwhile never reads a half-written configuration.
            var temporary = $"{configurationPath}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temporary,
                $"""
                # Written by R2ps.Tools.SoftHsm.SoftHsmToken.
                directories.tokendir = {tokens}
                objectstore.backend = file
                log.level = ERROR
                slots.removable = false
                """ + "\n");
            File.Move(temporary, configurationPath, overwrite: true);
        }
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            var current = Environment.GetEnvironmentVariable(ConfigurationVariable);
            if (current != configurationPath && IsModuleInitialised())
                throw new InvalidOperationException("A PKCS#11 module is initialised in this process already; SOFTHSM2_CONF must be set before that.");
            if (SetEnv(ConfigurationVariable, configurationPath, 1) != 0)
                throw new InvalidOperationException("setenv(SOFTHSM2_CONF) failed.");
        }
        Environment.SetEnvironmentVariable(ConfigurationVariable, configurationPath);
        return configurationPath;
    }

    private static bool IsModuleInitialised() => Pkcs11Module.AnyInitialized;

    private static ISlot? FindSlot(Pkcs11Module module, string? label, bool initialized)
    {
        foreach (var slot in module.Library.GetSlotList(SlotsType.WithTokenPresent))
        {
            var info = slot.GetTokenInfo();
            if (info.TokenFlags.TokenInitialized != initialized) continue;
            if (label is null || info.Label.TrimEnd(' ', '\0') == label) return slot;
        }
        return null;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
