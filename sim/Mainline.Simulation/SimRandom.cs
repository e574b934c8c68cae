// Seeded randomness of the simulator: one root seed, an independent stream per purpose.
//
// Streams are xoshiro256** generators (Blackman and Vigna, 2018; the node logic's SeededEntropy) seeded from
// (root seed, purpose name, index) through SplitMix64. A purpose gets its own stream, so adding a draw for one
// purpose (a hostile node, one more churn event) never shifts the draws of another.
// Distributions are one line each: log-normal from its median and sigma, Weibull by inversion, exponential.
using Mainline.Rpc;

namespace Mainline.Simulation;

/// <summary>A seeded stream: the node logic's own deterministic generator (<see cref="SeededEntropy"/>,
/// xoshiro256**) with the simulator's distributions on top.</summary>
internal sealed class SimRandom(ulong seed)
{
    private readonly SeededEntropy _bits = new(seed);

    /// <summary>The stream for <paramref name="purpose"/> (and <paramref name="index"/>) under <paramref name="rootSeed"/>.</summary>
    public static SimRandom For(ulong rootSeed, string purpose, ulong index = 0) => new(Derive(rootSeed, purpose, index));

    /// <summary>A seed for <paramref name="purpose"/> and <paramref name="index"/>: FNV-1a of the name, mixed with
    /// the root and the index through SplitMix64, so nearby roots and indices give unrelated seeds.</summary>
    public static ulong Derive(ulong rootSeed, string purpose, ulong index = 0)
    {
        var h = 14695981039346656037UL;
        foreach (var c in purpose)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        var x = rootSeed ^ h;
        var a = SplitMix64(ref x);
        x = a ^ (index * 0x9E3779B97F4A7C15UL);
        return SplitMix64(ref x);
    }

    /// <summary>Mixes <paramref name="key"/> into a well-spread 64-bit value (a stateless hash).</summary>
    public static ulong Mix(ulong key)
    {
        var x = key;
        return SplitMix64(ref x);
    }

    public static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64() => _bits.NextUInt64();

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextDouble() => ToUnit(NextUInt64());

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        return _bits.Next(maxExclusive);
    }

    public void Fill(Span<byte> destination) => _bits.Fill(destination);

    public bool Chance(double probability) => probability > 0 && NextDouble() < probability;

    /// <summary>A standard normal draw (Box–Muller, one of the pair).</summary>
    public double Normal() => Distributions.NormalFromUniforms(NextDouble(), NextDouble());

    /// <summary>Log-normal with the given median (e^μ) and sigma (σ of the underlying normal).</summary>
    public double LogNormal(double median, double sigma) => median * Math.Exp(sigma * Normal());

    /// <summary>Weibull(shape k, scale λ) by inversion: λ(−ln U)^(1/k).</summary>
    public double Weibull(double shape, double scale) => Distributions.WeibullFromUniform(NextDouble(), shape, scale);

    /// <summary>Exponential with the given mean.</summary>
    public double Exponential(double mean) => -mean * Math.Log(1 - NextDouble());

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang (2000); shape ≥ 1.</summary>
    public double Gamma(double shape)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shape, 1.0);
        var d = shape - (1.0 / 3);
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal();
                v = 1 + (c * x);
            }
            while (v <= 0);

            v = v * v * v;
            var u = NextDouble();
            if (u < 1 - (0.0331 * x * x * x * x) || Math.Log(u) < (0.5 * x * x) + (d * (1 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    internal static double ToUnit(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));
}

/// <summary>Distribution formulas shared by the seeded streams and the stateless (hashed) draws.</summary>
internal static class Distributions
{
    /// <summary>Box–Muller: a standard normal from two uniforms in [0, 1).</summary>
    public static double NormalFromUniforms(double u1, double u2) =>
        Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2);

    public static double WeibullFromUniform(double u, double shape, double scale) =>
        scale * Math.Pow(-Math.Log(1 - u), 1 / shape);

    /// <summary>Weibull survival S(t) = exp(−(t/λ)^k).</summary>
    public static double WeibullSurvival(double t, double shape, double scale) => Math.Exp(-Math.Pow(t / scale, shape));

    /// <summary>Γ(x) for x &gt; 0 (Lanczos, g = 7, n = 9): 15 significant digits, enough for Weibull means.</summary>
    public static double Gamma(double x)
    {
        if (x < 0.5)
        {
            return Math.PI / (Math.Sin(Math.PI * x) * Gamma(1 - x));
        }

        ReadOnlySpan<double> g =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        var a = g[0];
        var t = x + 7.5;
        for (var i = 1; i < 9; i++)
        {
            a += g[i] / (x + i);
        }

        return Math.Sqrt(2 * Math.PI) * Math.Pow(t, x + 0.5) * Math.Exp(-t) * a;
    }

    /// <summary>The mean of Weibull(k, λ): λ·Γ(1 + 1/k).</summary>
    public static double WeibullMean(double shape, double scale) => scale * Gamma(1 + (1 / shape));
}
