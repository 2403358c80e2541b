using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using R2ps.Crypto.Ec;
using R2ps.Crypto.Encoding;
using R2ps.Crypto.Jose;
using R2ps.Crypto.Keys;
using R2ps.Protocol.Envelopes;
using R2ps.Wallet;
using R2ps.Wallet.Http;

namespace R2ps.Tools.Fuzzing;

/// <summary>
/// The fuzz targets of issue 10 item 12, built against a running service (BFF with a worker): a device registered with a
/// PIN, valid requests of each kind captured on the way out, and generators that mutate fresh valid requests.
/// </summary>
public sealed class FuzzTargets : IDisposable
{
    public static readonly IReadOnlyList<string> Names = ["envelope", "bff", "admin"];

    const string Jose = "application/jose";
    const string JsonType = "application/json";

    readonly R2psDevice _device;
    readonly EcPublicKey _serverKey;
    readonly string _context;
    readonly string _adminToken;
    readonly HttpR2psTransport _establisher;
    readonly Capture _captureOnly;
    readonly List<string> _wrappingJwes;
    readonly (string ClientId, string Kid) _adminVictim;

    FuzzTargets(R2psDevice device, EcPublicKey serverKey, string context, string adminToken, HttpR2psTransport establisher, Capture captureOnly, List<string> wrappingJwes, (string, string) adminVictim)
    {
        _adminVictim = adminVictim;
        _device = device;
        _serverKey = serverKey;
        _context = context;
        _adminToken = adminToken;
        _establisher = establisher;
        _captureOnly = captureOnly;
        _wrappingJwes = wrappingJwes;
    }

    /// <summary>
    /// Registers a device through the admin API of the service at <paramref name="address"/>, sets its PIN through the
    /// BFF (a device session and two wrapped calls, whose JWEs become seeds), and makes the generators.
    /// </summary>
    public static async Task<FuzzTargets> CreateAsync(Uri address, string adminToken, string context = "hsm", CancellationToken cancellationToken = default)
    {
        var recorder = new Capture(forward: true);
        using var http = new HttpClient(recorder) { BaseAddress = address };
        var keys = await HttpR2psTransport.GetKeysAsync(http, cancellationToken).ConfigureAwait(false);
        var key = SoftwareEcKey.Generate(EcCurve.P256);
        var device = new R2psDevice("fuzz-" + Guid.NewGuid().ToString("N"), Base64Std.Encode(key.PublicKey.ToCompressed()), key);
        var admin = new R2psAdminClient(http, adminToken);
        var registered = await admin.RegisterAsync(device.ClientId, device.Kid, device.PublicKey, [context], cancellationToken).ConfigureAwait(false);
        // The admin target deletes and re-authorises the keys it names: it gets a client of its own, so that the order in
        // which the targets run never decides whether the envelope and BFF targets still have a registered device.
        using var victimKey = SoftwareEcKey.Generate(EcCurve.P256);
        var victim = ("fuzz-admin-" + Guid.NewGuid().ToString("N"), "kid-admin");
        await admin.RegisterAsync(victim.Item1, victim.Item2, victimKey.PublicKey, [context], cancellationToken).ConfigureAwait(false);
        using (var transport = new HttpR2psTransport(http, device, keys.BffKey))
            await new R2psWallet(device, keys.ServerKeys[context], transport).RegisterPinAsync("fuzz-pin-1234", registered.Authorization, cancellationToken).ConfigureAwait(false);
        var wrapping = recorder.Bodies("/r2ps/v1/service").Select(Encoding.ASCII.GetString).ToList();
        if (wrapping.Count == 0) throw new InvalidOperationException("The PIN registration sent no wrapped request to capture.");

        // Establishment bodies are made fresh for every input (iat window, one-time nonce): the transport builds them,
        // this handler keeps them instead of sending them.
        var captureOnly = new Capture(forward: false);
        var establisher = new HttpR2psTransport(new HttpClient(captureOnly) { BaseAddress = address }, device, keys.BffKey);
        return new FuzzTargets(device, keys.ServerKeys[context], context, adminToken, establisher, captureOnly, wrapping, victim);
    }

    public Gen<FuzzInput> For(string target) => target switch
    {
        "envelope" => Envelope(),
        "bff" => Bff(),
        "admin" => Admin(),
        _ => throw new ArgumentException($"Unknown fuzz target '{target}' (envelope, bff, admin).", nameof(target)),
    };

