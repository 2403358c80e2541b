using System.Runtime.InteropServices;
using System.Text;

namespace R2ps.Hsm.Pkcs11;

/// <summary>
/// A CK_ATTRIBUTE array and its values in unmanaged memory (the module may keep pointers for the call's duration,
/// which pinning would also give, but one block per template is simpler to free and to wipe). Dispose zeroes every
/// value before freeing, so a template that carried a private scalar leaves nothing behind.
/// </summary>
internal sealed unsafe class AttributeTemplate : IDisposable
{
    private readonly List<(nuint Type, byte[] Value)> _pending = [];
    private CkAttribute* _attributes;
    private byte* _values;
    private nuint _valuesLength;

    public AttributeTemplate Bool(nuint type, bool value) => Bytes(type, [value ? Ck.True : Ck.False]);

    public AttributeTemplate ULong(nuint type, nuint value)
    {
        var bytes = new byte[sizeof(nuint)];
        MemoryMarshal.Write(bytes, in value);
        return Bytes(type, bytes);
    }

    public AttributeTemplate Utf8(nuint type, string value) => Bytes(type, Encoding.UTF8.GetBytes(value));

    /// <summary>Copies <paramref name="value"/>; a caller that passes a secret still zeroes its own copy.</summary>
    public AttributeTemplate Bytes(nuint type, ReadOnlySpan<byte> value)
    {
        if (_attributes != null) throw new InvalidOperationException("The template was already built.");
        _pending.Add((type, value.ToArray()));
        return this;
    }

    public nuint Count => (nuint)_pending.Count;

    public CkAttribute* Pointer
    {
        get
        {
            if (_attributes == null) Build();
            return _attributes;
        }
    }

    private void Build()
    {
        _valuesLength = 0;
        foreach (var (_, value) in _pending) _valuesLength += (nuint)value.Length;
        _attributes = (CkAttribute*)NativeMemory.AllocZeroed((nuint)Math.Max(1, _pending.Count), (nuint)sizeof(CkAttribute));
        _values = (byte*)NativeMemory.AllocZeroed(Math.Max(1, _valuesLength));
        var offset = (nuint)0;
        for (var i = 0; i < _pending.Count; i++)
        {
            var (type, value) = _pending[i];
            value.CopyTo(new Span<byte>(_values + offset, value.Length));
            _attributes[i] = new CkAttribute { Type = type, Value = (nint)(_values + offset), ValueLength = (nuint)value.Length };
            offset += (nuint)value.Length;
            Array.Clear(value);
        }
    }

    public void Dispose()
    {
        foreach (var (_, value) in _pending) Array.Clear(value);
        if (_values != null)
        {
            NativeMemory.Clear(_values, _valuesLength);
            NativeMemory.Free(_values);
            _values = null;
        }
        if (_attributes != null)
        {
            NativeMemory.Free(_attributes);
            _attributes = null;
        }
    }
}
