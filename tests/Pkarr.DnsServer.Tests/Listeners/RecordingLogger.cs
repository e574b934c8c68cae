using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Pkarr.DnsServer.Tests.Listeners;

/// <summary>A logger that keeps every message, so a test can wait for something the server did out of sight.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<string> Messages { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Messages.Enqueue(formatter(state, exception));

    /// <summary>Waits until a message contains <paramref name="text"/> (bounded: 1000 polls of 10 ms).</summary>
    public async Task WaitForAsync(string text)
    {
        for (int i = 0; i < 1000 && !Messages.Any(m => m.Contains(text, StringComparison.Ordinal)); i++)
        {
            await Task.Delay(10);
        }

        Assert.Contains(Messages, m => m.Contains(text, StringComparison.Ordinal));
    }
}
