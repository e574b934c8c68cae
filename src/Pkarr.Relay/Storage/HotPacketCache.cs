// The relay's hot layer (issue 11, spec §5.2, §6.6): the most recently used packets in memory in front of the durable
// store (the SQLite file), so that cache hits never touch the disk.
//
//   GET ─▶ memory ── hit ──▶ answer; the use is queued ─(batches)─▶ durable LRU
//            └──── miss ──▶ durable ─▶ memory (unless a write of the key raced the read)
//   PUT ─▶ durable (awaited: acknowledged only once durable) ─▶ memory (only when the durable store took it)
//
// Memory holds, for each key it has, exactly what the durable store holds: the durable store alone decides what is
// newer (its PutIfNewerAsync is atomic), and memory copies its decisions without a comparison of its own. A write
// that the durable store took puts its entry into memory only when no other write of a key of its stripe ran at the
// same time, so that it is certainly what the store holds now; otherwise it drops the key from memory, and the next
// read fetches it. A miss fills memory only when no write of its stripe started or finished while it read the disk.
// Without these checks a reader could read the old packet, a writer store and insert the new one, memory evict it,
// and the reader insert the old one; or two writers of one key could reach memory in the other order than the disk.
// So no interleaving leaves memory older than the disk, or older than a write that returned true.
//
// The one difference: when the durable store evicts a key that memory still holds (its LRU lags memory's by the
// batching of uses below), memory goes on serving it until memory evicts it too or a write of the key replaces it.
//
// Uses served from memory reach the durable store's LRU in batches (a timer, a full batch, and dispose), so its
// eviction order still follows use while a hit costs no disk write.

using Microsoft.Extensions.Logging;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Storage;

/// <summary>Records uses served from memory in the durable store's LRU: key and time of last use (µs since the epoch).</summary>
internal delegate ValueTask RecordUses(IReadOnlyCollection<KeyValuePair<PublicKey, long>> uses, CancellationToken cancellationToken);

/// <summary>
/// An in-memory LRU of up to a given number of packets in front of a durable <see cref="IPkarrCache"/>. Writes are
/// durable before they return; hits are served from memory. Safe for concurrent use.
/// </summary>
internal sealed partial class HotPacketCache : IPkarrCache, IAsyncDisposable
{
    /// <summary>How often queued uses are written to the durable store. The SQLite store keeps last uses at a
    /// resolution of a minute (SqlitePkarrCache.TouchIntervalMicroseconds), so this loses nothing its LRU tells apart.</summary>
    internal static readonly TimeSpan UseFlushInterval = TimeSpan.FromSeconds(30);

    /// <summary>Queued uses that start a flush at once, before the timer; also the most uses one flush writes.</summary>
    internal const int UseBatchLimit = 16_384;

    // Write tracking per stripe of keys: enough stripes that a busy relay's writes rarely block the fill of a miss
    // of another key, few enough to cost nothing.
    private const int Stripes = 1024;

    private readonly IPkarrCache _durable;
    private readonly Lru _memory;
    private readonly RecordUses? _recordUses;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Guards memory, _writing and _written, and makes "no write raced this read" and the fill of memory one step.
    private readonly Lock _gate = new();
    private readonly int[] _writing = new int[Stripes];
    private readonly long[] _written = new long[Stripes];

    // Uses not yet written to the durable store, the latest per key; at most UseBatchLimit (more are dropped until
    // a flush empties it: a lost use only makes a key look a little older to the durable LRU).
    private readonly Lock _usesGate = new();
    private Dictionary<PublicKey, long> _uses = [];
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly ITimer? _flushTimer;
    private int _flushQueued;

    // The durable store's count, read once after each write that may have changed it; -1 when unknown.
    private int _count = -1;
    private long _countVersion;
    private int _disposed;

