using System.Runtime.InteropServices;

namespace R2ps.Hsm.Pkcs11;

// PKCS#11 structures with the natural (C default) alignment that Unix modules are built with: the standard's
// "#pragma pack(1)" applies to Windows only. LayoutKind.Sequential reproduces the C layout on LP64.

[StructLayout(LayoutKind.Sequential)]
internal struct CkAttribute
{
    public nuint Type;
    public nint Value;
    public nuint ValueLength;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CkMechanism
{
    public nuint Mechanism;
    public nint Parameter;
    public nuint ParameterLength;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CkCInitializeArgs
{
    public nint CreateMutex;
    public nint DestroyMutex;
    public nint LockMutex;
    public nint UnlockMutex;
    public nuint Flags;
    public nint Reserved;
}

/// <summary>CK_GCM_PARAMS as v2.40 defines it (with ulIvBits), the layout SoftHSM 2.6 uses.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CkGcmParams
{
    public nint Iv;
    public nuint IvLength;
    public nuint IvBits;
    public nint Aad;
    public nuint AadLength;
    public nuint TagBits;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CkEcdh1DeriveParams
{
    public nuint Kdf;
    public nuint SharedDataLength;
    public nint SharedData;
    public nuint PublicDataLength;
    public nint PublicData;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CkTokenInfo
{
    public fixed byte Label[32];
    public fixed byte ManufacturerId[32];
    public fixed byte Model[16];
    public fixed byte SerialNumber[16];
    public nuint Flags;
    public nuint MaxSessionCount;
    public nuint SessionCount;
    public nuint MaxRwSessionCount;
    public nuint RwSessionCount;
    public nuint MaxPinLength;
    public nuint MinPinLength;
    public nuint TotalPublicMemory;
    public nuint FreePublicMemory;
    public nuint TotalPrivateMemory;
    public nuint FreePrivateMemory;
    public ushort HardwareVersion;
    public ushort FirmwareVersion;
    public fixed byte UtcTime[16];
}

/// <summary>
/// CK_FUNCTION_LIST: a CK_VERSION (2 bytes, padded to pointer alignment) then the 68 entry points in the order of
/// the v2.40 header. Every entry is declared so that the offsets stay right; only some are called.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CkFunctionList
{
    public byte VersionMajor;
    public byte VersionMinor;
    public nint C_Initialize;
    public nint C_Finalize;
    public nint C_GetInfo;
    public nint C_GetFunctionList;
    public nint C_GetSlotList;
    public nint C_GetSlotInfo;
    public nint C_GetTokenInfo;
    public nint C_GetMechanismList;
    public nint C_GetMechanismInfo;
    public nint C_InitToken;
    public nint C_InitPIN;
    public nint C_SetPIN;
    public nint C_OpenSession;
    public nint C_CloseSession;
    public nint C_CloseAllSessions;
    public nint C_GetSessionInfo;
    public nint C_GetOperationState;
    public nint C_SetOperationState;
    public nint C_Login;
    public nint C_Logout;
    public nint C_CreateObject;
    public nint C_CopyObject;
    public nint C_DestroyObject;
    public nint C_GetObjectSize;
    public nint C_GetAttributeValue;
    public nint C_SetAttributeValue;
    public nint C_FindObjectsInit;
    public nint C_FindObjects;
    public nint C_FindObjectsFinal;
    public nint C_EncryptInit;
    public nint C_Encrypt;
    public nint C_EncryptUpdate;
    public nint C_EncryptFinal;
    public nint C_DecryptInit;
    public nint C_Decrypt;
    public nint C_DecryptUpdate;
    public nint C_DecryptFinal;
    public nint C_DigestInit;
    public nint C_Digest;
    public nint C_DigestUpdate;
    public nint C_DigestKey;
    public nint C_DigestFinal;
    public nint C_SignInit;
    public nint C_Sign;
    public nint C_SignUpdate;
    public nint C_SignFinal;
    public nint C_SignRecoverInit;
    public nint C_SignRecover;
    public nint C_VerifyInit;
    public nint C_Verify;
    public nint C_VerifyUpdate;
    public nint C_VerifyFinal;
    public nint C_VerifyRecoverInit;
    public nint C_VerifyRecover;
    public nint C_DigestEncryptUpdate;
    public nint C_DecryptDigestUpdate;
    public nint C_SignEncryptUpdate;
    public nint C_DecryptVerifyUpdate;
    public nint C_GenerateKey;
    public nint C_GenerateKeyPair;
    public nint C_WrapKey;
    public nint C_UnwrapKey;
    public nint C_DeriveKey;
    public nint C_SeedRandom;
    public nint C_GenerateRandom;
    public nint C_GetFunctionStatus;
    public nint C_CancelFunction;
    public nint C_WaitForSlotEvent;
}
