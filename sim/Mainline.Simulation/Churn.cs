// Node lifetimes: Weibull with shape k < 1 (pubky's pkarr-churn study: many nodes leave within hours, a stable
// core stays). The scale follows from the replacement rate: in steady state a population of N nodes, each
// replaced when it leaves, loses N / mean-lifetime nodes per unit of time (renewal theory), so a fraction c per
// hour means mean = 1 h / c and λ = mean / Γ(1 + 1/k).
//
// Nodes present when a run starts have been online for a while: their remaining lifetimes follow the residual
// (equilibrium excess) distribution, sampled as U·L with L length-biased, (L/λ)^k ~ Gamma(1 + 1/k, 1). Drawing
// fresh lifetimes for them instead would make the first hours lose far more nodes than the steady state.
namespace Mainline.Simulation;

/// <summary>Weibull lifetimes of churning nodes, in virtual milliseconds.</summary>
internal sealed class ChurnModel
{
    public const double HourMs = 3_600_000;

    /// <summary>Default shape, as measured by pkarr-churn (issue 14).</summary>
    public const double DefaultShape = 0.8;

    public ChurnModel(double replacedPerHour, double shape = DefaultShape)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(replacedPerHour);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shape);
        Shape = shape;
        ScaleMs = replacedPerHour == 0 ? double.PositiveInfinity : ScaleFor(replacedPerHour, shape);
    }

    /// <summary>Fraction of a steady population replaced per hour: 1 h over the mean lifetime.</summary>
    public double ReplacedPerHour => double.IsInfinity(ScaleMs) ? 0 : HourMs / Distributions.WeibullMean(Shape, ScaleMs);

    /// <summary>The model of node lifetimes Weibull(<paramref name="shape"/>, <paramref name="scaleHours"/> h).</summary>
    public static ChurnModel FromScale(double shape, double scaleHours) =>
        new(HourMs / Distributions.WeibullMean(shape, scaleHours * HourMs), shape);

    public double Shape { get; }

    /// <summary>λ in milliseconds; infinite without churn.</summary>
    public double ScaleMs { get; }

    public bool Enabled => ReplacedPerHour > 0;

    /// <summary>λ (ms) such that a population replaces <paramref name="replacedPerHour"/> of itself per hour.</summary>
    public static double ScaleFor(double replacedPerHour, double shape) =>
        HourMs / replacedPerHour / Distributions.Gamma(1 + (1 / shape));

    /// <summary>The lifetime of a node that joins now.</summary>
    public long FreshLifetime(SimRandom random) => Clamp(random.Weibull(Shape, ScaleMs));

    /// <summary>The remaining lifetime of a node found online at a random moment.</summary>
    public long ResidualLifetime(SimRandom random) =>
        Clamp(random.NextDouble() * ScaleMs * Math.Pow(random.Gamma(1 + (1 / Shape)), 1 / Shape));

    private static long Clamp(double ms) => double.IsFinite(ms) ? (long)Math.Min(Math.Max(ms, 1), long.MaxValue / 4) : long.MaxValue;
}