    /// <summary>
    /// The R2PS envelope on the plain route: valid envelopes; envelopes whose payload JSON is mutated and then signed
    /// again with the device key (so they pass the signature and reach iat, nonce, type, session and decrypt checks);
    /// envelopes whose encrypted request plaintext is mutated (reaching the handlers); mutated compact JWS; random bytes.
    /// </summary>
    Gen<FuzzInput> Envelope()
    {
        var plaintext = Gen.OneOf(
            Mutations.JsonOnceOrTwice(PakeRequest("evaluate", RandomNumberGenerator.GetBytes(98))).Select(j => ("authenticate", Encoding.UTF8.GetBytes(j))),
            Mutations.JsonOnceOrTwice(PakeRequest("evaluate", RandomNumberGenerator.GetBytes(33))).Select(j => ("pin_registration", Encoding.UTF8.GetBytes(j))),
            Mutations.RandomBytes(0, 200).Select(b => ("session_end", b)),
            Gen.Constant(("session_context_end", Array.Empty<byte>())));
        var type = Gen.Elements("authenticate", "pin_registration", "session_end", "session_context_end", "hsm_ecdsa", "hsm_list_keys", "pin_change", "nope", "");
        return Gen.Frequency(
            (1, Gen.Constant(0).Select(_ => Plain(Build("session_context_end", [])))),
            (6, type.SelectMany(t => Mutations.JsonOnceOrTwice(Payload(Build(t, Encoding.UTF8.GetBytes("{}"))))).Select(p => Plain(Jws.Sign(Encoding.UTF8.GetBytes(p), _device.Key)))),
            (4, plaintext.Select(p => Plain(Build(p.Item1, p.Item2)))),
            (3, type.SelectMany(t => { var valid = Build(t, []); return Mutations.Compact(valid, _wrappingJwes[0]); }).Select(Plain)),
            (1, Mutations.RandomBytes(0, 300).Select(b => new FuzzInput(HttpMethod.Post, "/r2ps/v1/r2ps", Jose, b))));
    }

    /// <summary>
    /// The BFF's own layer: establishment bodies (fresh valid ones, their JSON mutated, their HPKE values mutated) and
    /// wrapping JWEs (captured valid ones, mutated as compact JOSE, their headers' JSON mutated), plus random bodies.
    /// </summary>
    Gen<FuzzInput> Bff()
    {
        var establish = Gen.Constant(0).Select(_ => FreshEstablishment());
        return Gen.Frequency(
            (1, establish.Select(b => Establish(Encoding.UTF8.GetBytes(b)))),
            (5, establish.SelectMany(Mutations.JsonOnceOrTwice).Select(b => Establish(Encoding.UTF8.GetBytes(b)))),
            (2, establish.SelectMany(b => Gen.Elements("enc", "ct").SelectMany(member => MutateBase64Url(b, member))).Select(b => Establish(Encoding.UTF8.GetBytes(b)))),
            (6, Gen.Elements(_wrappingJwes.ToArray()).SelectMany(j => Mutations.Compact(j, Build("session_context_end", []))).Select(j => Service(Encoding.ASCII.GetBytes(j)))),
            (1, Gen.Elements(_wrappingJwes.ToArray()).Select(j => Service(Encoding.ASCII.GetBytes(j)))),
            (1, Mutations.RandomBytes(0, 300).SelectMany(b => Gen.Elements(Establish(b), Service(b)))));
    }

