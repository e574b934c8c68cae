// Debugging aid: prints warnings and errors a node logs (e.g. "DHT loop handler failed" with its exception).
using Microsoft.Extensions.Logging;

namespace Mainline.Benchmarks;

internal sealed class ConsoleErrorLoggerFactory(string name) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new ConsoleErrorLogger(name);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}

internal sealed class ConsoleErrorLogger(string name) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Console.WriteLine($"[{name}] {logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}
