// Interleaved ratio of two SignedPacketBenchmarks methods: batches of A and B alternate, so that whatever else the
// shared machine is doing hits both alike; the median of the per-round ratios is reported next to each side's
// median time per call. It complements BenchmarkDotNet, whose runs of A and B happen minutes apart.
//
//   dotnet run -c Release --project bench/Pkarr.Benchmarks -- paired build-sign raw-sign large [ROUNDS]

using System.Diagnostics;
using System.Globalization;

namespace Pkarr.Benchmarks;

internal static class PairedRatio
{
    private const int Batch = 100;

    public static int Run(string methodA, string methodB, string size, int rounds)
    {
        var benchmarks = new SignedPacketBenchmarks { Size = size };
        benchmarks.Setup();
        var a = InstructionCount.Method(benchmarks, methodA);
        var b = InstructionCount.Method(benchmarks, methodB);
        for (int i = 0; i < 2_000; i++)
        {
            GC.KeepAlive(a());
            GC.KeepAlive(b());
        }

        var timesA = new double[rounds];
        var timesB = new double[rounds];
        var ratios = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            // Alternate which side goes first, so neither always follows the other's garbage collections.
            bool aFirst = r % 2 == 0;
            double first = TimeBatch(aFirst ? a : b);
            double second = TimeBatch(aFirst ? b : a);
            timesA[r] = aFirst ? first : second;
            timesB[r] = aFirst ? second : first;
            ratios[r] = timesB[r] / timesA[r]; // throughput of A relative to B
        }

        benchmarks.Cleanup();
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"{size}: {methodA} {Median(timesA):F0} ns, {methodB} {Median(timesB):F0} ns per call (medians of {rounds} interleaved batches of {Batch})"));
        Console.WriteLine(string.Create(c, $"{size}: throughput {methodA} / {methodB} = {Median(ratios):F3} (median of per-round ratios; p10 {Percentile(ratios, 0.1):F3}, p90 {Percentile(ratios, 0.9):F3})"));
        return 0;
    }

    private static double TimeBatch(Func<object> call)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Batch; i++)
        {
            GC.KeepAlive(call());
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / Batch;
    }

    private static double Median(double[] values) => Percentile(values, 0.5);

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Round(p * (sorted.Length - 1))];
    }
}
