// `scale` mode: N server nodes in this one process, memory and lookup latency.
//
//   dotnet run -c Release --project bench/Mainline.Benchmarks -- scale --nodes 1000 --rounds 20
//
// 1. Baseline memory, then Testnet.CreateAsync(N) (the library's own testnet: every routing table seeded with the
//    other nodes) or, with --join bootstrap, the counting testnet whose nodes join by bootstrapping.
// 2. Memory after bootstrap, then --settle-seconds of idle: CPU time the idle network burns, memory again.
// 3. One mutable put (1000-byte value) from a read-only publisher; stored-on.
// 4. --rounds rounds: fresh read-only client (8 random bootstrap nodes, BootstrappedAsync), then time
//    FindNodeAsync(random target) and a mutable get (first value, completion). The client shares this process
//    and its cores with the N nodes.
using System.Diagnostics;

namespace Mainline.Benchmarks;

internal static class ScaleBench
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var a = new Args(argv);
        var n = a.Int("--nodes", 1000);
        var rounds = a.Int("--rounds", 20);
        var settle = Math.Clamp(a.Int("--settle-seconds", 10), 0, 120);
        var bootstrapJoin = a.Str("--join", "seeded") == "bootstrap";
        var budget = new Budget(TimeSpan.FromMinutes(a.Int("--max-minutes", 10)));
        using var runCts = new CancellationTokenSource(TimeSpan.FromMinutes(a.Int("--max-minutes", 10) + 3));
        var ct = runCts.Token;
        using var self = Process.GetCurrentProcess();

        Console.WriteLine($"# scale: {n} nodes ({(bootstrapJoin ? "joined by bootstrapping" : "library Testnet, seeded tables")}), {rounds} rounds, " +
                          $"{Environment.ProcessorCount} cores, {DateTime.UtcNow:u}");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var rssBase = Memory.ProcStatus("VmRSS");
        Console.WriteLine(Memory.Snapshot("baseline (no nodes)"));

        var sw = Stopwatch.StartNew();
        IReadOnlyList<Dht> nodes;
        IAsyncDisposable owner;
        if (bootstrapJoin)
        {
            var net = await CountingTestnet.CreateAsync(n, seed: 7, ct);
            nodes = net.Nodes;
            owner = net;
        }
        else
        {
            var net = await Testnet.CreateAsync(n, seeded: true, ct);
            nodes = net.Nodes;
            owner = net;
        }

        await using var _ = owner;
        var upSeconds = sw.Elapsed.TotalSeconds;
        var tables = new List<double>();
        foreach (var node in nodes)
        {
            tables.Add((await node.GetInfoAsync(ct)).RoutingTableSize);
        }

        Console.WriteLine($"{n} nodes up in {upSeconds:F1} s; routing tables median {Stats.Median(tables):F0}, min {tables.Min():F0}, max {tables.Max():F0}");
        var rssUp = Memory.ProcStatus("VmRSS");
        Console.WriteLine(Memory.Snapshot("after bootstrap"));

        self.Refresh();
        var cpu0 = self.TotalProcessorTime;
        var wall0 = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(settle), ct);
        self.Refresh();
        var idleCpu = (self.TotalProcessorTime - cpu0).TotalSeconds / Math.Max(wall0.Elapsed.TotalSeconds, 1e-9);
        Console.WriteLine($"idle {settle} s: process CPU {idleCpu * 100:F0}% of one core ({idleCpu / Environment.ProcessorCount * 100:F0}% of the machine)");
        Console.WriteLine(Memory.Snapshot("after idle"));

        var seed = Enumerable.Repeat((byte)0x22, 32).ToArray();
        var value = Enumerable.Range(0, 1000).Select(i => (byte)('A' + (i % 26))).ToArray();
        var item = MutableItem.Sign(seed, value, 1);
        await using var publisher = await Dht.CreateAsync(Loopback.Options([nodes[0].LocalEndPoint.ToString()], DhtMode.Client), ct);
        await publisher.BootstrappedAsync(ct);
        var put = Stopwatch.StartNew();
        PutResult result;
        using (var putCts = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            putCts.CancelAfter(TimeSpan.FromSeconds(30));
            result = await publisher.PutMutableAsync(item, cancellationToken: putCts.Token);
        }

        Console.WriteLine($"put: {result.Status}, stored on {result.StoredOn}, {put.Elapsed.TotalMilliseconds:F0} ms");

        var findMs = new List<double>();
        var firstMs = new List<double>();
        var doneMs = new List<double>();
        var joinMs = new List<double>();
        var found = new List<double>();
        for (var r = 0; r < rounds && !budget.Exhausted; r++)
        {
            var pick = new Random(1000 + r);
            string[] boots = [.. Enumerable.Range(0, n).OrderBy(_ => pick.Next()).Take(Math.Min(8, n)).Select(i => nodes[i].LocalEndPoint.ToString())];
            var join = Stopwatch.StartNew();
            await using var client = await Dht.CreateAsync(Loopback.Options(boots, DhtMode.Client), ct);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(30));
            await client.BootstrappedAsync(cts.Token);
            joinMs.Add(join.Elapsed.TotalMilliseconds);

            var target = NodeId.Random();
            var t = Stopwatch.StartNew();
            var closest = await client.FindNodeAsync(target, cts.Token);
            findMs.Add(t.Elapsed.TotalMilliseconds);
            found.Add(closest.Count);

            double? first = null;
            t.Restart();
            await foreach (var got in client.GetMutableAsync(item.Key, cancellationToken: cts.Token))
            {
                first ??= t.Elapsed.TotalMilliseconds;
            }

            doneMs.Add(t.Elapsed.TotalMilliseconds);
            if (first is { } f)
            {
                firstMs.Add(f);
            }

            Console.WriteLine($"round {r}: join {joinMs[^1]:F0} ms, find_node {findMs[^1]:F1} ms ({closest.Count} nodes), " +
                              $"get first {(first is { } ff ? ff.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : "none")} ms, done {doneMs[^1]:F1} ms");
        }

        var rssEnd = Memory.ProcStatus("VmRSS");
        var hwm = Memory.ProcStatus("VmHWM");
        Console.WriteLine(Memory.Snapshot("after lookups"));
        Console.WriteLine();
        Console.WriteLine($"## Summary: {n} nodes in one process ({budget.Elapsed.TotalSeconds:F0} s run) — median / p90 (n)");
        Console.WriteLine();
        Console.WriteLine("| metric | value | target | verdict |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| VmRSS after bootstrap | {rssUp / 1024.0:F1} MiB ({(rssUp - rssBase) / (double)n:F1} KiB/node above the {rssBase / 1024.0:F1} MiB baseline) | < 1024 MiB | {(rssUp < 1024 * 1024 ? "MET" : "NOT MET")} |");
        Console.WriteLine($"| VmRSS after lookups / peak (VmHWM) | {rssEnd / 1024.0:F1} / {hwm / 1024.0:F1} MiB | < 1024 MiB | {(hwm < 1024 * 1024 ? "MET" : "NOT MET")} |");
        Console.WriteLine($"| find_node lookup (ms) | {Stats.Mp(findMs)} | < 1000 | {(findMs.Count > 0 && Stats.P90(findMs) < 1000 ? "MET" : "NOT MET")} (p90) |");
        Console.WriteLine($"| mutable get, first value (ms) | {Stats.Mp(firstMs)} | < 1000 | {(firstMs.Count > 0 && Stats.P90(firstMs) < 1000 ? "MET" : "NOT MET")} (p90) |");
        Console.WriteLine($"| mutable get, completion (ms) | {Stats.Mp(doneMs)} | < 1000 | {(doneMs.Count > 0 && Stats.P90(doneMs) < 1000 ? "MET" : "NOT MET")} (p90) |");
        Console.WriteLine($"| client join (BootstrappedAsync, ms) | {Stats.Mp(joinMs)} | | |");
        Console.WriteLine($"| nodes returned by find_node | {Stats.Mp(found, 0)} | | |");
        Console.WriteLine($"| put stored on | {result.StoredOn} ({result.Status}) | >= 20 | {(result.StoredOn >= 20 ? "MET" : "NOT MET")} |");
        Console.WriteLine($"| testnet start | {upSeconds:F1} s | | |");
        Console.WriteLine($"| idle CPU | {idleCpu * 100:F0}% of one core | | |");
        Console.WriteLine($"| gets that found the value | {firstMs.Count}/{doneMs.Count} | | |");
        return 0;
    }
}