    /// <summary>A hot layer of <paramref name="capacity"/> packets over <paramref name="durable"/>.</summary>
    /// <param name="durable">The store every write goes to first, and misses are read from.</param>
    /// <param name="capacity">Packets held in memory at most (at least 1).</param>
    /// <param name="recordUses">Where uses served from memory go; null forgets them (the durable LRU then follows
    /// writes and misses only).</param>
    /// <param name="time">The clock of the uses and of the flush timer.</param>
    /// <param name="logger">Where failed flushes are reported.</param>
    public HotPacketCache(IPkarrCache durable, int capacity, RecordUses? recordUses, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(durable);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _durable = durable;
        _memory = new Lru(capacity);
        _recordUses = recordUses;
        _time = time;
        _logger = logger;
        if (recordUses is not null)
        {
            _flushTimer = time.CreateTimer(static state => ((HotPacketCache)state!).QueueFlush(), this, UseFlushInterval, UseFlushInterval);
        }
    }

    /// <summary>The durable store's capacity: the number of packets the relay holds.</summary>
    public int Capacity => _durable.Capacity;

    /// <summary>Packets held in memory at most.</summary>
    public int HotCapacity => _memory.Capacity;

    /// <summary>Packets held in memory now.</summary>
    internal int HotCount
    {
        get
        {
            lock (_gate)
            {
                return _memory.Count;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> CountAsync(CancellationToken cancellationToken = default)
    {
        int known = Volatile.Read(ref _count);
        if (known >= 0)
        {
            return known;
        }

        long version = Interlocked.Read(ref _countVersion);
        int count = await _durable.CountAsync(cancellationToken).ConfigureAwait(false);

        // A write that finished during the read leaves the count unknown, for the next call to read again.
        if (Interlocked.Read(ref _countVersion) == version)
        {
            Interlocked.CompareExchange(ref _count, count, -1);
        }

        return count;
    }

    /// <inheritdoc />
    public ValueTask<CachedPacket?> GetAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        CachedPacket? held;
        lock (_gate)
        {
            held = _memory.Get(key, use: true);
        }

        if (held is not null)
        {
            RecordUse(key);
            return ValueTask.FromResult<CachedPacket?>(held);
        }

        return ReadThroughAsync(key, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<CachedPacket?> PeekAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        CachedPacket? held;
        lock (_gate)
        {
            held = _memory.Get(key, use: false);
        }

        // A peek is not a use, so a miss does not bring the key into memory either.
        return held is not null ? ValueTask.FromResult<CachedPacket?>(held) : _durable.PeekAsync(key, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<bool> PutIfNewerAsync(CachedPacket entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var key = entry.Packet.PublicKey;
        int stripe = StripeOf(key);
        long ticket;
        lock (_gate)
        {
            ticket = _writing[stripe] == 0 ? _written[stripe] : -1;
            _writing[stripe]++;
        }

        bool? stored = null;
        try
        {
            stored = await _durable.PutIfNewerAsync(entry, cancellationToken).ConfigureAwait(false);
            return stored.Value;
        }
        finally
        {
            lock (_gate)
            {
                if (stored is true && ticket >= 0 && _writing[stripe] == 1 && _written[stripe] == ticket)
                {
                    _memory.Set(entry);
                }
                else if (stored is not false)
                {
                    // Stored while other writes ran, or failed (it may have been stored): what the disk holds now is
                    // not known here, and the next read fetches it.
                    _memory.Remove(key);
                }

                _written[stripe]++;
                _writing[stripe]--;
            }

            if (stored is not false)
            {
                Interlocked.Increment(ref _countVersion);
                Volatile.Write(ref _count, -1);
            }
        }
    }

    /// <summary>Writes the queued uses to the durable store now.</summary>
    internal Task FlushUsesAsync(CancellationToken cancellationToken = default) => FlushUsesAsync(final: false, cancellationToken);

    private async Task FlushUsesAsync(bool final, CancellationToken cancellationToken)
    {
        if (_recordUses is null)
        {
            return;
        }

        await _flushGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // After dispose only its own flush writes: the durable store may be closed right after it.
            if (!final && Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            Dictionary<PublicKey, long> batch;
            lock (_usesGate)
            {
                if (_uses.Count == 0)
                {
                    return;
                }

                batch = _uses;
                _uses = [];
            }

            await _recordUses(batch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _flushGate.Release();
        }
    }

    /// <summary>Stops the flush timer and writes the queued uses; the durable store stays open (its owner closes it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_flushTimer is not null)
        {
            await _flushTimer.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await FlushUsesAsync(final: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogFlushFailed(_logger, e);
        }
    }

    private async ValueTask<CachedPacket?> ReadThroughAsync(PublicKey key, CancellationToken cancellationToken)
    {
        int stripe = StripeOf(key);
        long ticket;
        lock (_gate)
        {
            ticket = _writing[stripe] == 0 ? _written[stripe] : -1;
        }

        // With batched uses, the read is a plain read and its use joins the batch: a durable read that records the
        // use itself is a write transaction, which waits for the file's write lock and for WAL checkpoints.
        var entry = _recordUses is null
            ? await _durable.GetAsync(key, cancellationToken).ConfigureAwait(false)
            : await _durable.PeekAsync(key, cancellationToken).ConfigureAwait(false);
        if (entry is not null && _recordUses is not null)
        {
            RecordUse(key);
        }

        if (entry is not null && ticket >= 0)
        {
            lock (_gate)
            {
                if (_writing[stripe] == 0 && _written[stripe] == ticket)
                {
                    _memory.Set(entry);
                }
            }
        }

        return entry;
    }

    private void RecordUse(PublicKey key)
    {
        if (_recordUses is null)
        {
            return;
        }

        long now = (long)Math.Min(Timestamp.WallClock(_time).Microseconds, long.MaxValue);
        bool full;
        lock (_usesGate)
        {
            if (_uses.Count < UseBatchLimit || _uses.ContainsKey(key))
            {
                _uses[key] = now;
            }

            full = _uses.Count >= UseBatchLimit;
        }

        if (full)
        {
            QueueFlush();
        }
    }

    // Starts one background flush unless one is queued already; never throws (it runs on the timer).
    private void QueueFlush()
    {
        if (Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _flushQueued, 1) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                Volatile.Write(ref _flushQueued, 0);
                await FlushUsesAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogFlushFailed(_logger, e);
            }
        });
    }

    private static int StripeOf(PublicKey key) => (key.GetHashCode() & int.MaxValue) % Stripes;

    // The entries in memory: a dictionary finds a key's node in a list ordered from the most to the least recently
    // used, so every operation is O(1). Not synchronized: the layer calls it under its lock.
    private sealed class Lru(int capacity)
    {
        private readonly Dictionary<PublicKey, LinkedListNode<CachedPacket>> _nodes = new(Math.Min(capacity, 1024));
        private readonly LinkedList<CachedPacket> _order = new();

        public int Capacity => capacity;

        public int Count => _nodes.Count;

        public CachedPacket? Get(PublicKey key, bool use)
        {
            if (!_nodes.TryGetValue(key, out var node))
            {
                return null;
            }

            if (use)
            {
                MoveToFront(node);
            }

            return node.Value;
        }

        // Holds `entry` for its key, as the most recently used.
        public void Set(CachedPacket entry)
        {
            var key = entry.Packet.PublicKey;
            if (_nodes.TryGetValue(key, out var node))
            {
                node.Value = entry;
                MoveToFront(node);
                return;
            }

            if (_nodes.Count >= capacity)
            {
                var oldest = _order.Last!;
                _order.RemoveLast();
                _nodes.Remove(oldest.Value.Packet.PublicKey);
            }

            _nodes.Add(key, _order.AddFirst(entry));
        }

        public void Remove(PublicKey key)
        {
            if (_nodes.Remove(key, out var node))
            {
                _order.Remove(node);
            }
        }

        private void MoveToFront(LinkedListNode<CachedPacket> node)
        {
            if (node != _order.First)
            {
                _order.Remove(node);
                _order.AddFirst(node);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the uses of hot packets in the durable store; its eviction order may lag")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
