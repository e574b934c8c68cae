// Calibrating the churn model against pubky's pkarr-churn study (issue 14): the survival of one stored copy
// (lower 99 % bound: 1 h 85.9 %, 1 day 38.9 %, 2 days 23.9 %, 1 week 3.1 %) and of 20 copies (1 day 100 %,
// 1 week 51.6 %).
//
// A copy lives as long as its holder stays online. A holder is a node found online at a random moment, so its
// remaining lifetime follows the residual (equilibrium excess) distribution of node lifetimes:
//   S_res(t) = (1/μ) ∫_t^∞ S(u) du,  which for Weibull(k, λ) lifetimes is Q(1/k, (t/λ)^k)
// (Q the regularized upper incomplete gamma function). Two fits are made:
//   1. a Weibull straight to the holders' residual lifetimes (least squares on the Weibull plot ln(−ln S) = k ln t − k ln λ);
//   2. the Weibull of node lifetimes whose residual survival S_res matches the whole table, 20 copies included
//      (least squares on survival):
//      that is the model the simulator's churn runs, and it fixes the replacement rate 1 h / μ.
// 20 independent copies survive t with 1 − (1 − S(t))^20. A Monte Carlo run of the simulator's own sampler
// (ChurnModel.ResidualLifetime) checks the analytic columns.
using System.Globalization;
using System.Text;

namespace Mainline.Simulation;

/// <summary>One row of the survival table.</summary>
internal sealed record SurvivalRow(string Label, double Hours, int Copies, double Study);

/// <summary>The calibration's fitted parameters and table.</summary>
internal sealed record CalibrationResult(
    double ResidualShape, double ResidualScaleHours,
    double LifetimeShape, double LifetimeScaleHours, double ReplacedPerHour,
    IReadOnlyList<(SurvivalRow Row, double ResidualFit, double LifetimeFit, double MonteCarlo)> Table);

internal static class Calibration
{
    /// <summary>pkarr-churn's published survival table (lower 99 % bound), as quoted in issue 14.</summary>
    public static IReadOnlyList<SurvivalRow> Study { get; } =
    [
        new("1 copy, 1 hour", 1, 1, 0.859),
        new("1 copy, 1 day", 24, 1, 0.389),
        new("1 copy, 2 days", 48, 1, 0.239),
        new("1 copy, 1 week", 168, 1, 0.031),
        new("20 copies, 1 day", 24, 20, 1.000),
        new("20 copies, 1 week", 168, 20, 0.516),
    ];

    /// <summary>Survival of at least one of <paramref name="copies"/> independent copies.</summary>
    public static double AnyOf(double single, int copies) => 1 - Math.Pow(1 - single, copies);

    /// <summary>Least-squares Weibull fit on the Weibull plot of (hours, survival) points.</summary>
    public static (double Shape, double ScaleHours) FitWeibull(IReadOnlyList<(double Hours, double Survival)> points)
    {
        var xs = points.Select(p => Math.Log(p.Hours)).ToArray();
        var ys = points.Select(p => Math.Log(-Math.Log(p.Survival))).ToArray();
        var mx = xs.Average();
        var my = ys.Average();
        var slope = xs.Zip(ys, (x, y) => (x - mx) * (y - my)).Sum() / xs.Sum(x => (x - mx) * (x - mx));
        var intercept = my - (slope * mx);
        return (slope, Math.Exp(-intercept / slope));
    }

    /// <summary>Residual survival of Weibull(<paramref name="shape"/>, <paramref name="scale"/>) lifetimes at <paramref name="t"/>.</summary>
    public static double ResidualSurvival(double t, double shape, double scale) =>
        UpperRegularizedGamma(1 / shape, Math.Pow(t / scale, shape));

    /// <summary>The Weibull of node lifetimes whose residual survival best fits <paramref name="rows"/> (copies included)
    /// (least squares on survival; a grid over shape and log-scale, then a finer grid around the best).</summary>
    public static (double Shape, double ScaleHours) FitLifetimes(IReadOnlyList<SurvivalRow> rows)
    {
        double Error(double k, double logScale)
        {
            var scale = Math.Exp(logScale);
            return rows.Sum(r => Math.Pow(AnyOf(ResidualSurvival(r.Hours, k, scale), r.Copies) - r.Study, 2));
        }

        var (bestK, bestL, bestE) = (1.0, 0.0, double.MaxValue);
        for (var k = 0.2; k <= 2.0; k += 0.02)
        {
            for (var l = 0.0; l <= Math.Log(5000); l += 0.02)
            {
                var e = Error(k, l);
                if (e < bestE)
                {
                    (bestK, bestL, bestE) = (k, l, e);
                }
            }
        }

        var (k0, l0) = (bestK, bestL);
        for (var k = k0 - 0.02; k <= k0 + 0.02; k += 0.0005)
        {
            for (var l = l0 - 0.02; l <= l0 + 0.02; l += 0.0005)
            {
                var e = Error(k, l);
                if (k > 0 && e < bestE)
                {
                    (bestK, bestL, bestE) = (k, l, e);
                }
            }
        }

        return (bestK, Math.Exp(bestL));
    }

