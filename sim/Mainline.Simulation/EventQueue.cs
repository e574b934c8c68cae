// The simulator's agenda: events ordered by virtual time, ties by the order they were scheduled in.
namespace Mainline.Simulation;

/// <summary>Where an event sits in the agenda: its virtual time, then the order it was scheduled in.</summary>
internal readonly record struct EventKey(long Time, long Sequence) : IComparable<EventKey>
{
    public int CompareTo(EventKey other) => Time != other.Time ? Time.CompareTo(other.Time) : Sequence.CompareTo(other.Sequence);
}

/// <summary>
/// A priority queue of events keyed by (time, sequence number). The sequence numbers come from the caller, one
/// counter for all the queues of a simulation, so events of equal time come out in the order they were scheduled
/// whichever queue holds them, and a run never depends on how a heap breaks ties.
/// </summary>
internal sealed class EventQueue<T>
{
    private readonly PriorityQueue<T, EventKey> _queue = new();

    public int Count => _queue.Count;

    public void Enqueue(EventKey key, T item) => _queue.Enqueue(item, key);

    /// <summary>The key of the next event, or false when the queue is empty.</summary>
    public bool TryPeek(out EventKey key) => _queue.TryPeek(out _, out key);

    /// <summary>Takes the next event if it is due at <paramref name="time"/> and was scheduled before
    /// <paramref name="bound"/> (a sequence number).</summary>
    public bool TryDequeueAt(long time, long bound, out EventKey key, out T item)
    {
        if (_queue.TryPeek(out _, out key) && key.Time == time && key.Sequence < bound)
        {
            return _queue.TryDequeue(out item!, out key);
        }

        item = default!;
        return false;
    }
}
