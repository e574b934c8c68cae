// The client's default cache (shared spec pkarr.md §5.1, §5.2): the most recent packet of up to `capacity` keys in
// memory, least recently used evicted first. A dictionary finds a key's node in a linked list ordered from the most
// to the least recently used, so every operation is O(1). One lock guards both: each operation holds it for a few
// pointer moves, far shorter than anything the client does around a cache call.
//
// The spec keys the cache by SHA1(key); the key itself is as unique and needs no hashing.

using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Caching;

/// <summary>
/// An in-memory least-recently-used cache of the most recent packet per key. <see cref="GetAsync"/> and a stored
/// <see cref="PutIfNewerAsync"/> count as uses; <see cref="PeekAsync"/> does not. Safe for concurrent use.
/// </summary>
public sealed class MemoryPkarrCache : IPkarrCache
{
    private readonly Lock _gate = new();
    private readonly Dictionary<PublicKey, LinkedListNode<CachedPacket>> _nodes;

    // First the most recently used entry, last the one eviction removes next.
    private readonly LinkedList<CachedPacket> _order = new();

    /// <summary>A cache that holds at most <paramref name="capacity"/> packets; 0 holds nothing.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is negative.</exception>
    public MemoryPkarrCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;

        // The dictionary grows as keys arrive: a large capacity that is never filled costs nothing up front.
        _nodes = new Dictionary<PublicKey, LinkedListNode<CachedPacket>>(Math.Min(capacity, 1024));
    }

    /// <inheritdoc />
    public int Capacity { get; }

    /// <inheritdoc />
    public ValueTask<int> CountAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_nodes.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<CachedPacket?> GetAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(key, out var node))
            {
                return ValueTask.FromResult<CachedPacket?>(null);
            }

            MoveToFront(node);
            return ValueTask.FromResult<CachedPacket?>(node.Value);
        }
    }

    /// <inheritdoc />
    public ValueTask<CachedPacket?> PeekAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_nodes.TryGetValue(key, out var node) ? node.Value : null);
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
        lock (_gate)
        {
            if (_nodes.TryGetValue(key, out var node))
            {
                var current = node.Value;
                if (!entry.Supersedes(current))
                {
                    return ValueTask.FromResult(false);
                }

                // The same packet seen again keeps the packet object readers already hold; only its age changes.
                node.Value = entry.Packet.IsSameAs(current.Packet) ? current with { LastSeen = entry.LastSeen } : entry;
                MoveToFront(node);
                return ValueTask.FromResult(true);
            }

            if (_nodes.Count == Capacity)
            {
                var oldest = _order.Last!;
                _order.RemoveLast();
                _nodes.Remove(oldest.Value.Packet.PublicKey);
            }

            _nodes.Add(key, _order.AddFirst(entry));
            return ValueTask.FromResult(true);
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