    /// <summary>
    /// The admin API: registration bodies (valid ones with a fresh client, mutated ones), the key paths with generated
    /// client ids and kids, and wrong or missing bearer tokens.
    /// </summary>
    Gen<FuzzInput> Admin()
    {
        var registration = Gen.Constant(0).Select(_ => Registration());
        var segment = Gen.OneOf(
            Gen.Constant(_adminVictim.ClientId),
            ArbMap.Default.GeneratorFor<string>().Select(s => s ?? string.Empty),
            Gen.Elements("", ".", "..", "%2F", "a/b", new string('k', 5000), "é😀", "\u0000", "\u0001"));
        var kid = Gen.OneOf(Gen.Constant(_adminVictim.Kid), segment);
        Gen<string?> right = Gen.Constant<string?>(_adminToken), none = Gen.Constant<string?>(null);
        var token = Gen.Frequency((12, right), (1, none), (1, Mutations.Text(_adminToken).Select(t => (string?)new string([.. t.Where(c => c is > ' ' and < '\u007f')]))));
        var path = segment.SelectMany(c => kid.Select(k => $"/admin/v1/clients/{Uri.EscapeDataString(c)}/keys/{Uri.EscapeDataString(k)}"));
        return Gen.Frequency(
            (2, registration.SelectMany(b => token.Select(t => new FuzzInput(HttpMethod.Post, "/admin/v1/clients", JsonType, Encoding.UTF8.GetBytes(b), t)))),
            (8, registration.SelectMany(Mutations.JsonOnceOrTwice).SelectMany(b => token.Select(t => new FuzzInput(HttpMethod.Post, "/admin/v1/clients", JsonType, Encoding.UTF8.GetBytes(b), t)))),
            (1, Mutations.RandomBytes(0, 300).Select(b => new FuzzInput(HttpMethod.Post, "/admin/v1/clients", JsonType, b, _adminToken))),
            (1, path.SelectMany(p => token.Select(t => new FuzzInput(HttpMethod.Get, p, null, [], t)))),
            (1, path.SelectMany(p => token.Select(t => new FuzzInput(HttpMethod.Post, p + "/authorization", null, [], t)))),
            (1, path.SelectMany(p => token.Select(t => new FuzzInput(HttpMethod.Delete, p, null, [], t)))));
    }

    string Build(string type, byte[] plaintext) =>
        ClientEnvelope.BuildDeviceRequest(new ClientRequest(_device.ClientId, _device.Kid, _context, type), plaintext, _device.Key, _serverKey, DateTimeOffset.UtcNow).Jws;

    static string Payload(string jws) => Encoding.UTF8.GetString(Base64Url.Decode(jws.Split('.')[1]));

    static string PakeRequest(string state, byte[] request) =>
        new JsonObject { ["protocol"] = "opaque", ["state"] = state, ["req"] = Convert.ToBase64String(request) }.ToJsonString();

    static FuzzInput Plain(string jws) => new(HttpMethod.Post, "/r2ps/v1/r2ps", Jose, Encoding.ASCII.GetBytes(jws));

    static FuzzInput Establish(byte[] body) => new(HttpMethod.Post, "/r2ps/v1/device-sessions", JsonType, body);

    static FuzzInput Service(byte[] body) => new(HttpMethod.Post, "/r2ps/v1/service", Jose, body);

    string FreshEstablishment()
    {
        try
        {
            _establisher.EstablishAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is HttpRequestException or R2psClientException or InvalidOperationException)
        {
            // Expected: the capturing handler answers every request with a refusal.
        }
        return Encoding.UTF8.GetString(_captureOnly.Bodies("/r2ps/v1/device-sessions")[^1]);
    }

    static Gen<string> MutateBase64Url(string json, string member)
    {
        var value = JsonNode.Parse(json)![member]!.GetValue<string>();
        return Mutations.Bytes(Base64Url.Decode(value)).Select(bytes =>
        {
            var changed = (JsonObject)JsonNode.Parse(json)!;
            changed[member] = Base64Url.Encode(bytes);
            return changed.ToJsonString();
        });
    }

    static string Registration()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new JsonObject
        {
            ["client_id"] = "fuzz-" + Guid.NewGuid().ToString("N"),
            ["kid"] = "kid-" + Guid.NewGuid().ToString("N")[..8],
            ["public_key"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()),
            ["contexts"] = new JsonArray("hsm"),
        }.ToJsonString();
    }

    public void Dispose()
    {
        _establisher.Dispose();
        _device.Dispose();
    }

    /// <summary>Records request bodies by path; forwards them, or answers each with a 400 refusal without sending it.</summary>
    sealed class Capture(bool forward) : DelegatingHandler(new SocketsHttpHandler())
    {
        readonly List<(string Path, byte[] Body)> _bodies = [];

        public List<byte[]> Bodies(string path)
        {
            lock (_bodies) return _bodies.Where(b => b.Path == path).Select(b => b.Body).ToList();
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is not null)
            {
                var body = await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                lock (_bodies)
                {
                    // Only the latest few per path matter: the generators take the last one.
                    if (_bodies.Count > 16) _bodies.RemoveAt(0);
                    _bodies.Add((request.RequestUri!.AbsolutePath, body));
                }
            }
            if (forward) return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return new HttpResponseMessage(HttpStatusCode.BadRequest)
            {
                Content = new StringContent("""{"error_code":"ILLEGAL_REQUEST_DATA","error_message":"captured, not sent"}""", Encoding.UTF8, "application/json"),
            };
        }
    }
}
