using System.Diagnostics;
using System.Security.Cryptography;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Keys;
using R2ps.Crypto.Opaque;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace R2ps.Tools.Benchmarks;

/// <summary>The figures of one OPAQUE server benchmark run; all times are per operation.</summary>
/// <param name="ScalarMultiplier">What multiplied the scalars (<see cref="EcCurve.ScalarMultiplier"/>).</param>
/// <param name="BouncyCastleScalarMultiplication">BouncyCastle's own multiply, timed in the same run for the ratio.</param>
public sealed record OpaqueBenchmarkResult(
    int Iterations,
    string ScalarMultiplier,
    TimeSpan ScalarMultiplication,
    TimeSpan BouncyCastleScalarMultiplication,
    TimeSpan GenerateKe2,
    TimeSpan ServerFinish,
    TimeSpan FakeRecordKe2)
{
    /// <summary>Server-side cost of one login: KE2 for a registered client plus the KE3 check.</summary>
    public TimeSpan ServerLogin => GenerateKe2 + ServerFinish;

    /// <summary>How many raw P-256 scalar multiplications one server login costs.</summary>
    public double LoginToScalarMultiplicationRatio => ServerLogin / ScalarMultiplication;
}

/// <summary>
/// Measures the server side of an OPAQUE login (RFC 9807 GenerateKE2 + ServerFinish, P256-SHA256) against one raw P-256
/// scalar multiplication in the same run, so the ratio is meaningful on a noisy machine. Client work runs between the
/// timed server steps and is not counted. BouncyCastle's multiply (the fallback where OpenSSL is missing) is timed too.
/// </summary>
public static class OpaqueBenchmark
{
    public static OpaqueBenchmarkResult Run(int iterations, IProgress<string>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var password = "123456"u8.ToArray();
        var credentialIdentifier = "bench-device-key"u8.ToArray();
        var clientIdentity = "bench-client"u8.ToArray();
        var serverIdentity = "r2ps.local"u8.ToArray();
        var oprfSeed = RandomNumberGenerator.GetBytes(32);

        using var serverKey = SoftwareEcKey.Generate(EcCurve.P256);
        using var server = new OpaqueServer(serverKey, oprfSeed, serverIdentity);
        var client = new OpaqueClient();

        progress?.Report("Registering a benchmark credential");
        byte[] recordBytes;
        using (var request = client.CreateRegistrationRequest(password))
        {
            var response = server.CreateRegistrationResponse(request.Request, credentialIdentifier);
            using var registration = client.FinalizeRegistrationRequest(request, response, serverIdentity, clientIdentity);
            recordBytes = registration.Record.ToArray(); // the result zeroes its own copy on dispose
        }

        var warmup = Math.Max(5, iterations / 10);
        progress?.Report($"Warming up ({warmup} logins)");
        Logins(warmup);

        progress?.Report($"Timing {iterations} P-256 scalar multiplications");
        Func<BcPoint, BcBigInteger, BcPoint> inUse = (point, k) => EcCurve.P256.Multiply(point, k);
        Func<BcPoint, BcBigInteger, BcPoint> bouncyCastle = (point, k) => point.Multiply(k).Normalize();
        // The logins above never ran BouncyCastle's multiply: warm both alike, long enough for the JIT's tiering.
        WarmUp(inUse);
        WarmUp(bouncyCastle);
        var scalarMultiplication = ScalarMultiplications(iterations, inUse);
        var bouncyCastleMultiplication = ScalarMultiplications(iterations, bouncyCastle);

        progress?.Report($"Timing {iterations} server logins");
        var (ke2, finish, fake) = Logins(iterations);

        CryptographicOperations.ZeroMemory(oprfSeed);
        return new OpaqueBenchmarkResult(iterations, EcCurve.ScalarMultiplier, scalarMultiplication, bouncyCastleMultiplication, ke2 / iterations, finish / iterations, fake / iterations);

        (TimeSpan Ke2, TimeSpan Finish, TimeSpan Fake) Logins(int count)
        {
            var ke2Time = TimeSpan.Zero;
            var finishTime = TimeSpan.Zero;
            var fakeTime = TimeSpan.Zero;
            for (var i = 0; i < count; i++)
            {
                using var record = RegistrationRecord.Parse(recordBytes);
                using var login = client.GenerateKE1(password);

                var watch = Stopwatch.StartNew();
                using var ke2 = server.GenerateKE2(login.Ke1, credentialIdentifier, record, clientIdentity);
                ke2Time += watch.Elapsed;

                using var finished = client.GenerateKE3(login, ke2.Ke2, serverIdentity, clientIdentity);

                watch.Restart();
                var sessionKey = OpaqueServer.ServerFinish(ke2.State, finished.Ke3);
                finishTime += watch.Elapsed;
                if (!CryptographicOperations.FixedTimeEquals(sessionKey, finished.SessionKey))
                    throw new CryptographicException("Benchmark login produced different session keys.");
                CryptographicOperations.ZeroMemory(sessionKey);

                watch.Restart();
                using var fake = server.GenerateKE2(login.Ke1, "unknown-device-key"u8, null, clientIdentity);
                fakeTime += watch.Elapsed;
            }
            return (ke2Time, finishTime, fakeTime);
        }
    }

    private static void WarmUp(Func<BcPoint, BcBigInteger, BcPoint> multiply)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(0.5)) ScalarMultiplications(20, multiply);
    }

    private static TimeSpan ScalarMultiplications(int count, Func<BcPoint, BcBigInteger, BcPoint> multiply)
    {
        var curve = EcCurve.P256;
        var point = curve.MultiplyGenerator(new BcBigInteger(1, RandomNumberGenerator.GetBytes(32)));
        var scalars = Enumerable.Range(0, count).Select(_ => new BcBigInteger(1, RandomNumberGenerator.GetBytes(32)).Mod(curve.Order)).ToArray();
        var watch = Stopwatch.StartNew();
        foreach (var k in scalars) point = multiply(point, k);
        return watch.Elapsed / count;
    }
}
