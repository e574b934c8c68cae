// `republisher` mode: one Republisher cycle of many keys on a loopback testnet, against a bare PublishAsync cycle.
//
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- republisher --nodes 200 --keys 1000
//
// On Testnet.CreateAsync(nodes) (the counting testnet), in one run:
//   first publish          client A publishes the `keys` packets (PublishAsync, 16 at a time): they are on the DHT.
//   PublishAsync, fresh    client B, new: PublishAsync of the same packets, 16 at a time (the comparison: a get
//                          lookup for the tokens, then the puts).
//   resolve, fresh         client C, new: ResolveAsync(NetworkOnly) of each key, 16 at a time: the republisher's
//                          newer-packet check alone, to split its gets from the holder check's.
//   Republisher, fresh     client D, new, and a Republisher over it with the default options (MinimumHolders 17,
//                          MaxConcurrency 16), each key added by its public key only (AddKey(PublicKey)): the packet
//                          comes from the network. One RunCycleAsync: per key, the newer-packet check (a get
//                          lookup), the put, and the holder check (a get lookup), with retries below the minimum.
//   Republisher, warm      the same Republisher's RunCycleAsync again, right away (client D's tokens cached).
// Datagrams per key: the queries the testnet's nodes received from the client's port during the cycle, by method,
// divided by the keys.
using System.Diagnostics;
using Pkarr.Client.Republishing;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Benchmarks;

internal static class RepublisherBench
{
    private const int PublishConcurrency = 16;

    public static async Task<int> RunAsync(string[] argv)
    {
        var a = new Args(argv);
        var nodes = a.Int("--nodes", 200);
        var keys = a.Int("--keys", 1000);
        var maxMinutes = a.Int("--max-minutes", 4);
        using var runCts = new CancellationTokenSource(TimeSpan.FromMinutes(maxMinutes));
        var ct = runCts.Token;
        Console.WriteLine($"# republisher: {nodes}-node testnet, {keys} keys, {Environment.ProcessorCount} cores, {DateTime.UtcNow:u}");

        var sw = Stopwatch.StartNew();
        await using var net = await CountingTestnet.CreateAsync(nodes, ct);
        Console.WriteLine($"testnet up in {sw.Elapsed.TotalSeconds:F1} s");

        var packets = new SignedPacket[keys];
        for (var i = 0; i < keys; i++)
        {
            using var keypair = Keypair.Random();
            packets[i] = Clients.Packet(keypair, i);
        }

        await using (var first = await RepublishBench.JoinedClientAsync(net, ct))
        {
            await RepublishBench.CycleAsync("first publish", first.Client, net, first.Port, packets, PublishConcurrency, ct);
        }

        await using (var bare = await RepublishBench.JoinedClientAsync(net, ct))
        {
            await RepublishBench.CycleAsync("PublishAsync, fresh client", bare.Client, net, bare.Port, packets, PublishConcurrency, ct);
        }

        await using (var resolver = await RepublishBench.JoinedClientAsync(net, ct))
        {
            await ResolveCycleAsync(resolver.Client, net, resolver.Port, packets, ct);
        }

        await using var joined = await RepublishBench.JoinedClientAsync(net, ct);
        await using var republisher = new Republisher(joined.Client);
        foreach (var packet in packets)
        {
            republisher.AddKey(packet.PublicKey);
        }

        Console.WriteLine($"republisher: MinimumHolders {republisher.Options.MinimumHolders}, MaxConcurrency {republisher.Options.MaxConcurrency}, MaxAttempts {republisher.Options.MaxAttempts}");
        await RepublisherCycleAsync("Republisher, fresh client", republisher, net, joined.Port, keys, ct);
        await RepublisherCycleAsync("Republisher, warm client (tokens cached)", republisher, net, joined.Port, keys, ct);
        return 0;
    }

    private static async Task ResolveCycleAsync(PkarrClient client, CountingTestnet net, int port, SignedPacket[] packets, CancellationToken ct)
    {
        var before = await net.SettledFromAsync(port, ct);
        var found = 0;
        var wall = Stopwatch.StartNew();
        await Parallel.ForEachAsync(
            packets,
            new ParallelOptions { MaxDegreeOfParallelism = PublishConcurrency, CancellationToken = ct },
            async (packet, c) =>
            {
                using var one = CancellationTokenSource.CreateLinkedTokenSource(c);
                one.CancelAfter(TimeSpan.FromSeconds(30));
                var result = await client.ResolveAsync(packet.PublicKey, ResolvePolicy.NetworkOnly, one.Token);
                if (result.Found)
                {
                    Interlocked.Increment(ref found);
                }
            });
        var seconds = wall.Elapsed.TotalSeconds;
        var sent = CountingTestnet.Minus(await net.SettledFromAsync(port, ct), before);
        Console.WriteLine($"resolve NetworkOnly, fresh client: {found}/{packets.Length} found, wall {seconds:F2} s; datagrams per key {PerKey(sent, packets.Length)}");
    }

    private static async Task RepublisherCycleAsync(string name, Republisher republisher, CountingTestnet net, int port, int keys, CancellationToken ct)
    {
        var before = await net.SettledFromAsync(port, ct);
        var wall = Stopwatch.StartNew();
        var report = await republisher.RunCycleAsync(ct);
        var seconds = wall.Elapsed.TotalSeconds;
        var sent = CountingTestnet.Minus(await net.SettledFromAsync(port, ct), before);
        var results = report.Keys;
        var outcomes = string.Join(", ", results.GroupBy(r => r.Outcome).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"));
        var attempts = string.Join(", ", results.GroupBy(r => r.Attempts).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
        var holders = results.Where(r => r.Holders is not null).Select(r => (double)r.Holders!.Value).ToArray();
        var storedOn = results.Select(r => (double)r.StoredOn).ToArray();
        Console.WriteLine($"{name}: {report.Succeeded}/{results.Count} reached MinimumHolders [{outcomes}], wall {seconds:F2} s ({keys / seconds:F0} keys/s); " +
                          $"attempts [{attempts}]; adopted {results.Count(r => r.Adopted)}, re-signed {results.Count(r => r.Resigned)}; " +
                          $"holders p50 {Stats.F(Stats.Median(holders), 0)}, min {(holders.Length == 0 ? "n/a" : Stats.F(holders.Min(), 0))}; " +
                          $"stored on p50 {Stats.F(Stats.Median(storedOn), 0)}, min {Stats.F(storedOn.Min(), 0)}; " +
                          $"datagrams per key {PerKey(sent, keys)}");
    }

    private static string PerKey(Dictionary<string, int> sent, int keys)
    {
        var n = (double)keys;
        var byMethod = string.Join(", ", sent.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key} {Stats.F(kv.Value / n, 1)}"));
        return $"{Stats.F(sent.Values.Sum() / n, 1)} [{byMethod}]";
    }
}
