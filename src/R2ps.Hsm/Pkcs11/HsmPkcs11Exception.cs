using System.Globalization;
using Net.Pkcs11Interop.Common;

namespace R2ps.Hsm;

/// <summary>
/// A PKCS#11 call returned something other than CKR_OK, e.g. "C_Sign failed: CKR_KEY_HANDLE_INVALID": Pkcs11Interop's
/// <see cref="Net.Pkcs11Interop.Common.Pkcs11Exception"/> (kept as the inner exception) made one of ours, so callers
/// catch <see cref="HsmException"/> alone and still see the typed CK_RV.
/// </summary>
public sealed class HsmPkcs11Exception : HsmException
{
    public HsmPkcs11Exception(string function, CKR returnValue, Exception? innerException = null)
        : base($"{function} failed: {NameOf(returnValue)}", innerException!)
    {
        Function = function;
        ReturnValue = returnValue;
    }

    public HsmPkcs11Exception()
        : this("C_Unknown", CKR.CKR_GENERAL_ERROR)
    {
    }

    /// <summary>A module answer we refuse although its CK_RV was CKR_OK (e.g. a signature of the wrong length).</summary>
    public HsmPkcs11Exception(string message)
        : base(message)
    {
        Function = "C_Unknown";
        ReturnValue = CKR.CKR_GENERAL_ERROR;
    }

    public HsmPkcs11Exception(string message, Exception innerException)
        : base(message, innerException)
    {
        Function = "C_Unknown";
        ReturnValue = CKR.CKR_GENERAL_ERROR;
    }

    /// <summary>The PKCS#11 function, e.g. "C_Sign".</summary>
    public string Function { get; }

    /// <summary>The CK_RV.</summary>
    public CKR ReturnValue { get; }

    /// <summary>The CK_RV's name, e.g. "CKR_PIN_INCORRECT" (vendor or unknown codes as hex).</summary>
    public string ReturnValueName => NameOf(ReturnValue);

    public static string NameOf(CKR returnValue) =>
        Enum.IsDefined(returnValue) && returnValue != CKR.CKR_VENDOR_DEFINED
            ? returnValue.ToString()
            : (ulong)returnValue >= (ulong)CKR.CKR_VENDOR_DEFINED
                ? "CKR_VENDOR_DEFINED+0x" + ((ulong)returnValue - (ulong)CKR.CKR_VENDOR_DEFINED).ToString("x", CultureInfo.InvariantCulture)
                : "CKR_0x" + ((ulong)returnValue).ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>Ours, for Pkcs11Interop's: same function and CK_RV.</summary>
    internal static HsmPkcs11Exception From(Net.Pkcs11Interop.Common.Pkcs11Exception e) => new(e.Method, e.RV, e);
}
