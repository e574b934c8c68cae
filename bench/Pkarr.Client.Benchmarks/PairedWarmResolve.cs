// `paired` mode: the warm-resolve ratio with the sides interleaved. Batches of 1000 calls of the warm resolve, of its
// limit (the cache lookup) and of the limit plus the freshness check alternate, the order rotating each round, so
// that whatever else the shared machine runs hits all alike; the median of the per-round ratios to the limit is
// printed with its 10th and 90th percentiles. It complements BenchmarkDotNet, which measures the methods one after
// the other.
//
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- paired [ROUNDS]
using System.Diagnostics;
using System.Globalization;

namespace Pkarr.Client.Benchmarks;

internal static class PairedWarmResolve
{
    private const int Batch = 1000;

    public static int Run(int rounds)
    {
        var bench = new WarmResolveBenchmarks();
        bench.Setup();
        (string Name, Func<object?> Call)[] sides =
        [
            ("cache lookup (limit)", bench.CacheGet),
            ("cache lookup + IsExpired", () => bench.CacheGetFresh()),
            ("cache lookup + SignedPacket.Ttl", () => bench.PacketTtl()),
            ("cache lookup + CachedPacket.Elapsed", () => bench.EntryAge()),
            ("warm resolve", bench.Resolve),
        ];

        // Past tiered compilation: the optimised code is installed ~100 ms after the first 30 calls.
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 10_000; i++)
            {
                foreach (var side in sides)
                {
                    GC.KeepAlive(side.Call());
                }
            }

            Thread.Sleep(150);
        }

        var ns = sides.Select(_ => new double[rounds]).ToArray();
        for (var r = 0; r < rounds; r++)
        {
            for (var s = 0; s < sides.Length; s++)
            {
                var which = (r + s) % sides.Length;
                ns[which][r] = TimeBatch(sides[which].Call);
            }
        }

        bench.Cleanup();
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"ns per call, medians of {rounds} interleaved batches of {Batch}: {string.Join(", ", sides.Select((side, i) => $"{side.Name} {Percentile(ns[i], 0.5):F0}"))}"));
        for (var s = 1; s < sides.Length; s++)
        {
            // The side's throughput relative to the limit's, per round.
            var ratios = Enumerable.Range(0, rounds).Select(r => ns[0][r] / ns[s][r]).ToArray();
            Console.WriteLine(string.Create(c, $"throughput {sides[s].Name} / cache lookup = {Percentile(ratios, 0.5):F3} (median of per-round ratios; p10 {Percentile(ratios, 0.1):F3}, p90 {Percentile(ratios, 0.9):F3})"));
        }

        return 0;
    }

    private static double TimeBatch(Func<object?> call)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Batch; i++)
        {
            GC.KeepAlive(call());
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / Batch;
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Round(p * (sorted.Length - 1))];
    }
}
