// `miss` mode: resolves that miss the cache, on a loopback testnet, against a raw Mainline get in the same run.
//
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- miss --nodes 200 --keys 200 --max-minutes 4
//
// A publisher client publishes `keys` random packets (plus 10 for warm-up) into Testnet.CreateAsync(nodes). Four
// resolvers, each with its own DHT node in client mode joined to the testnet (BootstrappedAsync, not timed), then
// resolve every key once, in a shuffled order, taking turns key by key (the side that goes first rotates):
//   client NetworkOnly   PkarrClient.ResolveAsync(key, NetworkOnly): the whole lookup, the most recent packet.
//   raw most recent      Dht.GetMutableMostRecentAsync(key): the same lookup without the client (its limit).
//   client CacheFirst    PkarrClient.ResolveAsync(key, CacheFirst) with an empty cache for that key: the first valid
//                        packet answers, the lookup goes on in the background.
//   raw first item       Dht.GetMutableAsync(key), stopped at its first item (CacheFirst's limit).
// Queries per lookup: the queries the testnet's nodes received from the resolver's port, by method, counted once
// they stop arriving (an early answer leaves queries in flight, and they are part of the cost).
using System.Diagnostics;
using Mainline;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Benchmarks;

internal static class MissBench
{
    private const int WarmKeys = 10;

    private sealed record Sample(bool Found, double Ms, Dictionary<string, int> Sent)
    {
        public int Gets => Sent.GetValueOrDefault("get");

        public int Total => Sent.Values.Sum();
    }

    private sealed class Side(string name, int port, Func<PublicKey, CancellationToken, Task<bool>> resolve)
    {
        public string Name => name;

        public int Port => port;

        public Func<PublicKey, CancellationToken, Task<bool>> Resolve => resolve;

        public List<Sample> Samples { get; } = [];
    }

