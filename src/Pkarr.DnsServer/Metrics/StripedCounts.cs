// Counters that every query bumps. Through a Counter<long> each measurement with tags costs an OpenTelemetry
// aggregator lookup of its tag set: tens of nanoseconds and the memory that lookup walks, on a path that answers a
// cached query in a few hundred nanoseconds in all. Here a count is one atomic add to a cell of the running
// processor's stripe (so the receive loops on different processors never write the same cache line), and an
// ObservableCounter reports the sums when /metrics is collected.

using System.Numerics;

namespace Pkarr.DnsServer.Metrics;

/// <summary>A fixed number of counters, each striped by processor.</summary>
internal sealed class StripedCounts
{
    // A stripe is padded by a whole 64-byte line, so two stripes never share one whatever the array's alignment.
    private const int LongsPerLine = 8;
    private const int MaxStripes = 64;

    private readonly long[] _cells;
    private readonly int _stride;
    private readonly int _mask;

    /// <summary>Creates <paramref name="count"/> counters at zero.</summary>
    public StripedCounts(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Count = count;
        int stripes = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(Environment.ProcessorCount, 1, MaxStripes));
        _mask = stripes - 1;
        _stride = ((count + LongsPerLine - 1) / LongsPerLine * LongsPerLine) + LongsPerLine;
        _cells = new long[stripes * _stride];
    }

    /// <summary>The number of counters.</summary>
    public int Count { get; }

    /// <summary>Adds one to counter <paramref name="counter"/> (0 ≤ counter &lt; <see cref="Count"/>).</summary>
    public void Increment(int counter)
    {
        // Threads that share a stripe (a stale processor id, more processors than stripes) are still counted exactly.
        int stripe = Thread.GetCurrentProcessorId() & _mask;
        Interlocked.Increment(ref _cells[(stripe * _stride) + counter]);
    }

    /// <summary>Counter <paramref name="counter"/>'s total over the stripes.</summary>
    public long Total(int counter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(counter);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(counter, Count);
        long total = 0;
        for (int at = counter; at < _cells.Length; at += _stride)
        {
            total += Volatile.Read(ref _cells[at]);
        }

        return total;
    }
}
