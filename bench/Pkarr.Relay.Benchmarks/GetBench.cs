// `get` mode: GET cache hits on our relay with 1, 1k and 1M distinct keys stored, and 304s, against a Kestrel
// hello-world (the ceiling) and the npm pkarr 1.3.0 relay (the peer) in the same run; then the store of the largest
// count: its fill time, file size, the process's RSS, random-GET latency one request at a time, and a restart.
//
//   dotnet run -c Release --project bench/Pkarr.Relay.Benchmarks -- get --keys 1,1000,1000000 --seconds 10
//
// One relay (RelayServer: the in-process testnet, no rate limits, no republisher, its SQLite store in --dir) is
// filled step by step through RelayServer.Store.PutIfNewerAsync; at each step wrk (bench/relay/get.lua) asks for keys
// picked at random among those stored. The peer has no packet store: its GET answers from its own DHT node's storage
// when a put reached that node, and looks the DHT up otherwise. So its keys are published on the DHT (our client,
// to every node of the loopback network, the peer's node included), which makes every peer GET a local hit, its
// fastest path; bittorrent-dht keeps at most 1000 items, so the peer runs for 1 and 1000 keys only.
using System.Diagnostics;
using System.Net;
using Pkarr.Client;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Benchmarks;

internal static class GetBench
{
    private const int PeerCapacity = 1000;

    public static async Task<int> RunAsync(string[] argv)
    {
        var a = new Args(argv);
        int[] counts = [.. a.Str("--keys", "1,1000,1000000").Split(',').Select(int.Parse).Order()];
        int seconds = a.Int("--seconds", 10);
        int threads = a.Int("--threads", 2);
        int connections = a.Int("--connections", 64);
        int rounds = a.Int("--rounds", 1);
        int warmup = a.Int("--warmup", 3);
        int hot = a.Int("--hot-size", -1);
        bool withPeer = !a.Flag("--no-peer");
        string dir = a.Str("--dir", Path.Combine(Path.GetTempPath(), "pkarr-relay-bench"));
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        string keysFile = Path.Combine(dir, "keys.txt");
        string since = DateTimeOffset.UtcNow.AddDays(1).ToString("R");
        Console.WriteLine($"# get: keys {string.Join(',', counts)}, wrk -t{threads} -c{connections} -d{seconds}s, {rounds} round(s) after a {warmup} s warm-up of each target, " +
            $"{Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}, {DateTime.UtcNow:u}, load {Load()}");

        double rssStart = Memory.RssMiB();
        await using var relay = await Relays.StartAsync(Path.Combine(dir, "store"), Math.Max(counts[^1], 1), hot >= 0 ? hot : null);
        var store = relay.Store!;
        await using var hello = await HelloWorld.StartAsync();
        NpmRelay? peer = withPeer ? await NpmRelay.StartAsync(relay.TestnetBootstrap) : null;
        PkarrClient? publisher = null;
        int stored = 0;
        try
        {
            if (peer is not null)
            {
                publisher = await PkarrClient.CreateAsync(new PkarrClientOptions
                {
                    UseRelays = false,
                    Bootstrap = [.. relay.TestnetBootstrap.Select(e => e.ToString()), peer.DhtEndPoint],
                    DhtBindAddress = IPAddress.Loopback,
                    DhtPort = 0,
                    DhtMode = Mainline.DhtMode.Client,
                });
            }

            Console.WriteLine($"relay {relay.Url} (store {relay.StoreLocation}), hello-world {hello.Url}, peer {peer?.Url.ToString() ?? "(off)"}; RSS at start {Text.F(rssStart)} MiB");

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var peerPackets = new List<SignedPacket>();
            int onPeer = 0;
            using (var keys = new StreamWriter(keysFile))
            {
                foreach (int count in counts)
                {
                    var fill = Stopwatch.StartNew();
                    await FillAsync(store, stored, count, keys, peerPackets);
                    await keys.FlushAsync();
                    fill.Stop();
                    Console.WriteLine($"\n## {count} key(s) stored: filled {count - stored} in {Text.F(fill.Elapsed.TotalSeconds, 2)} s " +
                        $"({Text.F((count - stored) / fill.Elapsed.TotalSeconds, 0)} packets/s), store count {await store.CountAsync()}, load {Load()}");
                    stored = count;

                    bool peerRuns = peer is not null && count <= PeerCapacity;
                    if (peerRuns)
                    {
                        onPeer = await PublishToPeerAsync(publisher!, peerPackets, onPeer, count);
                    }

                    await CheckAsync(http, relay.Url, hello.Url, peerRuns ? peer!.Url : null, peerPackets[0], since);

                    // Warm-up, not counted: tiered compilation of both ASP.NET apps and the peer's JIT settle.
                    foreach (var url in new[] { hello.Url, relay.Url }.Concat(peerRuns ? [peer!.Url] : []))
                    {
                        await Wrk.RunAsync(url, threads, connections, warmup, "get.lua", keysFile, count.ToString());
                    }

                    for (int round = 1; round <= rounds; round++)
                    {
                        var ceiling = await Wrk.RunAsync(hello.Url, threads, connections, seconds, "get.lua", keysFile, count.ToString());
                        var ours = await Wrk.RunAsync(relay.Url, threads, connections, seconds, "get.lua", keysFile, count.ToString());
                        var notModified = await Wrk.RunAsync(relay.Url, threads, connections, seconds, "get.lua", keysFile, count.ToString(), since);
                        var theirs = peerRuns ? await Wrk.RunAsync(peer!.Url, threads, connections, seconds, "get.lua", keysFile, count.ToString()) : null;
                        Console.WriteLine($"round {round}, load {Load()}");
                        Console.WriteLine($"  hello-world (ceiling)   {ceiling.Row}");
                        Console.WriteLine($"  relay GET 200           {ours.Row}");
                        Console.WriteLine($"  relay GET 304           {notModified.Row}");
                        if (theirs is not null)
                        {
                            Console.WriteLine($"  npm pkarr relay (peer)  {theirs.Row}");
                        }

                        Console.WriteLine($"  ratios: 200/ceiling {Text.F(ours.Rps / ceiling.Rps, 3)}, 304/ceiling {Text.F(notModified.Rps / ceiling.Rps, 3)}" +
                            (theirs is null ? "" : $", 200/peer {Text.F(ours.Rps / theirs.Rps, 1)}, 304/peer {Text.F(notModified.Rps / theirs.Rps, 1)}"));
                    }
                }
            }

            if (peer is not null)
            {
                Console.WriteLine($"\npeer (node) RSS {Text.F(peer.RssMiB())} MiB");
            }

            await StoreReportAsync(relay, keysFile, stored, rssStart);
        }
        finally
        {
            if (publisher is not null)
            {
                await publisher.DisposeAsync();
            }

            if (peer is not null)
            {
                await peer.DisposeAsync();
            }
        }

        // The relay restarted on the same store: its start time and its latencies in a fresh process state.
        return await StoreBench.RestartAsync(dir, stored, seconds, threads, connections);
    }

