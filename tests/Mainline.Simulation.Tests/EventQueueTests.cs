using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

public class EventQueueTests
{
    [Fact]
    public void Events_come_out_by_time_then_by_sequence_number()
    {
        var queue = new EventQueue<string>();
        queue.Enqueue(new EventKey(20, 0), "c");
        queue.Enqueue(new EventKey(10, 3), "b");
        queue.Enqueue(new EventKey(20, 1), "d");
        queue.Enqueue(new EventKey(10, 2), "a");
        queue.Enqueue(new EventKey(15, 4), "x");

        var order = new List<(long, string)>();
        while (queue.TryPeek(out var next) && queue.TryDequeueAt(next.Time, long.MaxValue, out var key, out var item))
        {
            Assert.Equal(next, key);
            order.Add((key.Time, item));
        }

        Assert.Equal([(10, "a"), (10, "b"), (15, "x"), (20, "c"), (20, "d")], order);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Many_equal_times_come_out_by_sequence_number()
    {
        var queue = new EventQueue<int>();
        for (var i = 0; i < 1000; i++)
        {
            queue.Enqueue(new EventKey(i % 3 == 0 ? 7 : 5, i), i);
        }

        var taken = new List<int>();
        foreach (var time in new long[] { 5, 7 })
        {
            while (queue.TryDequeueAt(time, long.MaxValue, out _, out var item))
            {
                taken.Add(item);
            }
        }

        Assert.Equal(Enumerable.Range(0, 1000).Where(i => i % 3 != 0).Concat(Enumerable.Range(0, 1000).Where(i => i % 3 == 0)), taken);
    }

    [Fact]
    public void Only_the_events_of_the_time_asked_and_before_the_bound_are_taken()
    {
        var queue = new EventQueue<string>();
        queue.Enqueue(new EventKey(10, 1), "a");
        queue.Enqueue(new EventKey(10, 5), "b");
        queue.Enqueue(new EventKey(11, 2), "c");

        Assert.False(queue.TryDequeueAt(9, long.MaxValue, out _, out _)); // nothing at 9
        Assert.True(queue.TryDequeueAt(10, 5, out _, out var first));
        Assert.Equal("a", first);
        Assert.False(queue.TryDequeueAt(10, 5, out _, out _)); // b was scheduled at the bound
        Assert.False(queue.TryDequeueAt(11, long.MaxValue, out _, out _)); // b is due first
        Assert.True(queue.TryDequeueAt(10, 6, out _, out var second));
        Assert.Equal("b", second);
        Assert.True(queue.TryDequeueAt(11, long.MaxValue, out _, out var third));
        Assert.Equal("c", third);
    }
}
