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
}
