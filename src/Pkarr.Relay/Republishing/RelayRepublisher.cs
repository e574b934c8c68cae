// Keeps the packets the relay holds alive on the DHT, most recently requested or published first, through the
// client's Republisher (which puts each key again every interval, spread over it, with bounded concurrency, and
// adopts newer packets from the network or the store instead of overwriting them).
//
//   GET served / PUT stored ─▶ Track: most-recently-used set (≤ MaxKeys) ─▶ pending adds and removes
//                                                                             │ (pump, at most once a second)
//                                                                             ▼
//                                                            Republisher: AddKey / Remove, its own schedule
//
// Track runs on every served GET, so it does O(1) work under a lock of its own and never touches the Republisher:
// the Republisher's key set is an ordered dictionary whose Remove is linear, and every AddKey wakes its scheduling
// loop, which scans all keys. A pump applies the set's changes in batches instead, at most once per SyncSpacing, so
// a burst of new keys (say a million distinct keys being read) costs the Republisher one batch a second, not one
// wake per request. Only the net change reaches it: a key that entered and left the set between two batches is never
// added. The bound on work per interval is MaxKeys keys, Concurrency at a time.

using Microsoft.Extensions.Logging;
using Pkarr.Client;
using Pkarr.Client.Republishing;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay.Metrics;

namespace Pkarr.Relay.Republishing;

internal sealed partial class RelayRepublisher : IAsyncDisposable
{
    /// <summary>The least time between two batches of changes handed to the Republisher.</summary>
    public static readonly TimeSpan SyncSpacing = TimeSpan.FromSeconds(1);

    /// <summary>The holder minimum on an in-process testnet: its 10 nodes cannot reach the Republisher's default of 17.</summary>
    public const int TestnetMinimumHolders = 5;

    private readonly Republisher _republisher;
    private readonly RelayMetrics? _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxKeys;
    private readonly Lock _gate = new();
    private readonly Lock _syncGate = new();

    // Most recently used first; the index finds a key's node in O(1).
    private readonly LinkedList<Entry> _recent = new();
    private readonly Dictionary<PublicKey, LinkedListNode<Entry>> _index = [];

    // The net change not yet handed to the Republisher: keys in the set it does not hold yet, and keys it holds that
    // have left the set. Both are bounded: the first by MaxKeys, the second by the keys the Republisher holds.
    private readonly Dictionary<PublicKey, Entry> _toAdd = [];
    private readonly HashSet<PublicKey> _toRemove = [];

    private readonly SemaphoreSlim _pending = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task _pump = Task.CompletedTask;
    private int _signalled;
    private bool _disposed;

