// `republish` mode: one republish cycle of many keys on a loopback testnet.
//
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- republish --nodes 200 --keys 1000 --concurrency 16
//
// A republish puts packets that are already signed again, so that the nodes closest to each key keep them. The
// cycle here is PkarrClient.PublishAsync of each of the `keys` packets, at most `concurrency` at a time, from a
// client joined to Testnet.CreateAsync(nodes) (BootstrappedAsync, not timed). Three cycles of the same packets:
//   first publish        client A; nothing is stored yet.
//   republish, fresh     client B, a new client: its node has no lookup results or write tokens for the keys, as a
//                        republisher's node has none left when the next cycle comes hours later (tokens last 5–10
//                        min). This is the cycle that counts: a get lookup, then the puts, per key.
//   republish, warm      client B again, right away: its node still holds the closest nodes and their tokens from
//                        the previous cycle and sends the puts without a lookup (only within 5 minutes).
// Datagrams per key: the queries the testnet's nodes received from the publisher's port during the cycle, by
// method, divided by the keys.
using System.Diagnostics;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Benchmarks;

internal static class RepublishBench
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var a = new Args(argv);
        var nodes = a.Int("--nodes", 200);
        var keys = a.Int("--keys", 1000);
        var concurrency = Math.Clamp(a.Int("--concurrency", 16), 1, 256);
        var maxMinutes = a.Int("--max-minutes", 4);
        using var runCts = new CancellationTokenSource(TimeSpan.FromMinutes(maxMinutes));
        var ct = runCts.Token;
        Console.WriteLine($"# republish: {nodes}-node testnet, {keys} keys, concurrency {concurrency}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:u}");

        var sw = Stopwatch.StartNew();
        await using var net = await CountingTestnet.CreateAsync(nodes, ct);
        Console.WriteLine($"testnet up in {sw.Elapsed.TotalSeconds:F1} s");

        sw.Restart();
        var packets = new SignedPacket[keys];
        for (var i = 0; i < keys; i++)
        {
            using var keypair = Keypair.Random();
            packets[i] = Clients.Packet(keypair, i);
        }

        Console.WriteLine($"signed {keys} packets in {sw.Elapsed.TotalMilliseconds:F0} ms (not part of the cycle)");

        await using (var first = await JoinedClientAsync(net, ct))
        {
            await CycleAsync("first publish", first.Client, net, first.Port, packets, concurrency, ct);
        }

        await using var second = await JoinedClientAsync(net, ct);
        await CycleAsync("republish, fresh client", second.Client, net, second.Port, packets, concurrency, ct);
        await CycleAsync("republish, warm client (tokens cached)", second.Client, net, second.Port, packets, concurrency, ct);
        return 0;
    }

    internal sealed record Joined(PkarrClient Client, int Port) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }

    internal static async Task<Joined> JoinedClientAsync(CountingTestnet net, CancellationToken ct)
    {
        var client = await PkarrClient.CreateAsync(Clients.DhtOnly(net.Net), ct);
        var dht = (await client.GetDhtAsync(ct))!;
        using var join = CancellationTokenSource.CreateLinkedTokenSource(ct);
        join.CancelAfter(TimeSpan.FromSeconds(20));
        await dht.BootstrappedAsync(join.Token);
        return new Joined(client, dht.LocalEndPoint.Port);
    }

    internal static async Task CycleAsync(string name, PkarrClient client, CountingTestnet net, int port, SignedPacket[] packets, int concurrency, CancellationToken ct)
    {
        var before = await net.SettledFromAsync(port, ct);
        var ms = new double[packets.Length];
        var storedOn = new double[packets.Length];
        var failures = 0;
        var errors = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var wall = Stopwatch.StartNew();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, packets.Length),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (i, c) =>
            {
                using var one = CancellationTokenSource.CreateLinkedTokenSource(c);
                one.CancelAfter(TimeSpan.FromSeconds(30));
                var t = Stopwatch.StartNew();
                var result = await client.PublishAsync(packets[i], cancellationToken: one.Token);
                ms[i] = t.Elapsed.TotalMilliseconds;
                storedOn[i] = result.StoredOn;
                if (!result.Succeeded)
                {
                    Interlocked.Increment(ref failures);
                    errors.AddOrUpdate(result.Error?.Kind.ToString() ?? "?", 1, static (_, c) => c + 1);
                }
            });
        var seconds = wall.Elapsed.TotalSeconds;
        var sent = CountingTestnet.Minus(await net.SettledFromAsync(port, ct), before);
        var n = (double)packets.Length;
        var byMethod = string.Join(", ", sent.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key} {Stats.F(kv.Value / n, 1)}"));
        Console.WriteLine($"{name}: {packets.Length - failures}/{packets.Length} stored, wall {seconds:F2} s ({n / seconds:F0} keys/s), " +
                          $"per key p50 {Stats.F(Stats.Median(ms))} ms, p99 {Stats.F(Stats.Percentile(ms, 99))} ms; " +
                          $"stored on p50 {Stats.F(Stats.Median(storedOn), 0)}, min {Stats.F(storedOn.Min(), 0)}; " +
                          $"datagrams per key {Stats.F(sent.Values.Sum() / n, 1)} [{byMethod}]" +
                          (errors.IsEmpty ? "" : $"; failures: {string.Join(", ", errors.Select(kv => $"{kv.Key} {kv.Value}"))}"));
    }
}
