using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace R2ps.Crypto.Ec;

/// <summary>
/// k·P and k·G on the NIST curves in the system's OpenSSL (libcrypto 3), the library .NET's own ECDsa and ECDiffieHellman
/// use on Linux. OPAQUE, the OPRF and PIN hardening need the whole point (its compressed encoding carries y's parity),
/// which ECDiffieHellman does not expose, so these calls reach EC_POINT_mul directly.
/// Why not BouncyCastle's multiply: OpenSSL's is 4–6 times faster (x86-64 assembly for P-256), allocates nothing
/// managed (BouncyCastle makes a new array for each of its thousands of field operations), and runs in constant time
/// (a Montgomery ladder, or P-256's windowed multiply with masked table reads), so a long-lived key needs no blinding.
/// Where libcrypto 3 is missing (not Linux), <see cref="IsAvailable"/> is false and <see cref="EcCurve"/> keeps
/// BouncyCastle.
/// </summary>
internal static partial class OpenSslPointMultiplier
{
    private const string LibCrypto = "libcrypto.so.3";

    // openssl/ec.h: point_conversion_form_t; openssl/bn.h: BN_FLG_CONSTTIME.
    private const int PointConversionUncompressed = 4;
    private const int BnFlagConstTime = 0x04;

    // One EC_GROUP per curve for the process's life: EC_POINT_mul and the octet conversions read it through a const
    // pointer, so threads share it (OpenSSL's rule for const arguments); nothing here ever precomputes into it.
    private static readonly Lazy<nint>[] Groups =
    [
        new(() => NewGroup(EcCurve.P256)),
        new(() => NewGroup(EcCurve.P384)),
        new(() => NewGroup(EcCurve.P521)),
    ];

    // After Groups: static fields are initialised in order, and the probe builds the groups.
    /// <summary>True when libcrypto 3 is loadable and builds the three curves.</summary>
    public static bool IsAvailable { get; } = Probe();

    /// <summary>
    /// Writes k·P (or k·G when <paramref name="point"/> is empty) to <paramref name="product"/> as an uncompressed SEC1
    /// point. <paramref name="point"/> is an uncompressed point on <paramref name="curve"/> (OpenSSL checks it is on the
    /// curve); <paramref name="scalar"/> is big-endian, at most the field size. Returns false if the product is the point
    /// at infinity. The scalar's BIGNUM is flagged constant-time and cleared when freed; so is the product's EC_POINT.
    /// </summary>
    public static bool TryMultiply(EcCurve curve, ReadOnlySpan<byte> point, ReadOnlySpan<byte> scalar, Span<byte> product)
    {
        if (product.Length != curve.UncompressedPointSize)
            throw new ArgumentException($"The product needs {curve.UncompressedPointSize} bytes.", nameof(product));
        var group = Groups[IndexOf(curve)].Value;
        nint ctx = 0, k = 0, p = 0, r = 0;
        try
        {
            ctx = BN_CTX_new();
            k = BN_bin2bn(scalar, scalar.Length, 0);
            r = EC_POINT_new(group);
            if (ctx == 0 || k == 0 || r == 0) throw Failed("allocate");
            BN_set_flags(k, BnFlagConstTime);

            if (point.IsEmpty)
            {
                if (EC_POINT_mul(group, r, k, 0, 0, ctx) != 1) throw Failed("multiply the generator");
            }
            else
            {
                p = EC_POINT_new(group);
                if (p == 0) throw Failed("allocate");
                if (EC_POINT_oct2point(group, p, point, (nuint)point.Length, ctx) != 1)
                    throw Failed("decode the point (not on the curve?)");
                if (EC_POINT_mul(group, r, 0, p, k, ctx) != 1) throw Failed("multiply");
            }

            if (EC_POINT_is_at_infinity(group, r) == 1) return false;
            if (EC_POINT_point2oct(group, r, PointConversionUncompressed, product, (nuint)product.Length, ctx) != (nuint)product.Length)
                throw Failed("encode the product");
            return true;
        }
        finally
        {
            if (r != 0) EC_POINT_clear_free(r);
            if (p != 0) EC_POINT_free(p);
            if (k != 0) BN_clear_free(k);
            if (ctx != 0) BN_CTX_free(ctx);
        }
    }

    private static int IndexOf(EcCurve curve) =>
        ReferenceEquals(curve, EcCurve.P256) ? 0
        : ReferenceEquals(curve, EcCurve.P384) ? 1
        : ReferenceEquals(curve, EcCurve.P521) ? 2
        : throw new CryptographicException($"No OpenSSL group for {curve.Name}.");

    private static nint NewGroup(EcCurve curve)
    {
        var group = EC_GROUP_new_by_curve_name(curve.OpenSslNid);
        return group != 0 ? group : throw Failed($"build the {curve.Name} group");
    }

    /// <summary>
    /// Clears this thread's OpenSSL error queue (.NET's own OpenSSL calls read it after a failure, so nothing of ours may
    /// be left there) and reports the step, never an operand.
    /// </summary>
    private static CryptographicException Failed(string step)
    {
        ERR_clear_error();
        return new CryptographicException($"OpenSSL could not {step}.");
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(LibCrypto, out var library)) return false;
        try
        {
            // The library loads; make sure it has what we call and builds every curve (a FIPS-only or trimmed build may not).
            foreach (var name in (string[])["EC_POINT_mul", "EC_POINT_oct2point", "EC_POINT_point2oct", "BN_bin2bn", "BN_clear_free"])
                if (!NativeLibrary.TryGetExport(library, name, out _)) return false;
            foreach (var group in Groups) _ = group.Value;
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    [LibraryImport(LibCrypto)]
    private static partial nint EC_GROUP_new_by_curve_name(int nid);

    [LibraryImport(LibCrypto)]
    private static partial nint EC_POINT_new(nint group);

    [LibraryImport(LibCrypto)]
    private static partial void EC_POINT_free(nint point);

    [LibraryImport(LibCrypto)]
    private static partial void EC_POINT_clear_free(nint point);

    [LibraryImport(LibCrypto)]
    private static partial int EC_POINT_oct2point(nint group, nint point, ReadOnlySpan<byte> buffer, nuint length, nint ctx);

    [LibraryImport(LibCrypto)]
    private static partial nuint EC_POINT_point2oct(nint group, nint point, int form, Span<byte> buffer, nuint length, nint ctx);

    [LibraryImport(LibCrypto)]
    private static partial int EC_POINT_mul(nint group, nint result, nint generatorScalar, nint point, nint pointScalar, nint ctx);

    [LibraryImport(LibCrypto)]
    private static partial int EC_POINT_is_at_infinity(nint group, nint point);

    [LibraryImport(LibCrypto)]
    private static partial nint BN_bin2bn(ReadOnlySpan<byte> bytes, int length, nint result);

    [LibraryImport(LibCrypto)]
    private static partial void BN_set_flags(nint number, int flags);

    [LibraryImport(LibCrypto)]
    private static partial void BN_clear_free(nint number);

    [LibraryImport(LibCrypto)]
    private static partial nint BN_CTX_new();

    [LibraryImport(LibCrypto)]
    private static partial void BN_CTX_free(nint ctx);

    [LibraryImport(LibCrypto)]
    private static partial void ERR_clear_error();
}
