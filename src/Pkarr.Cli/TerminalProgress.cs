using System.Globalization;

namespace Pkarr.Cli;

/// <summary>
/// A spinner with the elapsed time on standard error while a network operation runs, redrawn in place ten times a
/// second and erased when it ends. Drawn only when standard error is a terminal: a redirected standard error (a
/// log file, a pipe, a test) gets nothing, so that it holds only real messages.
/// </summary>
internal sealed class TerminalProgress : IAsyncDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    /// <summary>ASCII frames, so that any terminal font draws them.</summary>
    private static readonly string[] Frames = ["|", "/", "-", "\\"];

    private readonly TextWriter _error;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _drawing;

    private TerminalProgress(TextWriter error, string label, TimeProvider time)
    {
        _error = error;
        _drawing = DrawAsync(label, time, _stop.Token);
    }

    /// <summary>Starts drawing <paramref name="label"/> when standard error is a terminal; null (nothing to dispose) otherwise.</summary>
    internal static TerminalProgress? Start(CliConsole console, string label, TimeProvider? time = null) =>
        console.ErrorIsTerminal ? new TerminalProgress(console.Error, label, time ?? TimeProvider.System) : null;

    /// <summary>Stops drawing and erases the line, so that what follows starts at column 0 of a clean line.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _drawing.ConfigureAwait(false);
        _stop.Dispose();

        // Carriage return, then "erase the whole line" (ECMA-48 EL 2).
        _error.Write("\r\u001b[2K");
        _error.Flush();
    }

    private async Task DrawAsync(string label, TimeProvider time, CancellationToken stop)
    {
        long started = time.GetTimestamp();
        using var timer = new PeriodicTimer(Period, time);
        int frame = 0;
        try
        {
            do
            {
                double seconds = time.GetElapsedTime(started).TotalSeconds;
                _error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{Frames[frame++ % Frames.Length]} {label} {seconds:0.0} s"));
                _error.Flush();
            }
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Disposed: the line is erased by DisposeAsync.
        }
    }
}
