// The background loop: each key has its own due time, first spread uniformly over one interval from when it joined
// the set, then one interval ± jitter after each of its republishes, so that a thousand keys added together are
// republished a few at a time rather than all at once, and drift further apart every cycle. The loop sleeps on
// the client's clock until the earliest due time (or until a key is added), starts every due key (each waits for
// one of the MaxConcurrency slots), and writes the key set when a republish changed it.

using Pkarr.Keys;

namespace Pkarr.Client.Republishing;

public sealed partial class Republisher
{
    /// <summary>How far the clock may move while the loop arms its timer before the loop re-reads the schedule.</summary>
    private static readonly TimeSpan ArmingTolerance = TimeSpan.FromMilliseconds(100);

    private CancellationTokenSource? _loopStop;
    private Task? _loop;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts the background loop that republishes each key when it is due.</summary>
    /// <exception cref="InvalidOperationException">The loop is already running.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_loop is not null)
            {
                throw Error.RepublisherAlreadyStarted();
            }

            _loopStop = new CancellationTokenSource();
            var token = _loopStop.Token;
            _loop = Task.Run(() => RunLoopAsync(token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops the background loop and waits for the republishes in flight to end (they are cancelled).</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task? loop;
        CancellationTokenSource? stop;
        lock (_gate)
        {
            loop = _loop;
            stop = _loopStop;
            _loop = null;
            _loopStop = null;
        }

        if (loop is null || stop is null)
        {
            return;
        }

        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            stop.Dispose();
        }
    }

    /// <summary>For tests: each key's next due time.</summary>
    internal IReadOnlyList<(PublicKey Key, DateTimeOffset Due)> DueTimes()
    {
        lock (_gate)
        {
            return [.. _keys.Values.Select(s => (s.Key, s.Due))];
        }
    }

    private async Task RunLoopAsync(CancellationToken stopping)
    {
        var running = new List<Task>();
        while (!stopping.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            var due = new List<KeyState>();
            DateTimeOffset? next = null;
            Task wake;
            lock (_gate)
            {
                foreach (var state in _keys.Values)
                {
                    if (state.InFlight)
                    {
                        continue;
                    }

                    if (state.Due <= now)
                    {
                        state.InFlight = true;
                        due.Add(state);
                    }
                    else if (next is null || state.Due < next)
                    {
                        next = state.Due;
                    }
                }

                if (_wake.Task.IsCompleted)
                {
                    _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                wake = _wake.Task;
            }

            foreach (var state in due)
            {
                running.Add(RunDueAsync(state, stopping));
            }

            running.RemoveAll(t => t.IsCompleted);
            using (var sleep = CancellationTokenSource.CreateLinkedTokenSource(stopping))
            {
                var armed = _time.GetUtcNow();
                var delay = next is { } at ? Max(at - armed, TimeSpan.Zero) : Timeout.InfiniteTimeSpan;
                var timer = Task.Delay(delay, _time, sleep.Token);

                // The timer counts from when it was created: if the clock jumped meanwhile (a resumed machine, a
                // test's clock), it would fire late by the jump, so look at the keys again instead of sleeping.
                if (_time.GetUtcNow() - armed <= ArmingTolerance)
                {
                    await Task.WhenAny(timer, wake).ConfigureAwait(false);
                }

                await sleep.CancelAsync().ConfigureAwait(false);
            }

            SaveAfterLoopStep();
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        SaveAfterLoopStep();
    }

    /// <summary>One due key's republish in the loop; never throws (a failure is logged by the report, a cancellation ends it).</summary>
    private async Task RunDueAsync(KeyState state, CancellationToken stopping)
    {
        try
        {
            await RepublishKeyAsync(state, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The loop is stopping; the key keeps its due time and is republished first after a restart.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogLoopKeyFailed(_logger, state.Key, e);
            lock (_gate)
            {
                state.Due = _time.GetUtcNow() + NextInterval();
            }
        }
        finally
        {
            lock (_gate)
            {
                state.InFlight = false;
            }

            WakeLoop();
        }
    }

    private void SaveAfterLoopStep()
    {
        try
        {
            SaveIfDirty();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogSaveFailed(_logger, Options.KeySetPath!, e);
        }
    }

    private void WakeLoop()
    {
        lock (_gate)
        {
            _wake.TrySetResult();
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Error, Message = "Republish of {Key} failed unexpectedly; it is tried again next interval")]
    private static partial void LogLoopKeyFailed(Microsoft.Extensions.Logging.ILogger logger, PublicKey key, Exception exception);

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Error, Message = "The republisher's key set {Path} cannot be written; it is tried again after the next republish")]
    private static partial void LogSaveFailed(Microsoft.Extensions.Logging.ILogger logger, string path, Exception exception);
}
