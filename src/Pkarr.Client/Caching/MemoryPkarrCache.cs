// An in-memory LRU cache of packets (shared spec pkarr.md §5.2), bounded by entry count.

using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Caching;

/// <summary>An in-memory, least-recently-used cache that never replaces a packet with an older one.</summary>
public sealed class MemoryPkarrCache : IPkarrCache
{
    private readonly Dictionary<PublicKey, LinkedListNode<CachedPacket>> _entries = [];
    private readonly LinkedList<CachedPacket> _order = new();
    private readonly Lock _lock = new();

    /// <summary>A cache of at most <paramref name="capacity"/> packets (0 holds nothing).</summary>
    public MemoryPkarrCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    /// <inheritdoc />
    public int Capacity { get; }

    /// <inheritdoc />
    public ValueTask<int> CountAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_entries.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<CachedPacket?> GetAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return ValueTask.FromResult<CachedPacket?>(null);
            }

            _order.Remove(node);
            _order.AddFirst(node);
            return ValueTask.FromResult<CachedPacket?>(node.Value);
        }
    }

    /// <inheritdoc />
    public ValueTask<CachedPacket?> PeekAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_entries.TryGetValue(key, out var node) ? node.Value : null);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> PutIfNewerAsync(CachedPacket entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (Capacity == 0)
        {
            return ValueTask.FromResult(false);
        }

        var key = entry.Packet.PublicKey;
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                if (!entry.Supersedes(node.Value))
                {
                    return ValueTask.FromResult(false);
                }

                node.Value = entry;
                _order.Remove(node);
                _order.AddFirst(node);
                return ValueTask.FromResult(true);
            }

            if (_entries.Count >= Capacity && _order.Last is { } oldest)
            {
                _order.RemoveLast();
                _entries.Remove(oldest.Value.Packet.PublicKey);
            }

            _entries[key] = _order.AddFirst(entry);
            return ValueTask.FromResult(true);
        }
    }
}
