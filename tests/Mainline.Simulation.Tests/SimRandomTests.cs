using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

public class SimRandomTests
{
    [Fact]
    public void One_seed_gives_one_sequence_and_purposes_are_independent()
    {
        var a = SimRandom.For(42, "network");
        var b = SimRandom.For(42, "network");
        var c = SimRandom.For(42, "churn");
        var d = SimRandom.For(43, "network");
        var sa = Enumerable.Range(0, 100).Select(_ => a.NextUInt64()).ToList();
        Assert.Equal(sa, Enumerable.Range(0, 100).Select(_ => b.NextUInt64()));
        Assert.NotEqual(sa, Enumerable.Range(0, 100).Select(_ => c.NextUInt64()));
        Assert.NotEqual(sa, Enumerable.Range(0, 100).Select(_ => d.NextUInt64()));
        Assert.NotEqual(SimRandom.Derive(1, "node", 1), SimRandom.Derive(1, "node", 2));
    }

    [Fact]
    public void Next_stays_in_range_and_covers_it()
    {
        var r = new SimRandom(7);
        var seen = new int[10];
        for (var i = 0; i < 10_000; i++)
        {
            seen[r.Next(10)]++;
        }

        Assert.All(seen, count => Assert.InRange(count, 850, 1150));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Next(0));
    }

    [Fact]
    public void Fill_is_deterministic_for_odd_lengths()
    {
        var x = new byte[13];
        var y = new byte[13];
        new SimRandom(5).Fill(x);
        new SimRandom(5).Fill(y);
        Assert.Equal(x, y);
        Assert.Contains(x, b => b != 0);
    }

    [Fact]
    public void Log_normal_has_the_given_median_and_spread()
    {
        var r = new SimRandom(11);
        var samples = Enumerable.Range(0, 20_000).Select(_ => r.LogNormal(100, 0.6)).ToList();
        Assert.InRange(Percentiles.Of(samples, 50), 95, 105);
        // ln of a log-normal is normal: its standard deviation is sigma.
        var logs = samples.Select(v => Math.Log(v)).ToList();
        var mean = logs.Average();
        var sd = Math.Sqrt(logs.Sum(v => (v - mean) * (v - mean)) / logs.Count);
        Assert.InRange(sd, 0.57, 0.63);
    }

    [Fact]
    public void Weibull_exponential_and_gamma_have_their_means()
    {
        var r = new SimRandom(12);
        var weibull = Enumerable.Range(0, 40_000).Select(_ => r.Weibull(0.8, 10)).Average();
        Assert.InRange(weibull, 10 * 1.1330 * 0.95, 10 * 1.1330 * 1.05); // λ Γ(1 + 1/0.8)
        var exponential = Enumerable.Range(0, 40_000).Select(_ => r.Exponential(5)).Average();
        Assert.InRange(exponential, 4.85, 5.15);
        var gamma = Enumerable.Range(0, 40_000).Select(_ => r.Gamma(2.25)).Average();
        Assert.InRange(gamma, 2.2, 2.3);
        Assert.InRange(Distributions.Gamma(2.25), 1.1330, 1.1331);
        Assert.Equal(24, Distributions.Gamma(5), 9);
    }

    [Fact]
    public void Percentiles_use_the_nearest_rank()
    {
        double[] values = [5, 1, 4, 2, 3];
        Assert.Equal(3, Percentiles.Of(values, 50));
        Assert.Equal(5, Percentiles.Of(values, 99));
        Assert.Equal(1, Percentiles.Of(values, 0));
        Assert.True(double.IsNaN(Percentiles.Of(Array.Empty<double>(), 50)));
    }
}
