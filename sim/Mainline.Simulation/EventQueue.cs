// The simulator's clock and agenda: events ordered by virtual time, ties in insertion order.
namespace Mainline.Simulation;

/// <summary>Where an event sits in the agenda: its virtual time, then the order it was scheduled in.</summary>
internal readonly record struct EventKey(long Time, long Sequence) : IComparable<EventKey>
{
    public int CompareTo(EventKey other) => Time != other.Time ? Time.CompareTo(other.Time) : Sequence.CompareTo(other.Sequence);
}

/// <summary>
/// A priority queue of events keyed by (time, sequence number): equal times come out in the order they went in,
/// so a run never depends on how the heap breaks ties. The current time only moves forward.
/// </summary>
internal sealed class EventQueue<T>
{
    private readonly PriorityQueue<T, EventKey> _queue = new();
    private long _sequence;

    /// <summary>The time of the event taken last (virtual milliseconds).</summary>
    public long Now { get; private set; }

    public int Count => _queue.Count;

    /// <summary>Events taken so far.</summary>
    public long Processed { get; private set; }

    /// <summary>Schedules <paramref name="item"/> at <paramref name="time"/>; a time in the past runs now.</summary>
    public void Enqueue(long time, T item) => _queue.Enqueue(item, new EventKey(Math.Max(time, Now), _sequence++));

    /// <summary>The time of the next event, or false when the agenda is empty.</summary>
    public bool TryPeekTime(out long time)
    {
        if (_queue.TryPeek(out _, out var key))
        {
            time = key.Time;
            return true;
        }

        time = 0;
        return false;
    }

    /// <summary>Takes the next event and moves the clock to its time.</summary>
    public bool TryDequeue(out long time, out T item)
    {
        if (_queue.TryDequeue(out item!, out var key))
        {
            Now = key.Time;
            time = key.Time;
            Processed++;
            return true;
        }

        time = Now;
        return false;
    }

    /// <summary>Moves the clock to <paramref name="time"/> when nothing is scheduled before it.</summary>
    public void AdvanceTo(long time)
    {
        if (time > Now && (!TryPeekTime(out var next) || next >= time))
        {
            Now = time;
        }
    }
}
