// `store` mode: the relay on a store that a `get` run filled (its --dir, kept afterwards): the time to start on it,
// the process's RSS, and random-GET latency over all its keys with one connection, next to a Kestrel hello-world with
// one connection in the same minute (the machine's own latency floor), then the throughput with --connections.
//
//   dotnet run -c Release --project bench/Pkarr.Relay.Benchmarks -- store --dir /tmp/pkarr-relay-bench --keys 1000000
using System.Diagnostics;

namespace Pkarr.Relay.Benchmarks;

internal static class StoreBench
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var a = new Args(argv);
        string dir = a.Str("--dir", Path.Combine(Path.GetTempPath(), "pkarr-relay-bench"));
        int keys = a.Int("--keys", 1_000_000);
        Console.WriteLine($"# store: {dir}, {keys} keys, {Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}, " +
            $"{DateTime.UtcNow:u}, load {GetBench.Load()}");
        return await RestartAsync(dir, keys, a.Int("--seconds", 10), a.Int("--threads", 2), a.Int("--connections", 64));
    }

    /// <summary>Starts a relay on the store in <paramref name="dir"/> (no fill) and measures it.</summary>
    public static async Task<int> RestartAsync(string dir, int keys, int seconds, int threads, int connections)
    {
        string keysFile = Path.Combine(dir, "keys.txt");
        double rssBefore = Memory.RssMiB();
        var restart = Stopwatch.StartNew();
        await using var relay = await Relays.StartAsync(Path.Combine(dir, "store"), Math.Max(keys, 1));
        var started = restart.Elapsed;
        using (var http = new HttpClient())
        {
            using var first = await http.GetAsync(new Uri(relay.Url, File.ReadLines(keysFile).First()));
            Console.WriteLine($"\n## relay started on the store: StartAsync {Text.F(started.TotalMilliseconds, 0)} ms, first GET {(int)first.StatusCode} after " +
                $"{Text.F(restart.Elapsed.TotalMilliseconds, 0)} ms; store count {await relay.Store!.CountAsync()}, " +
                $"{Text.F(Memory.SqliteBytes(relay.StoreLocation) / 1048576.0)} MiB (db+wal+shm); RSS {Text.F(Memory.RssMiB())} MiB (before {Text.F(rssBefore)})");
        }

        await StoreReadsAsync(relay, keysFile, keys);
        await LatencyAsync(relay.Url, keysFile, keys, seconds);
        var loaded = await Wrk.RunAsync(relay.Url, threads, connections, seconds, "get.lua", keysFile, keys.ToString());
        Console.WriteLine($"  relay random GET, {connections} connections  {loaded.Row}");
        GC.Collect();
        Console.WriteLine($"  RSS {Text.F(Memory.RssMiB())} MiB, GC heap {Text.F(GC.GetTotalMemory(false) / 1048576.0)} MiB, load {GetBench.Load()}");
        return 0;
    }

    /// <summary>The store's own share of a GET: RelayServer.Store.GetAsync of random keys on one thread, 3 s.</summary>
    public static async Task StoreReadsAsync(RelayServer relay, string keysFile, int keys)
    {
        var rng = new Random(7);
        var sample = File.ReadLines(keysFile).Take(keys).Where((_, i) => keys <= 20_000 || rng.Next(keys / 20_000) == 0)
            .Select(k => Pkarr.Keys.PublicKey.Parse(k)).ToArray();
        var store = relay.Store!;
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        for (int i = 0; total.Elapsed < TimeSpan.FromSeconds(3); i++)
        {
            long start = Stopwatch.GetTimestamp();
            var entry = await store.GetAsync(sample[rng.Next(sample.Length)]);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            if (entry is null)
            {
                throw new InvalidOperationException("a stored key is missing");
            }
        }

        times.Sort();
        Console.WriteLine($"  store GetAsync alone, 1 thread      {times.Count / total.Elapsed.TotalSeconds,10:F0} reads/s  p50 {Text.F(times[times.Count / 2] / 1000, 3)} ms  " +
            $"p99 {Text.F(times[(int)(times.Count * 0.99)] / 1000, 3)} ms  n={times.Count} (keys drawn from {sample.Length})");
    }

    /// <summary>Random GETs one at a time (1 connection) on the relay, then on a hello-world in the same process.</summary>
    public static async Task LatencyAsync(Uri relay, string keysFile, int keys, int seconds)
    {
        await using var hello = await HelloWorld.StartAsync();
        await Wrk.RunAsync(hello.Url, 1, 1, 2, "get.lua", keysFile, keys.ToString());
        var floor = await Wrk.RunAsync(hello.Url, 1, 1, seconds, "get.lua", keysFile, keys.ToString());
        var single = await Wrk.RunAsync(relay, 1, 1, seconds, "get.lua", keysFile, keys.ToString());
        Console.WriteLine($"  hello-world, 1 connection           {floor.Row}");
        Console.WriteLine($"  relay random GET, 1 connection      {single.Row}");
        Console.WriteLine($"  p99 relay/hello-world {Text.F(single.P99Us / (double)floor.P99Us, 2)}, p50 {Text.F(single.P50Us / (double)floor.P50Us, 2)}; load {GetBench.Load()}");
    }
}
