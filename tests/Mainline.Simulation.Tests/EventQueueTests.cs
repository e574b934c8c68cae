using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

public class EventQueueTests
{
    [Fact]
    public void Events_come_out_by_time_then_in_insertion_order()
    {
        var queue = new EventQueue<string>();
        queue.Enqueue(20, "c");
        queue.Enqueue(10, "a");
        queue.Enqueue(20, "d");
        queue.Enqueue(10, "b");
        queue.Enqueue(15, "x");

        var order = new List<(long, string)>();
        while (queue.TryDequeue(out var time, out var item))
        {
            order.Add((time, item));
        }

        Assert.Equal([(10, "a"), (10, "b"), (15, "x"), (20, "c"), (20, "d")], order);
        Assert.Equal(20, queue.Now);
        Assert.Equal(5, queue.Processed);
    }

    [Fact]
    public void Many_equal_times_keep_insertion_order()
    {
        var queue = new EventQueue<int>();
        for (var i = 0; i < 1000; i++)
        {
            queue.Enqueue(i % 3 == 0 ? 7 : 5, i);
        }

        var fives = new List<int>();
        var sevens = new List<int>();
        while (queue.TryDequeue(out var time, out var item))
        {
            (time == 5 ? fives : sevens).Add(item);
        }

        Assert.Equal(fives.Order(), fives);
        Assert.Equal(sevens.Order(), sevens);
        Assert.Equal(1000, fives.Count + sevens.Count);
    }

    [Fact]
    public void A_time_in_the_past_runs_now_and_the_clock_never_goes_back()
    {
        var queue = new EventQueue<string>();
        queue.Enqueue(100, "first");
        Assert.True(queue.TryDequeue(out _, out _));
        queue.Enqueue(50, "late");
        Assert.True(queue.TryDequeue(out var time, out var item));
        Assert.Equal(100, time);
        Assert.Equal("late", item);

        queue.AdvanceTo(300);
        Assert.Equal(300, queue.Now);
        queue.Enqueue(400, "next");
        queue.AdvanceTo(500); // an event is due before 500: the clock stays
        Assert.Equal(300, queue.Now);
        Assert.True(queue.TryDequeue(out var at, out _));
        Assert.Equal(400, at);
    }
}
