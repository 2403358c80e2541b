using System.Collections.Concurrent;
using MassTransit;
using R2ps.Contracts;

namespace R2ps.Sessions.Tests;

/// <summary>
/// Every message a bus finished consuming, in order: tests wait on it by polling with a deadline instead of relying on
/// the test harness's inactivity heuristics.
/// </summary>
internal sealed class MessageLog : IConsumeObserver
{
    readonly ConcurrentQueue<object> _consumed = new();

    public IReadOnlyList<T> All<T>() => _consumed.OfType<T>().ToList();

    public async Task<T> WaitFor<T>(Func<T, bool> predicate, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var found = _consumed.OfType<T>().FirstOrDefault(predicate);
            if (found is not null)
                return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"No {typeof(T).Name} matching the condition was consumed in time.");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class
    {
        _consumed.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}

/// <summary>Subscribes to <see cref="SignSessionEnded"/> so that the <see cref="MessageLog"/> sees every one published.</summary>
internal sealed class SignSessionEndedRecorder : IConsumer<SignSessionEnded>
{
    public Task Consume(ConsumeContext<SignSessionEnded> context) => Task.CompletedTask;
}
