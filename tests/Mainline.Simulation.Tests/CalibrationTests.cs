using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

public class CalibrationTests
{
    [Theory]
    [InlineData(1.0, 0.5)]
    [InlineData(1.0, 3.0)]
    [InlineData(1.0, 20.0)]
    public void Q_of_one_is_the_exponential_tail(double a, double x) =>
        Assert.Equal(Math.Exp(-x), Calibration.UpperRegularizedGamma(a, x), 12);

    [Fact]
    public void Q_of_a_half_is_erfc_of_the_root()
    {
        // erfc(1) and erfc(2), tabulated.
        Assert.Equal(0.157299207050285, Calibration.UpperRegularizedGamma(0.5, 1), 10);
        Assert.Equal(0.004677734981047, Calibration.UpperRegularizedGamma(0.5, 4), 10);
        Assert.Equal(1, Calibration.UpperRegularizedGamma(2.5, 0));
    }

    [Fact]
    public void Residual_survival_of_exponential_lifetimes_is_the_same_exponential()
    {
        // Memoryless: the residual of Weibull(1, λ) is Weibull(1, λ).
        foreach (var t in new[] { 0.5, 2.0, 10.0 })
        {
            Assert.Equal(Math.Exp(-t / 3), Calibration.ResidualSurvival(t, 1, 3), 10);
        }
    }

    [Fact]
    public void Fits_recover_the_parameters_of_exact_data()
    {
        double[] hours = [1, 24, 48, 168];
        var (k, l) = Calibration.FitWeibull([.. hours.Select(h => (h, Distributions.WeibullSurvival(h, 0.6, 24)))]);
        Assert.Equal(0.6, k, 6);
        Assert.Equal(24, l, 4);

        List<SurvivalRow> rows = [.. hours.Select(h => new SurvivalRow("", h, 1, Calibration.ResidualSurvival(h, 0.5, 5)))];
        var (lk, ll) = Calibration.FitLifetimes(rows);
        Assert.InRange(lk, 0.49, 0.51);
        Assert.InRange(ll, 4.8, 5.2);
    }

    [Fact]
    public void The_calibrated_model_reproduces_the_study_within_a_few_points()
    {
        var result = Calibration.Run(seed: 1, samples: 40_000);
        Assert.Equal(6, result.Table.Count);
        foreach (var (row, residualFit, model, monteCarlo) in result.Table)
        {
            Assert.InRange(residualFit - row.Study, -0.05, 0.05);
            // The 1-hour loss of the study is steeper than any stationary Weibull population gives (docs).
            Assert.InRange(model - row.Study, -0.03, row.Hours == 1 ? 0.07 : 0.03);
            Assert.InRange(monteCarlo - model, -0.02, 0.02);
        }

        Assert.InRange(result.LifetimeShape, 0.3, 0.6);
        Assert.Contains("| 20 copies, 1 week  |", Calibration.Format(result));
    }

    [Fact]
    public void Hours_available_is_where_any_of_the_copies_falls_to_the_target()
    {
        // Exponential copies with a 10-h mean: one of n survives t with 1 − (1 − e^(−t/10))^n, which is 99.9 % at
        // t = −10 ln(1 − 0.001^(1/n)).
        foreach (var n in new[] { 5, 17 })
        {
            var exact = -10 * Math.Log(1 - Math.Pow(1 - Calibration.TargetAvailability, 1.0 / n));
            Assert.Equal(exact, Calibration.HoursAvailable(n, t => Math.Exp(-t / 10)), 0.1);
        }

        Assert.Equal(0, Calibration.HoursAvailable(1, t => Math.Exp(-t / 10))); // one copy is below 99.9 % at once
        Assert.Equal(168, Calibration.HoursAvailable(3, _ => 1)); // copies that never leave: capped at a week
    }

    [Fact]
    public void Seventeen_holders_keep_a_key_for_about_thirty_hours_as_the_study_found()
    {
        var fit = Calibration.Run(seed: 1, samples: 1000);
        var hours = Calibration.HoursAvailable(17, t => Distributions.WeibullSurvival(t, fit.ResidualShape, fit.ResidualScaleHours));
        Assert.InRange(hours, 24, 36);
        Assert.True(Calibration.HoursAvailable(10, t => Calibration.ResidualSurvival(t, fit.LifetimeShape, fit.LifetimeScaleHours)) < hours);
        Assert.Equal(Calibration.HolderCounts.Count + 2, Calibration.FormatHolders(fit).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