    private static async Task StoreReportAsync(RelayServer relay, string keysFile, int stored, double rssStart)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        string db = relay.StoreLocation;
        Console.WriteLine($"\n## store of {stored} packets: {db}: {Text.F(Memory.SqliteBytes(db) / 1048576.0)} MiB (db+wal+shm); " +
            $"RSS {Text.F(Memory.RssMiB())} MiB (at start {Text.F(rssStart)}), GC heap {Text.F(GC.GetTotalMemory(false) / 1048576.0)} MiB");
        await StoreBench.LatencyAsync(relay.Url, keysFile, stored, 10);
    }

    // Stores packets [from, to) of fresh random keys; each key is one line of the keys file; the first PeerCapacity
    // packets are kept for the peer. Keys are made and packets signed (on every core) one batch ahead of the writes.
    private static async Task FillAsync(IPkarrCache store, int from, int to, StreamWriter keys, List<SignedPacket> keep)
    {
        const int Batch = 4096;
        var www = IPAddress.Parse("127.0.0.1");
        var signing = new Stopwatch();
        var storing = new Stopwatch();
        var batches = System.Threading.Channels.Channel.CreateBounded<SignedPacket[]>(2);
        var producer = Task.Run(async () =>
        {
            for (int start = from; start < to; start += Batch)
            {
                var packets = new SignedPacket[Math.Min(Batch, to - start)];
                signing.Start();
                Parallel.For(0, packets.Length, i =>
                {
                    using var keypair = Keypair.Random();
                    packets[i] = SignedPacket.Builder()
                        .Txt("@", "v=bench; a relay benchmark packet", 86400)
                        .A("www", www, 86400)
                        .Txt("_service", "port=443", 86400)
                        .Sign(keypair);
                });
                signing.Stop();
                await batches.Writer.WriteAsync(packets);
            }

            batches.Writer.Complete();
        });

        var progress = Stopwatch.StartNew();
        int done = from;
        await foreach (var packets in batches.Reader.ReadAllAsync())
        {
            storing.Start();
            foreach (var packet in packets)
            {
                if (!await store.PutIfNewerAsync(CachedPacket.Seen(packet)))
                {
                    throw new InvalidOperationException("the store refused a fresh key");
                }

                await keys.WriteLineAsync(packet.PublicKey.ToZ32());
                if (keep.Count < PeerCapacity)
                {
                    keep.Add(packet);
                }
            }

            storing.Stop();
            done += packets.Length;
            if (progress.Elapsed > TimeSpan.FromSeconds(60) || done == to)
            {
                Console.WriteLine($"  … {done} stored; so far {Text.F(signing.Elapsed.TotalSeconds, 1)} s making keys and signing (every core, " +
                    $"overlapping the writes), {Text.F(storing.Elapsed.TotalSeconds, 1)} s in PutIfNewerAsync and the keys file; load {Load()}");
                progress.Restart();
            }
        }

        await producer;
    }

    // Publishes packets [from, to) on the DHT, so that the peer's own node holds them; returns `to`.
    private static async Task<int> PublishToPeerAsync(PkarrClient publisher, List<SignedPacket> packets, int from, int to)
    {
        var watch = Stopwatch.StartNew();
        int failed = 0;
        int minStored = int.MaxValue;
        await Parallel.ForEachAsync(Enumerable.Range(from, to - from), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var result = await publisher.PublishAsync(packets[i], cancellationToken: ct);
            if (!result.Succeeded)
            {
                Interlocked.Increment(ref failed);
            }

            int s = result.StoredOn;
            int seen;
            while (s < (seen = Volatile.Read(ref minStored)) && Interlocked.CompareExchange(ref minStored, s, seen) != seen)
            {
            }
        });
        Console.WriteLine($"published {to - from} packet(s) on the DHT for the peer in {Text.F(watch.Elapsed.TotalSeconds, 1)} s " +
            $"(failed {failed}, fewest nodes stored on {minStored})");
        if (failed > 0)
        {
            throw new InvalidOperationException("publishing for the peer failed");
        }

        return to;
    }

    // One request of each kind, so that a wrong status fails the run before wrk counts it as throughput.
    private static async Task CheckAsync(HttpClient http, Uri relay, Uri hello, Uri? peer, SignedPacket packet, string since)
    {
        string key = packet.PublicKey.ToZ32();
        using var ok = await http.GetAsync(new Uri(relay, key));
        Require(ok.StatusCode == HttpStatusCode.OK && (await ok.Content.ReadAsByteArrayAsync()).AsSpan().SequenceEqual(packet.RelayPayload.Span), $"relay GET: {ok.StatusCode}");
        using var conditional = new HttpRequestMessage(HttpMethod.Get, new Uri(relay, key));
        conditional.Headers.TryAddWithoutValidation("If-Modified-Since", since);
        using var notModified = await http.SendAsync(conditional);
        Require(notModified.StatusCode == HttpStatusCode.NotModified, $"relay conditional GET: {notModified.StatusCode}");
        using var h = await http.GetAsync(new Uri(hello, key));
        Require(h.StatusCode == HttpStatusCode.OK, $"hello-world: {h.StatusCode}");
        if (peer is not null)
        {
            using var p = await http.GetAsync(new Uri(peer, key));
            Require(p.StatusCode == HttpStatusCode.OK && (await p.Content.ReadAsByteArrayAsync()).AsSpan().SequenceEqual(packet.RelayPayload.Span), $"peer GET: {p.StatusCode}");
        }
    }

    private static void Require(bool ok, string what)
    {
        if (!ok)
        {
            throw new InvalidOperationException("unexpected answer: " + what);
        }
    }

    internal static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
