using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

public class NetworkModelTests
{
    private static readonly NetworkModel Model = new(new NetworkOptions(), 3);

    [Fact]
    public void Round_trips_are_symmetric_stable_and_log_normal_around_the_median()
    {
        var r = new SimRandom(1);
        var rtts = new List<double>();
        for (var i = 0; i < 10_000; i++)
        {
            var a = (uint)r.NextUInt64();
            var b = (uint)r.NextUInt64();
            Assert.Equal(Model.RttMs(a, b), Model.RttMs(b, a));
            Assert.Equal(Model.DelayMs(a, b), Model.DelayMs(b, a));
            Assert.True(Model.DelayMs(a, b) >= 1);
            rtts.Add(Model.RttMs(a, b));
        }

        Assert.InRange(Percentiles.Of(rtts, 50), 95, 105);
        Assert.InRange(Percentiles.Of(rtts, 90), 190, 245); // 100 e^(0.6 × 1.2816) ≈ 216
        Assert.Equal(Model.RttMs(1, 2), new NetworkModel(new NetworkOptions(), 3).RttMs(1, 2));
        Assert.NotEqual(Model.RttMs(1, 2), new NetworkModel(new NetworkOptions(), 4).RttMs(1, 2));
    }

    [Fact]
    public void Loss_and_unresponsive_fractions_match_the_options()
    {
        var lost = 0;
        for (var i = 0; i < 200_000; i++)
        {
            lost += Model.Lost((uint)(i % 97), i) ? 1 : 0;
        }

        Assert.InRange(lost / 200_000.0, 0.009, 0.011);
        var natted = Enumerable.Range(0, 50_000).Count(a => Model.IsUnresponsive((uint)a * 2654435761u));
        Assert.InRange(natted / 50_000.0, 0.19, 0.21);

        var none = new NetworkModel(new NetworkOptions { Loss = 0, Unresponsive = 0 }, 3);
        Assert.DoesNotContain(Enumerable.Range(0, 10_000), i => none.Lost(1, i) || none.IsUnresponsive((uint)i));
    }

    [Fact]
    public void Access_delays_are_exponential_with_their_mean()
    {
        var mean = Enumerable.Range(0, 50_000).Average(a => Model.AccessMs((uint)a * 2654435761u));
        Assert.InRange(mean, 4.85, 5.15);
    }
}
