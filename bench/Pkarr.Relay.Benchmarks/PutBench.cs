// `put` mode: PUT throughput and latency of our relay, each PUT a distinct key (verification, the DHT put on the
// loopback testnet, the store), against our client's own PublishAsync on the same testnet (the DHT put alone).
//
//   dotnet run -c Release --project bench/Pkarr.Relay.Benchmarks -- put --seconds 10 --connections 32
//
// The relay runs with its in-process 10-node testnet, no rate limits, no republisher, an ephemeral store. First a
// DHT-only client publishes --raw packets one at a time (its p50/p99 is the limit a relay PUT cannot beat); then wrk
// (bench/relay/put.lua) PUTs pre-signed relay payloads of distinct keys, with 1 connection and with --connections.
// Afterwards the store count is compared with the 204s and a sample of the keys is resolved from the DHT.
using System.Diagnostics;
using System.Net;
using Pkarr.Client;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Benchmarks;

internal static class PutBench
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var a = new Args(argv);
        int seconds = a.Int("--seconds", 10);
        int threads = a.Int("--threads", 2);
        int connections = a.Int("--connections", 32);
        int payloads = a.Int("--payloads", 40000);
        int raw = a.Int("--raw", 300);
        string dir = Path.Combine(Path.GetTempPath(), "pkarr-relay-bench-put");
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        Console.WriteLine($"# put: wrk -t{threads} -d{seconds}s with 1 and {connections} connections, {Environment.ProcessorCount} cores, " +
            $"server GC {System.Runtime.GCSettings.IsServerGC}, {DateTime.UtcNow:u}, load {GetBench.Load()}");

        await using var relay = await Relays.StartAsync(null, 1_000_000);
        await using var client = await PkarrClient.CreateAsync(new PkarrClientOptions
        {
            UseRelays = false,
            Bootstrap = [.. relay.TestnetBootstrap.Select(e => e.ToString())],
            DhtBindAddress = IPAddress.Loopback,
            DhtPort = 0,
            DhtMode = Mainline.DhtMode.Client,
        });
        Console.WriteLine($"relay {relay.Url}, DHT node {relay.DhtEndPoint}, testnet of {relay.TestnetBootstrap.Count} nodes");

        // The limit: the client's DHT put of one packet at a time, on the same testnet.
        var times = new List<double>();
        int rawFailed = 0;
        for (int i = 0; i < raw; i++)
        {
            var packet = Packet();
            var watch = Stopwatch.StartNew();
            var result = await client.PublishAsync(packet);
            times.Add(watch.Elapsed.TotalMilliseconds);
            rawFailed += result.Succeeded ? 0 : 1;
        }

        times.Sort();
        double rawP50 = times[(int)Math.Ceiling(0.50 * times.Count) - 1], rawP99 = times[(int)Math.Ceiling(0.99 * times.Count) - 1];
        Console.WriteLine($"  client PublishAsync, 1 at a time   p50 {Text.F(rawP50, 3)} ms  p99 {Text.F(rawP99, 3)} ms  n={raw} failed={rawFailed}  ({Text.F(1000 * raw / times.Sum(), 0)} puts/s)");

        string single = Path.Combine(dir, "payloads-1.txt"), many = Path.Combine(dir, "payloads-n.txt");
        var sign = Stopwatch.StartNew();
        WritePayloads(single, Math.Max(2000, payloads / 8));
        WritePayloads(many, payloads);
        Console.WriteLine($"  signed {Math.Max(2000, payloads / 8) + payloads} payloads of distinct keys in {Text.F(sign.Elapsed.TotalSeconds, 1)} s");

        long before = await relay.Store!.CountAsync();
        var one = await Wrk.RunAsync(relay.Url, 1, 1, seconds, "put.lua", single, "1");
        Console.WriteLine($"  relay PUT, 1 connection            {one.Row}  repeats={one.Wrapped}; 204 with stored nodes >= 1: {one.Stored}, other: {one.Other}");
        Console.WriteLine($"    ratio p50 relay PUT / client put {Text.F(one.P50Us / 1000.0 / rawP50, 2)}, p99 {Text.F(one.P99Us / 1000.0 / rawP99, 2)}");
        var loaded = await Wrk.RunAsync(relay.Url, threads, connections, seconds, "put.lua", many, threads.ToString());
        Console.WriteLine($"  relay PUT, {connections} connections          {loaded.Row}  repeats={loaded.Wrapped}; 204 with stored nodes >= 1: {loaded.Stored}, other: {loaded.Other}");
        await Task.Delay(TimeSpan.FromSeconds(2)); // PUTs that were in flight when wrk stopped finish
        long stored = await relay.Store!.CountAsync() - before;
        Console.WriteLine($"  store: {stored} new packets for {one.Requests + loaded.Requests - one.StatusErrors - loaded.StatusErrors} answered 2xx");

        // A sample of the PUT keys, resolved from the DHT by the client (NetworkOnly: not from its cache). Every testnet
        // node keeps at most ServerSettings.MaxMutableValues (1000) items, the least recently put going first, and a
        // put reaches every node of this 10-node network: of N keys put, about 1000 stay on the DHT.
        var rng = new Random(1);
        var keys = File.ReadLines(many).Take((int)Math.Min(loaded.Requests, payloads)).Select(l => l[..52]).OrderBy(_ => rng.Next()).Take(50).ToList();
        int found = 0;
        foreach (var z32 in keys)
        {
            var result = await client.ResolveAsync(PublicKey.Parse(z32), ResolvePolicy.NetworkOnly);
            found += result.Found ? 1 : 0;
        }

        Console.WriteLine($"  DHT check: {found}/{keys.Count} sampled PUT keys resolved NetworkOnly by the client (about " +
            $"{Text.F(100.0 * Math.Min(1.0, 1000.0 / Math.Max(1, stored)), 0)}% expected: 1000 items per node for {stored} keys); load {GetBench.Load()}");
        return 0;
    }

    private static SignedPacket Packet()
    {
        using var keypair = Keypair.Random();
        return SignedPacket.Builder()
            .Txt("@", "v=bench; a relay benchmark packet", 3600)
            .A("www", IPAddress.Loopback, 3600)
            .Txt("_service", "port=443", 3600)
            .Sign(keypair);
    }

    private static void WritePayloads(string file, int count)
    {
        var lines = new string[count];
        Parallel.For(0, count, i =>
        {
            var packet = Packet();
            lines[i] = packet.PublicKey.ToZ32() + " " + Convert.ToHexStringLower(packet.RelayPayload.Span);
        });
        File.WriteAllLines(file, lines);
    }
}
