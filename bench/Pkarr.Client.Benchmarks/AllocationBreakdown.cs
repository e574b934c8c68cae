// `alloc` mode: bytes allocated per call of the warm resolve and of each step it takes, counted exactly with
// GC.GetAllocatedBytesForCurrentThread over many calls (no timing), to say where the resolve's allocations come from.
//
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- alloc
using System.Globalization;
using Pkarr.Packets;

namespace Pkarr.Client.Benchmarks;

internal static class AllocationBreakdown
{
    private const int Calls = 100_000;

    public static int Run()
    {
        var bench = new WarmResolveBenchmarks();
        bench.Setup();
        var entry = bench.CacheGet()!;
        var options = new PkarrClientOptions();
        Row("MemoryPkarrCache.GetAsync (hit)", () => bench.CacheGet());
        Row("CachedPacket.IsExpired (the freshness check)", () => entry.IsExpired(options.MinimumTtl, options.MaximumTtl, TimeProvider.System));
        Row("SignedPacket.Ttl (inside IsExpired)", () => entry.Packet.Ttl(options.MinimumTtl, options.MaximumTtl));
        Row("CachedPacket.Elapsed (inside IsExpired)", () => entry.Elapsed(TimeProvider.System));
        Row("ResolveResult.Of(entry)", () => ResolveResult.Of(entry));
        Row("PkarrClient.ResolveAsync CacheFirst, warm", () => bench.Resolve());
        bench.Cleanup();
        return 0;
    }

    // Generic, so that a value-type result is not boxed (a box would be counted as the call's allocation).
    private static void Row<T>(string name, Func<T> call)
    {
        // Warm-up past tiered compilation: the background JIT installs the optimised code (with its escape
        // analysis, which keeps some enumerators off the heap) after ~30 calls and a 100 ms delay.
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 10_000; i++)
            {
                Sink(call());
            }

            Thread.Sleep(150);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Calls; i++)
        {
            Sink(call());
        }

        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Calls;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {perCall:F1} B per call"));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Sink<T>(T value) => GC.KeepAlive(value);
}