    /// <summary>Fits both models and tabulates them beside the study, with a Monte Carlo check of the sampler.</summary>
    public static CalibrationResult Run(ulong seed = 1, int samples = 200_000)
    {
        List<(double, double)> single = [.. Study.Where(r => r.Copies == 1).Select(r => (r.Hours, r.Study))];
        var (rk, rl) = FitWeibull(single);
        var (lk, ll) = FitLifetimes(Study);
        var churn = ChurnModel.FromScale(lk, ll);

        var random = SimRandom.For(seed, "calibration");
        var residual = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            residual[i] = churn.ResidualLifetime(random) / ChurnModel.HourMs;
        }

        double MonteCarlo(SurvivalRow row)
        {
            // Copies on disjoint sets of random holders: groups of `Copies` consecutive samples.
            var groups = samples / row.Copies;
            var alive = 0;
            for (var g = 0; g < groups; g++)
            {
                var any = false;
                for (var c = 0; c < row.Copies && !any; c++)
                {
                    any = residual[(g * row.Copies) + c] > row.Hours;
                }

                alive += any ? 1 : 0;
            }

            return (double)alive / groups;
        }

        var table = Study.Select(row => (row,
            AnyOf(Distributions.WeibullSurvival(row.Hours, rk, rl), row.Copies),
            AnyOf(ResidualSurvival(row.Hours, lk, ll), row.Copies),
            MonteCarlo(row))).ToList();
        return new CalibrationResult(rk, rl, lk, ll, churn.ReplacedPerHour, table);
    }

    /// <summary>Holder counts the republisher's defaults are chosen among.</summary>
    public static IReadOnlyList<int> HolderCounts { get; } = [1, 3, 5, 10, 15, 17, 20];

    /// <summary>The availability the pkarr-churn study asks of a key between two republishes.</summary>
    public const double TargetAvailability = 0.999;

    /// <summary>
    /// For <paramref name="holders"/> copies put at once, the longest time (hours, to 0.1 h, at most a week) during which
    /// at least one of them stays online with probability ≥ <see cref="TargetAvailability"/>, under the residual
    /// survival <paramref name="survival"/>: how long a key outlives its republisher. Copies fail independently.
    /// </summary>
    public static double HoursAvailable(int holders, Func<double, double> survival)
    {
        var tenths = 0;
        while (tenths < 1680 && AnyOf(survival((tenths + 1) / 10.0), holders) >= TargetAvailability)
        {
            tenths++;
        }

        return tenths / 10.0;
    }

    /// <summary>
    /// The republisher table: for each holder count, how long a key stays available at ≥ 99.9 % after its last put,
    /// under the residual Weibull fit and under the node-lifetime model the simulator runs.
    /// </summary>
    public static string FormatHolders(CalibrationResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine("| holders after a put | available ≥ 99.9 % for (residual Weibull fit) | (node-lifetime model) |");
        s.AppendLine("|--------------------:|----------------------------------------------:|----------------------:|");
        foreach (var holders in HolderCounts)
        {
            var fit = HoursAvailable(holders, t => Distributions.WeibullSurvival(t, r.ResidualShape, r.ResidualScaleHours));
            var model = HoursAvailable(holders, t => ResidualSurvival(t, r.LifetimeShape, r.LifetimeScaleHours));
            s.AppendLine(c, $"| {holders,19} | {fit,43:F1} h | {model,19:F1} h |");
        }

        return s.ToString();
    }

    /// <summary>The result as a Markdown table with the fitted parameters above it.</summary>
    public static string Format(CalibrationResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine(c, $"Holder residual lifetimes, Weibull fit: shape {r.ResidualShape:F3}, scale {r.ResidualScaleHours:F1} h");
        s.AppendLine(c, $"Node lifetimes whose residual fits:   shape {r.LifetimeShape:F3}, scale {r.LifetimeScaleHours:F1} h "
            + $"(mean {Distributions.WeibullMean(r.LifetimeShape, r.LifetimeScaleHours):F1} h; --churn-per-hour {r.ReplacedPerHour:F4})");
        s.AppendLine();
        s.AppendLine("| survival           | study (pkarr-churn) | residual Weibull fit | node-lifetime model | simulated sampler |");
        s.AppendLine("|--------------------|--------------------:|---------------------:|--------------------:|------------------:|");
        foreach (var (row, fit, model, mc) in r.Table)
        {
            s.AppendLine(c, $"| {row.Label,-18} | {row.Study * 100,18:F1}% | {fit * 100,19:F1}% | {model * 100,18:F1}% | {mc * 100,16:F1}% |");
        }

        return s.ToString();
    }

    /// <summary>Q(a, x) = Γ(a, x) / Γ(a): a series below x = a + 1, a continued fraction above (Numerical Recipes §6.2).</summary>
    public static double UpperRegularizedGamma(double a, double x)
    {
        if (x <= 0)
        {
            return 1;
        }

        var logPrefix = (a * Math.Log(x)) - x - LogGamma(a);
        if (x < a + 1)
        {
            var sum = 1 / a;
            var term = sum;
            for (var n = 1; n < 1000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-15)
                {
                    break;
                }
            }

            return 1 - (sum * Math.Exp(logPrefix));
        }

        // Lentz's method for the continued fraction of Γ(a, x).
        const double Tiny = 1e-300;
        var b = x + 1 - a;
        var cc = 1 / Tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < 1000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < Tiny ? Tiny : d;
            cc = b + (an / cc);
            cc = Math.Abs(cc) < Tiny ? Tiny : cc;
            d = 1 / d;
            var delta = d * cc;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15)
            {
                break;
            }
        }

        return Math.Exp(logPrefix) * h;
    }

    private static double LogGamma(double x) => Math.Log(Distributions.Gamma(x));
}
