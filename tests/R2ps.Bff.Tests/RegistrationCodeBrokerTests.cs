using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using MassTransit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using R2ps.Contracts;
using R2ps.Crypto.Encoding;

namespace R2ps.Bff.Tests;

/// <summary>
/// ARCHITECTURE.md: nothing secret crosses the broker. The BFF makes the one-time registration code and sends only its
/// SHA-256; the worker stores that hash; the admin caller alone gets the code (issue 10).
/// </summary>
[Collection(EmbeddedBffDefinition.Name)]
public sealed class RegistrationCodeBrokerTests(EmbeddedBff system)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_registration_sends_only_the_codes_hash_over_the_broker_and_the_store_holds_that_hash()
    {
        using var http = system.CreateClient();
        var device = EmbeddedBff.NewDevice();
        using var observer = new MessageRecorder(system.Services.GetRequiredService<IBus>(), device.ClientId);

        var registered = await system.Admin(http).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, [EmbeddedBff.Context], Ct);

        AssertOnlyTheHashCrossed(observer, registered.Authorization, typeof(RegisterClient), typeof(ClientRegistered));
        Assert.Equal(Hex.Encode(SHA256.HashData(Base64Std.Decode(registered.Authorization))), Hex.Encode(await StoredHashAsync(device.ClientId, device.Kid)));
    }

    [Fact]
    public async Task A_fresh_code_sends_only_its_hash_over_the_broker_and_replaces_the_stored_hash()
    {
        using var http = system.CreateClient();
        var device = EmbeddedBff.NewDevice();
        await system.Admin(http).RegisterAsync(device.ClientId, device.Kid, device.PublicKey, [EmbeddedBff.Context], Ct);
        using var observer = new MessageRecorder(system.Services.GetRequiredService<IBus>(), device.ClientId);

        var issued = await system.Admin(http).IssueRegistrationCodeAsync(device.ClientId, device.Kid, Ct);

        AssertOnlyTheHashCrossed(observer, issued.Authorization, typeof(IssueRegistrationCode), typeof(RegistrationCodeIssued));
        Assert.Equal(Hex.Encode(SHA256.HashData(Base64Std.Decode(issued.Authorization))), Hex.Encode(await StoredHashAsync(device.ClientId, device.Kid)));
    }

    static void AssertOnlyTheHashCrossed(MessageRecorder observer, string code, Type command, Type reply)
    {
        var messages = observer.Messages.ToList();
        // The recorder did see the exchange (a test that saw nothing would prove nothing).
        Assert.Contains(messages, m => m.Type == command);
        Assert.Contains(messages, m => m.Type == reply);
        var codeBytes = Base64Std.Decode(code);
        var codeHash = Base64Std.Encode(SHA256.HashData(codeBytes));
        foreach (var (_, json) in messages)
        {
            // Neither the code (as the admin got it, or as its bytes, which System.Text.Json writes as base64) ...
            Assert.DoesNotContain(code, json, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(codeBytes), json, StringComparison.OrdinalIgnoreCase);
        }
        // ... only its hash, in the command.
        Assert.Contains(messages, m => m.Type == command && m.Json.Contains(codeHash, StringComparison.Ordinal));
    }

    async Task<byte[]> StoredHashAsync(string clientId, string kid)
    {
        await using var connection = new SqliteConnection($"Data Source={system.StoreDatabase}");
        await connection.OpenAsync(Ct);
        var command = connection.CreateCommand();
        command.CommandText = "SELECT code_hash FROM r2ps_registration_codes WHERE client_id = $c AND kid = $k";
        command.Parameters.AddWithValue("$c", clientId);
        command.Parameters.AddWithValue("$k", kid);
        return (byte[])(await command.ExecuteScalarAsync(Ct))!;
    }

    /// <summary>Every message the host's bus sends or consumes that mentions <c>clientId</c>, as JSON.</summary>
    sealed class MessageRecorder : ISendObserver, IConsumeObserver, IDisposable
    {
        // Base64 '+' would otherwise be written as \u002B, and a code containing one would slip past the check.
        static readonly JsonSerializerOptions Unescaped = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        readonly string _clientId;
        readonly ConnectHandle _send;
        readonly ConnectHandle _consume;

        public MessageRecorder(IBus bus, string clientId)
        {
            _clientId = clientId;
            _send = bus.ConnectSendObserver(this);
            _consume = bus.ConnectConsumeObserver(this);
        }

        public ConcurrentQueue<(Type Type, string Json)> Messages { get; } = new();

        void Record(object message)
        {
            var json = JsonSerializer.Serialize(message, message.GetType(), Unescaped);
            if (json.Contains(_clientId, StringComparison.Ordinal)) Messages.Enqueue((message.GetType(), json));
        }

        public Task PreSend<T>(SendContext<T> context) where T : class
        {
            Record(context.Message);
            return Task.CompletedTask;
        }

        public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class
        {
            Record(context.Message);
            return Task.CompletedTask;
        }

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        public void Dispose()
        {
            _send.Disconnect();
            _consume.Disconnect();
        }
    }
}
