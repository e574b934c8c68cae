using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

public class ChurnTests
{
    [Fact]
    public void The_scale_makes_the_mean_lifetime_one_hour_over_the_rate()
    {
        var churn = new ChurnModel(0.1, 0.8);
        Assert.Equal(10 * ChurnModel.HourMs, Distributions.WeibullMean(0.8, churn.ScaleMs), 3);
        Assert.Equal(0.1, churn.ReplacedPerHour, 9);
        Assert.Equal(0.25, ChurnModel.FromScale(0.5, 2).ReplacedPerHour, 9); // mean 2 h × Γ(3) = 4 h
        Assert.False(new ChurnModel(0).Enabled);
        Assert.Equal(long.MaxValue, new ChurnModel(0).FreshLifetime(new SimRandom(1)));
    }

    [Fact]
    public void A_population_started_from_residual_lifetimes_is_replaced_at_the_rate_from_the_first_hour()
    {
        // 20,000 slots, each holding a node; a departing node is replaced by a fresh one.
        var churn = new ChurnModel(0.1, 0.8);
        var r = new SimRandom(21);
        var queue = new PriorityQueue<int, long>();
        for (var i = 0; i < 20_000; i++)
        {
            queue.Enqueue(i, churn.ResidualLifetime(r));
        }

        var perHour = new int[6];
        while (queue.TryPeek(out var slot, out var at) && at < 6 * ChurnModel.HourMs)
        {
            queue.Dequeue();
            perHour[(int)(at / ChurnModel.HourMs)]++;
            queue.Enqueue(slot, at + churn.FreshLifetime(r));
        }

        // 10 % of 20,000 per hour, within sampling noise, in the first hour as in the sixth.
        Assert.All(perHour, n => Assert.InRange(n, 1800, 2200));

        // Fresh lifetimes instead make the first hour lose far more (decreasing hazard, k < 1).
        var fresh = Enumerable.Range(0, 20_000).Count(_ => churn.FreshLifetime(r) < ChurnModel.HourMs);
        Assert.True(fresh > 2600, $"{fresh}");
    }
}
