// Keeps the values behind the relay's state gauges fresh: the store's packet count and the DHT node's size estimate
// and routing table are behind awaits (SQLite, Redis, the node's own thread), and a Prometheus scrape must not wait on
// any of them. A timer on the relay's clock reads them again within a second of a write that may have changed the
// store, and every RefreshPeriod regardless (the DHT's numbers change without writes). At most one read is in flight.

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pkarr.Relay.Metrics;

internal sealed partial class RelayStateGauges(RelayContext context, ILogger<RelayStateGauges> logger) : IHostedService, IDisposable
{
    /// <summary>How often the timer looks for work: the delay between a write and the gauge that shows it.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    /// <summary>The longest a value goes unread.</summary>
    public static readonly TimeSpan RefreshPeriod = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private Task _refresh = Task.CompletedTask;
    private DateTimeOffset _lastRefresh = DateTimeOffset.MinValue;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = context.Time.CreateTimer(_ => OnTick(), null, TimeSpan.Zero, Tick);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        Task refresh;
        lock (_gate)
        {
            refresh = _refresh;
        }

        await refresh.ConfigureAwait(false);
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _stop.Dispose();
    }

    private void OnTick()
    {
        var now = context.Time.GetUtcNow();
        lock (_gate)
        {
            if (!_refresh.IsCompleted || _stop.IsCancellationRequested)
            {
                return;
            }

            bool changed = context.Metrics.TakeStoreChanged();
            if (!changed && now - _lastRefresh < RefreshPeriod)
            {
                return;
            }

            _lastRefresh = now;
            _refresh = RefreshAsync(_stop.Token);
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var metrics = context.Metrics;
        try
        {
            metrics.StorePackets = context.Store is { } store ? await store.CountAsync(cancellationToken).ConfigureAwait(false) : 0;
            var info = await context.Dht.GetInfoAsync(cancellationToken).ConfigureAwait(false);
            metrics.DhtSizeEstimate = info.SizeEstimate;
            metrics.RoutingTableSize = info.RoutingTableSize;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The relay is stopping.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The gauges keep their last values; the next tick tries again.
            LogRefreshFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the store's size or the DHT node's info for the metrics failed; the gauges keep their last values")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
