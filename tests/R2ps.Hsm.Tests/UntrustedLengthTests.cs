using System.Runtime.InteropServices;
using R2ps.Hsm.Pkcs11;

namespace R2ps.Hsm.Tests;

/// <summary>
/// Lengths and counts a module writes back are not trusted: a broken or hostile module that reports
/// CK_UNAVAILABLE_INFORMATION, a huge length, or more objects than it was given room for gets a null attribute, a
/// clamped count or a <see cref="Pkcs11Exception"/>, never an ArgumentOutOfRange, an overflow or a read past a buffer.
/// A fake function table stands in for the module (SoftHSM2 behaves).
/// </summary>
public sealed unsafe class UntrustedLengthTests : IDisposable
{
    private static readonly nuint Unavailable = nuint.MaxValue; // CK_UNAVAILABLE_INFORMATION, PKCS#11 v2.40 §4.1
    private static nuint firstLength;
    private static nuint secondLength;
    private static nuint reportedCount;

    private readonly CkFunctionList* _functions;
    private readonly Pkcs11Module _module;

    public UntrustedLengthTests()
    {
        _functions = (CkFunctionList*)NativeMemory.AllocZeroed((nuint)sizeof(CkFunctionList));
        _functions->VersionMajor = 2;
        _functions->C_GetAttributeValue = (nint)(delegate* unmanaged<nuint, nuint, CkAttribute*, nuint, nuint>)&GetAttributeValue;
        _functions->C_FindObjectsInit = (nint)(delegate* unmanaged<nuint, CkAttribute*, nuint, nuint>)&FindObjectsInit;
        _functions->C_FindObjects = (nint)(delegate* unmanaged<nuint, nuint*, nuint, nuint*, nuint>)&FindObjects;
        _functions->C_FindObjectsFinal = (nint)(delegate* unmanaged<nuint, nuint>)&FindObjectsFinal;
        _functions->C_SignInit = (nint)(delegate* unmanaged<nuint, CkMechanism*, nuint, nuint>)&Ok3;
        _functions->C_Sign = (nint)(delegate* unmanaged<nuint, byte*, nuint, byte*, nuint*, nuint>)&Sign;
        _functions->C_GetSlotList = (nint)(delegate* unmanaged<byte, nuint*, nuint*, nuint>)&GetSlotList;
        _module = Pkcs11Module.FromFunctionList("fake", _functions);
    }

    public void Dispose() => NativeMemory.Free(_functions);

    [Theory]
    [InlineData(ulong.MaxValue)] // CK_UNAVAILABLE_INFORMATION
    [InlineData(ulong.MaxValue - 1)] // (int) of it would be -2
    [InlineData(1UL << 40)] // (int) of it would be 0
    [InlineData(64 * 1024 + 1)] // just above the cap
    public void An_absurd_length_in_the_first_call_yields_a_null_attribute(ulong length)
    {
        firstLength = (nuint)length;
        secondLength = 0;

        Assert.Null(_module.GetAttributes(1, 1, [Ck.CKA_LABEL])[0]);
    }

    [Fact]
    public void Unavailable_information_in_the_second_call_yields_a_null_attribute()
    {
        firstLength = 4;
        secondLength = Unavailable; // the value grew or vanished between the calls

        Assert.Null(_module.GetAttributes(1, 1, [Ck.CKA_LABEL])[0]);
    }

    [Fact]
    public void A_second_length_beyond_the_buffer_yields_a_null_attribute()
    {
        firstLength = 4;
        secondLength = 100;

        Assert.Null(_module.GetAttributes(1, 1, [Ck.CKA_LABEL])[0]);
    }

    [Fact]
    public void A_shorter_second_length_trims_the_value()
    {
        firstLength = 4;
        secondLength = 2;

        Assert.Equal([0xA5, 0xA5], _module.GetAttributes(1, 1, [Ck.CKA_LABEL])[0]);
    }

    [Fact]
    public void More_found_objects_than_requested_are_clamped_to_the_request()
    {
        reportedCount = 1000; // the fake writes only as many handles as it was allowed to

        using var template = new AttributeTemplate();
        var found = _module.FindObjects(1, template, 3);

        Assert.Equal([7, 7, 7], found);
    }

    [Fact]
    public void A_signature_length_beyond_the_buffer_is_a_pkcs11_exception()
    {
        reportedCount = 1000;

        var e = Assert.Throws<Pkcs11Exception>(() => SignInto(new byte[64]));
        Assert.Contains("C_Sign", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_absurd_slot_count_is_a_pkcs11_exception()
    {
        reportedCount = Unavailable;

        Assert.Throws<Pkcs11Exception>(() => _module.GetSlotList(tokenPresent: true));
    }

    private int SignInto(byte[] signature)
    {
        var mechanism = new CkMechanism { Mechanism = Ck.CKM_ECDSA };
        return _module.Sign(1, &mechanism, 1, new byte[32], signature);
    }

    // ---- The fake module ----

    [UnmanagedCallersOnly]
    private static nuint GetAttributeValue(nuint session, nuint handle, CkAttribute* attributes, nuint count)
    {
        for (nuint i = 0; i < count; i++)
        {
            if (attributes[i].Value == 0)
            {
                attributes[i].ValueLength = firstLength;
                continue;
            }
            new Span<byte>((void*)attributes[i].Value, (int)attributes[i].ValueLength).Fill(0xA5); // only what fits
            attributes[i].ValueLength = secondLength;
        }
        return 0;
    }

    [UnmanagedCallersOnly]
    private static nuint FindObjects(nuint session, nuint* handles, nuint maxCount, nuint* count)
    {
        for (nuint i = 0; i < maxCount; i++) handles[i] = 7;
        *count = reportedCount;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static nuint FindObjectsInit(nuint session, CkAttribute* template, nuint count) => 0;

    [UnmanagedCallersOnly]
    private static nuint FindObjectsFinal(nuint session) => 0;

    [UnmanagedCallersOnly]
    private static nuint Ok3(nuint session, CkMechanism* mechanism, nuint key) => 0;

    [UnmanagedCallersOnly]
    private static nuint Sign(nuint session, byte* data, nuint dataLength, byte* signature, nuint* signatureLength)
    {
        *signatureLength = reportedCount;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static nuint GetSlotList(byte tokenPresent, nuint* slots, nuint* count)
    {
        *count = reportedCount;
        return 0;
    }
}