    /// <summary>A relay republisher over <paramref name="republisher"/>, which it owns from now on.</summary>
    internal RelayRepublisher(Republisher republisher, int maxKeys, TimeProvider time, RelayMetrics? metrics, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(republisher);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeys, 1);
        _republisher = republisher;
        _maxKeys = maxKeys;
        _time = time;
        _metrics = metrics;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        if (metrics is not null)
        {
            _republisher.KeyRepublished += (_, result) => metrics.Republished(OutcomeName(result.Outcome));
        }
    }

    /// <summary>The Republisher this feeds.</summary>
    internal Republisher Inner => _republisher;

    /// <summary>The number of keys in the most-recently-used set.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _recent.Count;
            }
        }
    }

    /// <summary>
    /// A relay republisher for <paramref name="client"/> (the relay's DHT-only client, whose cache is the store), not
    /// started yet (<see cref="StartAsync"/>), or null when <see cref="RepublisherSettings.Enabled"/> is false.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public static RelayRepublisher? Create(RelayOptions options, PkarrClient client, RelayMetrics? metrics, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(client);
        var settings = options.Republisher;
        if (!settings.Enabled)
        {
            return null;
        }

        if (settings.MaxKeys < 1)
        {
            throw Error.InvalidRepublisherSetting("max_keys", settings.MaxKeys.ToString(System.Globalization.CultureInfo.InvariantCulture), "at least 1");
        }

        var republisherOptions = new RepublisherOptions
        {
            Interval = settings.Interval,
            MaxConcurrency = settings.Concurrency,
        };
        if (options.Testnet)
        {
            republisherOptions.MinimumHolders = TestnetMinimumHolders;
        }

        var republisher = new Republisher(client, republisherOptions, loggers.CreateLogger<Republisher>());
        return new RelayRepublisher(republisher, settings.MaxKeys, options.TimeProvider, metrics, loggers.CreateLogger<RelayRepublisher>());
    }

    /// <summary>Starts the Republisher's schedule and the pump that hands it the set's changes.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _republisher.StartAsync(cancellationToken).ConfigureAwait(false);
        var stop = _stop.Token;
        _pump = Task.Run(() => PumpAsync(stop), CancellationToken.None);
    }

    /// <summary>
    /// Records that <paramref name="packet"/> was served or stored: its key becomes the most recently used, and the
    /// least recently used key leaves the set when it is full. O(1), never waits on I/O, safe from any thread.
    /// </summary>
    public void Track(SignedPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        var key = packet.PublicKey;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            if (_index.TryGetValue(key, out var node))
            {
                // The Republisher reads the store before each put, so a newer packet reaches it that way once it holds
                // the key; this one matters only while the key waits to be added.
                if (packet.MoreRecentThan(node.Value.Packet))
                {
                    node.Value.Packet = packet;
                }

                if (node != _recent.First)
                {
                    _recent.Remove(node);
                    _recent.AddFirst(node);
                }

                return;
            }

            var entry = new Entry(key, packet);
            _index.Add(key, _recent.AddFirst(entry));

            // A key that left the set and came back before the Republisher heard of it is still held there.
            if (_toRemove.Remove(key))
            {
                entry.InRepublisher = true;
            }
            else
            {
                _toAdd[key] = entry;
            }

            if (_recent.Count > _maxKeys)
            {
                var dropped = _recent.Last!.Value;
                _recent.RemoveLast();
                _index.Remove(dropped.Key);
                if (dropped.InRepublisher)
                {
                    _toRemove.Add(dropped.Key);
                }
                else
                {
                    _toAdd.Remove(dropped.Key);
                }
            }

            // Under the lock, so that it never races DisposeAsync; one release per batch keeps the count at most 1.
            if (Interlocked.Exchange(ref _signalled, 1) == 0)
            {
                _pending.Release();
            }
        }
    }

    /// <summary>The keys of the set, most recently used first.</summary>
    internal IReadOnlyList<PublicKey> RecentKeys()
    {
        lock (_gate)
        {
            return [.. _recent.Select(e => e.Key)];
        }
    }

    /// <summary>Hands the set's net change since the last call to the Republisher: removes first, then adds. The pump
    /// calls it; tests call it to apply changes at once.</summary>
    internal void Sync()
    {
        lock (_syncGate)
        {
            List<PublicKey> removes;
            List<(PublicKey Key, SignedPacket Packet)> adds;
            lock (_gate)
            {
                if (_toAdd.Count == 0 && _toRemove.Count == 0)
                {
                    return;
                }

                removes = [.. _toRemove];
                _toRemove.Clear();
                adds = new List<(PublicKey, SignedPacket)>(_toAdd.Count);
                foreach (var entry in _toAdd.Values)
                {
                    entry.InRepublisher = true;
                    adds.Add((entry.Key, entry.Packet));
                }

                _toAdd.Clear();
            }

            // Outside the set's lock: Track never waits on the Republisher. A key that leaves the set from here on is
            // already marked as held, so its remove goes into the next batch, after this add.
            foreach (var key in removes)
            {
                _republisher.Remove(key);
            }

            foreach (var (key, packet) in adds)
            {
                _republisher.AddKey(key, packet);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _pump.ConfigureAwait(false);
        await _republisher.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _pending.Dispose();
    }

    private async Task PumpAsync(CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await _pending.WaitAsync(stop).ConfigureAwait(false);

                // Cleared before the batch is taken: a Track after this point signals again.
                Volatile.Write(ref _signalled, 0);
                try
                {
                    Sync();
                }
                catch (Exception e) when (e is not OutOfMemoryException and not ObjectDisposedException)
                {
                    // The pump outlives a failed batch, so later changes still reach the republisher; keys of that
                    // batch it did not take stay out of it until they leave the set and come back.
                    LogSyncFailed(_logger, e);
                }

                await Task.Delay(SyncSpacing, _time, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The relay is stopping; the Republisher is disposed next, so changes not handed over no longer matter.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Handing the relay's recently used keys to the republisher failed")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);

    private static string OutcomeName(RepublishOutcome outcome) => outcome switch
    {
        RepublishOutcome.Republished => "republished",
        RepublishOutcome.TooFewHolders => "too_few_holders",
        RepublishOutcome.PublishFailed => "publish_failed",
        RepublishOutcome.NoPacket => "no_packet",
        RepublishOutcome.NewerValueNotAPacket => "newer_value_not_a_packet",
        _ => "other",
    };

    private sealed class Entry(PublicKey key, SignedPacket packet)
    {
        public PublicKey Key { get; } = key;

        public SignedPacket Packet { get; set; } = packet;

        /// <summary>Handed to the Republisher (or about to be, by the batch in progress).</summary>
        public bool InRepublisher { get; set; }
    }
}
