// A small least-recently-used map with a capacity; reads count as use.
namespace Mainline.Server;

internal sealed class Lru<TKey, TValue>(int capacity)
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, TValue>>> _map = [];
    private readonly LinkedList<KeyValuePair<TKey, TValue>> _order = new();

    // Nodes of entries that left, kept for the next ones: a table that forgets entries as fast as it meets new ones (a
    // rate limiter's, in a busy overlay) then allocates no node per entry.
    private readonly Stack<LinkedListNode<KeyValuePair<TKey, TValue>>> _spare = [];
    private const int MaxSpare = 8;

    public int Capacity { get; } = capacity;

    /// <summary>Called with every value that leaves the map (eviction, replacement, removal).</summary>
    public Action<TValue>? Removed { get; init; }

    public int Count => _map.Count;

    public IEnumerable<TValue> Values => _order.Select(kv => kv.Value);

    /// <summary>The least recently used value (the next to be evicted), without counting as use.</summary>
    public bool TryPeekOldest(out TValue value)
    {
        if (_order.Last is { } last)
        {
            value = last.Value.Value;
            return true;
        }

        value = default!;
        return false;
    }

    public bool TryGet(TKey key, out TValue value)
    {
        if (_map.TryGetValue(key, out var node))
        {
            _order.Remove(node);
            _order.AddFirst(node);
            value = node.Value.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Sets a value, evicting the least recently used entry when full.</summary>
    public void Set(TKey key, TValue value)
    {
        if (_map.TryGetValue(key, out var node))
        {
            _order.Remove(node);
            Removed?.Invoke(node.Value.Value);
        }
        else
        {
            if (_map.Count >= Capacity && _order.Last is { } last)
            {
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
                Removed?.Invoke(last.Value.Value);
                Spare(last);
            }

            node = _spare.TryPop(out var spare) ? spare : new LinkedListNode<KeyValuePair<TKey, TValue>>(default);
        }

        node.Value = new(key, value);
        _order.AddFirst(node);
        _map[key] = node;
    }

    public bool Remove(TKey key)
    {
        if (_map.Remove(key, out var node))
        {
            _order.Remove(node);
            Removed?.Invoke(node.Value.Value);
            Spare(node);
            return true;
        }

        return false;
    }

    /// <summary>Removes the least recently used entries while they match <paramref name="predicate"/>, at most
    /// <paramref name="max"/> of them: an O(1) clean-up callers can run on every use.</summary>
    public void RemoveOldestWhile<TState>(Func<TValue, TState, bool> predicate, TState state, int max)
    {
        for (var i = 0; i < max && _order.Last is { } last && predicate(last.Value.Value, state); i++)
        {
            _order.RemoveLast();
            _map.Remove(last.Value.Key);
            Removed?.Invoke(last.Value.Value);
            Spare(last);
        }
    }

    /// <summary>Removes every entry matching <paramref name="predicate"/>.</summary>
    public void RemoveWhere(Func<TValue, bool> predicate)
    {
        var node = _order.First;
        while (node is not null)
        {
            var next = node.Next;
            if (predicate(node.Value.Value))
            {
                _order.Remove(node);
                _map.Remove(node.Value.Key);
                Removed?.Invoke(node.Value.Value);
                Spare(node);
            }

            node = next;
        }
    }

    /// <summary>Keeps the node of an entry that left for a later one (holding neither its key nor its value).</summary>
    private void Spare(LinkedListNode<KeyValuePair<TKey, TValue>> node)
    {
        if (_spare.Count < MaxSpare)
        {
            node.Value = default;
            _spare.Push(node);
        }
    }
}