    public static async Task<int> RunAsync(string[] argv)
    {
        var a = new Args(argv);
        var nodes = a.Int("--nodes", 200);
        var keys = a.Int("--keys", 200);
        var maxMinutes = a.Int("--max-minutes", 4);
        var budget = new Budget(TimeSpan.FromMinutes(maxMinutes));
        using var runCts = new CancellationTokenSource(TimeSpan.FromMinutes(maxMinutes + 2));
        var ct = runCts.Token;
        Console.WriteLine($"# miss: {nodes}-node testnet, {keys} keys, {Environment.ProcessorCount} cores, {DateTime.UtcNow:u}");

        var sw = Stopwatch.StartNew();
        await using var net = await CountingTestnet.CreateAsync(nodes, ct);
        Console.WriteLine($"testnet up in {sw.Elapsed.TotalSeconds:F1} s");

        // Publish from another client.
        var packets = new List<SignedPacket>();
        for (var i = 0; i < keys + WarmKeys; i++)
        {
            using var keypair = Keypair.Random();
            packets.Add(Clients.Packet(keypair, i));
        }

        sw.Restart();
        var publishFailures = 0;
        await using (var publisher = await PkarrClient.CreateAsync(Clients.DhtOnly(net.Net), ct))
        {
            await Parallel.ForEachAsync(packets, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (p, c) =>
            {
                using var one = CancellationTokenSource.CreateLinkedTokenSource(c);
                one.CancelAfter(TimeSpan.FromSeconds(20));
                if (!(await publisher.PublishAsync(p, cancellationToken: one.Token)).Succeeded)
                {
                    Interlocked.Increment(ref publishFailures);
                }
            });
        }

        Console.WriteLine($"published {packets.Count - publishFailures}/{packets.Count} packets in {sw.Elapsed.TotalSeconds:F1} s");

        await using var networkOnly = await PkarrClient.CreateAsync(Clients.DhtOnly(net.Net), ct);
        await using var cacheFirst = await PkarrClient.CreateAsync(Clients.DhtOnly(net.Net), ct);
        await using var rawRecent = await Dht.CreateAsync(net.Net.ClientOptions(), ct);
        await using var rawFirst = await Dht.CreateAsync(net.Net.ClientOptions(), ct);
        var networkOnlyDht = (await networkOnly.GetDhtAsync(ct))!;
        var cacheFirstDht = (await cacheFirst.GetDhtAsync(ct))!;
        foreach (var d in new[] { networkOnlyDht, cacheFirstDht, rawRecent, rawFirst })
        {
            using var join = CancellationTokenSource.CreateLinkedTokenSource(ct);
            join.CancelAfter(TimeSpan.FromSeconds(20));
            await d.BootstrappedAsync(join.Token);
        }

        Side[] sides =
        [
            new("client NetworkOnly", networkOnlyDht.LocalEndPoint.Port,
                async (k, c) => (await networkOnly.ResolveAsync(k, ResolvePolicy.NetworkOnly, c)).Found),
            new("raw GetMutableMostRecentAsync", rawRecent.LocalEndPoint.Port,
                async (k, c) => await rawRecent.GetMutableMostRecentAsync(k.Bytes.ToArray(), cancellationToken: c) is not null),
            new("client CacheFirst (miss)", cacheFirstDht.LocalEndPoint.Port,
                async (k, c) => (await cacheFirst.ResolveAsync(k, ResolvePolicy.CacheFirst, c)).Found),
            new("raw GetMutableAsync, first item", rawFirst.LocalEndPoint.Port, async (k, c) =>
            {
                await foreach (var item in rawFirst.GetMutableAsync(k.Bytes.ToArray(), cancellationToken: c))
                {
                    return true;
                }

                return false;
            }),
        ];

        // Warm-up on keys that are not measured: the JIT of every side's whole path.
        foreach (var p in packets.Take(WarmKeys))
        {
            foreach (var side in sides)
            {
                using var one = CancellationTokenSource.CreateLinkedTokenSource(ct);
                one.CancelAfter(TimeSpan.FromSeconds(20));
                _ = await side.Resolve(p.PublicKey, one.Token);
            }
        }

        await Task.Delay(200, ct);
        var order = packets.Skip(WarmKeys).OrderBy(_ => Random.Shared.Next()).ToList();
        sw.Restart();
        var done = 0;
        foreach (var (p, i) in order.Select((p, i) => (p, i)))
        {
            if (budget.Exhausted)
            {
                break;
            }

            for (var s = 0; s < sides.Length; s++)
            {
                var side = sides[(i + s) % sides.Length];
                var before = await net.SettledFromAsync(side.Port, ct);
                using var one = CancellationTokenSource.CreateLinkedTokenSource(ct);
                one.CancelAfter(TimeSpan.FromSeconds(20));
                var t = Stopwatch.StartNew();
                bool found;
                try
                {
                    found = await side.Resolve(p.PublicKey, one.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    found = false;
                }

                var ms = t.Elapsed.TotalMilliseconds;
                var after = await net.SettledFromAsync(side.Port, ct);
                side.Samples.Add(new Sample(found, ms, CountingTestnet.Minus(after, before)));
            }

            done++;
        }

        Console.WriteLine($"{done} keys resolved by each side in {sw.Elapsed.TotalSeconds:F1} s (run {budget.Elapsed.TotalSeconds:F0} s)");
        Console.WriteLine();
        Console.WriteLine("| resolver | found | p50 ms | p99 ms | get queries / lookup p50 (p99) | all queries / lookup p50 (p99) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var side in sides)
        {
            var ms = side.Samples.Select(x => x.Ms).ToList();
            var gets = side.Samples.Select(x => (double)x.Gets).ToList();
            var all = side.Samples.Select(x => (double)x.Total).ToList();
            Console.WriteLine($"| {side.Name} | {side.Samples.Count(x => x.Found)}/{side.Samples.Count} | {Stats.F(Stats.Median(ms))} | {Stats.F(Stats.Percentile(ms, 99))} | " +
                              $"{Stats.F(Stats.Median(gets), 0)} ({Stats.F(Stats.Percentile(gets, 99), 0)}) | {Stats.F(Stats.Median(all), 0)} ({Stats.F(Stats.Percentile(all, 99), 0)}) |");
        }

        Console.WriteLine();
        Ratio(sides[0], sides[1]);
        Ratio(sides[2], sides[3]);
        return 0;
    }

    private static void Ratio(Side ours, Side limit)
    {
        // Per-key ratios: each key's two lookups ran back to back on the same network state.
        var perKey = ours.Samples.Zip(limit.Samples, (o, l) => o.Ms / l.Ms).ToList();
        var oMs = ours.Samples.Select(x => x.Ms).ToList();
        var lMs = limit.Samples.Select(x => x.Ms).ToList();
        var oQ = ours.Samples.Select(x => (double)x.Total).ToList();
        var lQ = limit.Samples.Select(x => (double)x.Total).ToList();
        Console.WriteLine($"ratio {ours.Name} / {limit.Name}: p50 time {Stats.F(Stats.Median(oMs) / Stats.Median(lMs))}, " +
                          $"p99 time {Stats.F(Stats.Percentile(oMs, 99) / Stats.Percentile(lMs, 99))}, " +
                          $"median of per-key time ratios {Stats.F(Stats.Median(perKey))}, " +
                          $"queries (median) {Stats.F(Stats.Median(oQ) / Stats.Median(lQ))}");
    }
}
