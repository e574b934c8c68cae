// `lookup` mode: a mutable get on a loopback testnet, our client vs a libtorrent client, interleaved round by round.
//
//   dotnet run -c Release --project bench/Mainline.Benchmarks -- lookup --nodes 200 --rounds 20
//
// Per round r, both clients get the same bootstrap list B_r: 8 distinct testnet nodes drawn with seed r.
//   ours joined: fresh read-only Dht bootstrapped from B_r; after BootstrappedAsync (its self-lookup, not timed)
//          time GetMutableAsync: first verified item, and completion of the stream (end of lookup).
//   ours cold: the same, but the get starts right after CreateAsync (from the bootstrap list, while the
//          self-lookup runs): the state a libtorrent session is in below.
//   lt:    bench/scripts/lt_lookup.py: fresh read-only libtorrent session, add_dht_node(B_r); once its table holds
//          the 8 (not timed) time dht_get_mutable_item: first item alert, authoritative alert. libtorrent runs
//          no bootstrap traversal for nodes added after start, so its table is exactly B_r.
//   kit:   the peer kit's own CLI, `lt_testnet.py get-mutable --first`, timed as a whole process (wall), next to
//          `lt_testnet.py show-settings` (python + libtorrent start, no session, no lookup) for the start overhead.
// Messages per lookup: queries the testnet's nodes received from the client's port, by method. On loopback a round
// trip costs microseconds, so the times are a regression check reported as ratios to libtorrent; what a lookup
// costs on a real network is its get queries and rounds, reported next to libtorrent's from the same run.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Mainline.Benchmarks;

internal static class LookupBench
{
    private const string Python = "/usr/bin/python3";
    private const string Kit = "/work/shared/peers/lt_testnet.py";

    private static bool LtDebug { get; set; }

    private static string WarmKey { get; set; } = "";

    public static async Task<int> RunAsync(string[] argv)
    {
        var a = new Args(argv);
        var nodes = a.Int("--nodes", 200);
        var rounds = a.Int("--rounds", 20);
        var puts = a.Int("--puts", 5);
        var valueBytes = Math.Clamp(a.Int("--value-bytes", 1000), 1, 1000);
        var withLt = !a.Flag("--no-libtorrent");
        var withKit = withLt && !a.Flag("--no-kit");
        LtDebug = a.Flag("--lt-debug");
        var script = a.Str("--lt-script", Path.Combine(FindRepoRoot(), "bench", "scripts", "lt_lookup.py"));
        var budget = new Budget(TimeSpan.FromMinutes(a.Int("--max-minutes", 12)));
        using var runCts = new CancellationTokenSource(TimeSpan.FromMinutes(a.Int("--max-minutes", 12) + 2));
        var ct = runCts.Token;

        Console.WriteLine($"# lookup: {nodes} nodes, {rounds} rounds, {puts} puts of a {valueBytes}-byte value, libtorrent {(withLt ? "on" : "off")}, kit CLI {(withKit ? "on" : "off")}");
        Console.WriteLine($"# {Environment.ProcessorCount} cores, {DateTime.UtcNow:u}");
        var sw = Stopwatch.StartNew();
        await using var net = await CountingTestnet.CreateAsync(nodes, seed: 42, ct);
        var (tmin, tmed, tmax) = await net.TableSizesAsync(ct);
        Console.WriteLine($"testnet up in {sw.Elapsed.TotalSeconds:F1} s; routing tables min/median/max {tmin}/{tmed}/{tmax}");
        Console.WriteLine(Memory.Snapshot("memory after testnet"));

        // Publisher: a read-only client that stays up for the whole run (a putter that exits would leave a dead
        // node in libtorrent's tables; ours never enter them, being read-only).
        var seed = Enumerable.Repeat((byte)0x11, 32).ToArray();
        var value = Enumerable.Range(0, valueBytes).Select(i => (byte)('a' + (i % 26))).ToArray();
        await using var publisher = await Dht.CreateAsync(Loopback.Options([net.Nodes[0].LocalEndPoint.ToString()], DhtMode.Client), ct);
        await publisher.BootstrappedAsync(ct);
        if (LtDebug)
        {
            Console.WriteLine($"testnet ports: {string.Join(' ', net.Nodes.Select(n => n.LocalEndPoint.Port))}; publisher {publisher.LocalEndPoint.Port}");
        }
        var storedOn = new List<double>();
        var putMs = new List<double>();
        MutableItem item = null!;
        for (var s = 1; s <= puts && !budget.Exhausted; s++)
        {
            item = MutableItem.Sign(seed, value, s);
            using var putCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            putCts.CancelAfter(TimeSpan.FromSeconds(20));
            var t = Stopwatch.StartNew();
            var result = await publisher.PutMutableAsync(item, cancellationToken: putCts.Token);
            putMs.Add(t.Elapsed.TotalMilliseconds);
            storedOn.Add(result.StoredOn);
            Console.WriteLine($"put seq {s}: {result.Status}, stored on {result.StoredOn}, {putMs[^1]:F1} ms");
        }

        // A second key holding a value of the same size: the own-process client warms its JIT on a get of it (the
        // whole path: replies with values, verification, delivery), never on the measured key.
        var warmItem = MutableItem.Sign(Enumerable.Repeat((byte)0x22, 32).ToArray(), value, 1);
        Console.WriteLine($"warm-up item: {(await publisher.PutMutableAsync(warmItem, cancellationToken: ct)).Status}");
        WarmKey = Convert.ToHexStringLower(warmItem.Key.Span);
        var pk = Convert.ToHexStringLower(item.Key.Span);
        var sizes = await ReplySizes.ProbeGetAsync(net.Nodes.Select(n => n.LocalEndPoint), item.Target, ct);
        Console.WriteLine($"get replies from the {sizes.Count} testnet nodes: max {sizes.DefaultIfEmpty(0).Max()} bytes, " +
                          $"{sizes.Count(x => x > 1500)} over 1500 bytes (libtorrent's receive buffer), {sizes.Count(x => x > 1472)} over 1472 (Ethernet MTU payload)");
        if (a.Int("--hold-seconds", 0) is > 0 and <= 600 and var hold)
        {
            // Debugging: keep the testnet up for probes (krpc_probe.py) before the rounds.
            Console.WriteLine($"holding {hold} s; testnet ports: {string.Join(' ', net.Nodes.Select(n => n.LocalEndPoint.Port))}; pubkey {pk}");
            await Task.Delay(TimeSpan.FromSeconds(hold), ct);
        }

        var seq = item.Seq;
        var ours = new List<RoundResult>();
        var oursCold = new List<RoundResult>();
        var oursProcess = new List<RoundResult>();
        var lt = new List<RoundResult>();
        var kitWall = new List<double>();
        var kitElapsed = new List<double>();
        var kitStart = new List<double>();
        var kitFailures = 0;
        for (var r = 0; r < rounds && !budget.Exhausted; r++)
        {
            var pick = new Random(r);
            string[] boots = [.. Enumerable.Range(0, nodes).OrderBy(_ => pick.Next()).Take(Math.Min(8, nodes))
                .Select(i => Loopback.Check(net.Nodes[i].LocalEndPoint.ToString()))];
            var boot = string.Join(',', boots);
            var o = await OurRoundAsync(net, boots, item.Key.ToArray(), seq, joined: true, ct);
            ours.Add(o);
            Console.WriteLine($"round {r} ours joined: {o}");
            var c = await OurRoundAsync(net, boots, item.Key.ToArray(), seq, joined: false, ct);
            oursCold.Add(c);
            Console.WriteLine($"round {r} ours cold:   {c}");
            var x = await OurProcessRoundAsync(net, boot, pk, seq, ct);
            oursProcess.Add(x);
            Console.WriteLine($"round {r} ours proc:   {x}");
            if (withLt)
            {
                var l = await LibtorrentRoundAsync(net, script, boot, pk, seq, ct);
                lt.Add(l);
                Console.WriteLine($"round {r} lt:   {l}");
            }

            if (withKit)
            {
                var (wall, elapsed, ok) = await KitGetAsync(boot, pk, seq, ct);
                var start = (await RunProcessAsync(Python, [Kit, "show-settings"], TimeSpan.FromSeconds(30), ct)).WallMs;
                if (ok)
                {
                    kitWall.Add(wall);
                    kitElapsed.Add(elapsed);
                }
                else
                {
                    kitFailures++;
                }

                kitStart.Add(start);
                Console.WriteLine($"round {r} kit:  get-mutable --first wall {wall:F0} ms (its elapsed_ms {elapsed:F0}, ok {ok}); show-settings wall {start:F0} ms");
            }
        }

        Report(nodes, storedOn, putMs, ours, oursCold, oursProcess, lt, kitWall, kitElapsed, kitStart, kitFailures, budget);
        return 0;
    }

    internal sealed record RoundResult(bool Ok, double JoinMs, double FirstMs, double DoneMs, int Items, Dictionary<string, int> Sent, string Note = "")
    {
        public int Total => Sent.Values.Sum();

        public int Gets => Sent.GetValueOrDefault("get");

        public override string ToString() =>
            $"ok {Ok}, join {JoinMs:F1} ms, first {FirstMs:F2} ms, done {DoneMs:F2} ms, items {Items}, " +
            $"queries [{string.Join(", ", Sent.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))}] {Note}";
    }

    private static async Task<RoundResult> OurRoundAsync(CountingTestnet net, string[] boots, byte[] key, long seq, bool joined, CancellationToken ct)
    {
        var join = Stopwatch.StartNew();
        await using var client = await Dht.CreateAsync(Loopback.Options(boots, DhtMode.Client), ct);
        if (joined)
        {
            using var joinCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            joinCts.CancelAfter(TimeSpan.FromSeconds(15));
            await client.BootstrappedAsync(joinCts.Token);
        }

        var joinMs = join.Elapsed.TotalMilliseconds;
        var port = client.LocalEndPoint.Port;
        if (LtDebug)
        {
            Console.WriteLine($"client port {port}, id {(await client.GetInfoAsync(ct)).Id}");
        }

        var before = net.From(port);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        double first = double.NaN;
        var items = 0;
        var t = Stopwatch.StartNew();
        await foreach (var got in client.GetMutableAsync(key, cancellationToken: cts.Token))
        {
            if (got.Seq >= seq)
            {
                items++;
                if (double.IsNaN(first))
                {
                    first = t.Elapsed.TotalMilliseconds;
                }
            }
        }

        var done = t.Elapsed.TotalMilliseconds;
        await Task.Delay(50, ct); // let the last datagrams reach the counters
        var after = net.From(port);
        var sent = after.ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key));
        return new RoundResult(!double.IsNaN(first), joinMs, first, done, items, sent);
    }

    private static async Task<RoundResult> OurProcessRoundAsync(CountingTestnet net, string boot, string pk, long seq, CancellationToken ct)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(LookupBench).Assembly.Location);
        }

        // A long-running node runs tier-1 code; the child warms itself up to that state (see ClientProcess.cs).
        foreach (var arg in new[] { "client-get", "--pubkey", pk, "--bootstrap", boot, "--seq", seq.ToString(CultureInfo.InvariantCulture), "--warm-pubkey", WarmKey })
        {
            psi.ArgumentList.Add(arg);
        }

        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            var ready = await p.StandardOutput.ReadLineAsync(cts.Token);
            if (ready is null || !ready.Contains("\"ready\"", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"client-get: {ready} {await stderr}");
            }

            var port = JsonDocument.Parse(ready).RootElement.GetProperty("port").GetInt32();
            await Task.Delay(50, cts.Token); // the warm-up lookup's last datagrams reach the counters
            var before = net.From(port);
            await p.StandardInput.WriteLineAsync("go".AsMemory(), cts.Token);
            await p.StandardInput.FlushAsync(cts.Token);
            var line = await p.StandardOutput.ReadLineAsync(cts.Token);
            await p.WaitForExitAsync(cts.Token);
            await Task.Delay(50, cts.Token);
            var after = net.From(port);
            using var doc = JsonDocument.Parse(line ?? "{}");
            var root = doc.RootElement;
            double D(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
            var sent = after.ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key));
            if (root.TryGetProperty("warm_get_queries", out var wq) && sent.ContainsKey("get"))
            {
                sent["get"] -= wq.GetInt32(); // the warm-up get it ran right before the timed one
            }

            return new RoundResult(root.TryGetProperty("ok", out var ok) && ok.GetBoolean(), D("join_ms"), D("first_ms"), D("done_ms"),
                root.TryGetProperty("items", out var n) ? n.GetInt32() : 0, sent, $"warm-up {D("warmup_ms"):F0} ms");
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or JsonException)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true); // only the process we started
            }

            return new RoundResult(false, double.NaN, double.NaN, double.NaN, 0, [], e.Message);
        }
    }

    private static async Task<RoundResult> LibtorrentRoundAsync(CountingTestnet net, string script, string boot, string pk, long seq, CancellationToken ct)
    {
        var run = await RunProcessAsync(Python, [script, "--pubkey", pk, "--bootstrap", boot, "--seq", seq.ToString(CultureInfo.InvariantCulture), .. (LtDebug ? ["--log-dht"] : Array.Empty<string>())],
            TimeSpan.FromSeconds(60), ct);
        await Task.Delay(50, ct);
        if (LtDebug)
        {
            await File.WriteAllTextAsync($"/tmp/lt_lookup_{DateTime.UtcNow:HHmmssfff}.log", run.Stderr, ct);
        }

        var line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        if (line is null)
        {
            return new RoundResult(false, double.NaN, double.NaN, double.NaN, 0, [], $"exit {run.ExitCode}: {run.Stderr.Trim()}");
        }

        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        double D(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
        var port = root.GetProperty("port").GetInt32();
        // Everything this session sent, join included; the lookup itself is its `get` queries.
        return new RoundResult(root.GetProperty("ok").GetBoolean(), D("join_ms"), D("first_ms"), D("done_ms"),
            root.TryGetProperty("alerts_with_value", out var n) ? n.GetInt32() : 0, net.From(port));
    }

    private static async Task<(double Wall, double Elapsed, bool Ok)> KitGetAsync(string boot, string pk, long seq, CancellationToken ct)
    {
        var run = await RunProcessAsync(Python,
            [Kit, "get-mutable", "--first", "--pubkey", pk, "--seq", seq.ToString(CultureInfo.InvariantCulture), "--bootstrap", boot, "--min-nodes", "8", "--timeout", "20"],
            TimeSpan.FromSeconds(60), ct);
        var line = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        if (line is null)
        {
            return (run.WallMs, double.NaN, false);
        }

        using var doc = JsonDocument.Parse(line);
        var ok = doc.RootElement.TryGetProperty("ok", out var okv) && okv.GetBoolean();
        var elapsed = doc.RootElement.TryGetProperty("elapsed_ms", out var e) ? e.GetDouble() : double.NaN;
        return (run.WallMs, elapsed, ok);
    }

    internal sealed record ProcessRun(int ExitCode, string Stdout, string Stderr, double WallMs);

    internal static async Task<ProcessRun> RunProcessAsync(string file, string[] args, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true); // only the process we started
            await p.WaitForExitAsync(CancellationToken.None);
        }

        var wall = sw.Elapsed.TotalMilliseconds;
        return new ProcessRun(p.ExitCode, await stdout, await stderr, wall);
    }

    private static void Report(int nodes, List<double> storedOn, List<double> putMs, List<RoundResult> ours, List<RoundResult> oursCold, List<RoundResult> oursProcess, List<RoundResult> lt,
        List<double> kitWall, List<double> kitElapsed, List<double> kitStart, int kitFailures, Budget budget)
    {
        static List<double> Col(IEnumerable<RoundResult> rs, Func<RoundResult, double> f) => [.. rs.Where(r => r.Ok).Select(f)];
        Console.WriteLine();
        Console.WriteLine($"## Summary ({nodes}-node testnet, {budget.Elapsed.TotalSeconds:F0} s run) — median / p90 (n)");
        Console.WriteLine();
        Console.WriteLine($"put: stored on {Stats.Mp(storedOn, 0)}, min {storedOn.DefaultIfEmpty(double.NaN).Min():F0}; put time ms {Stats.Mp(putMs)}");
        Console.WriteLine();
        Console.WriteLine("| client | ok rounds | time to first value (ms) | time to completion (ms) | get queries / lookup | all queries / lookup | join (ms, not in lookup) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        void Row(string name, List<RoundResult> rs, string allNote) =>
            Console.WriteLine($"| {name} | {rs.Count(r => r.Ok)}/{rs.Count} | {Stats.Mp(Col(rs, r => r.FirstMs), 2)} | {Stats.Mp(Col(rs, r => r.DoneMs), 2)} | " +
                              $"{Stats.Mp(Col(rs, r => r.Gets), 0)} | {Stats.Mp(Col(rs, r => r.Total), 0)}{allNote} | {Stats.Mp(Col(rs, r => r.JoinMs), 0)} |");
        Row("ours, joined (after BootstrappedAsync)", ours, "");
        Row("ours, cold (get right after CreateAsync)", oursCold, " (incl. self-lookup)");
        Row("ours, own process (joined, JIT warmed by 60 gets of another key)", oursProcess, "");
        if (lt.Count > 0)
        {
            Row("libtorrent 2.0.8 (read-only session)", lt, " (incl. join)");
        }

        Console.WriteLine();
        if (lt.Count > 0)
        {
            var of = Stats.Median(Col(ours, r => r.FirstMs));
            var lf = Stats.Median(Col(lt, r => r.FirstMs));
            var od = Stats.Median(Col(ours, r => r.DoneMs));
            var ld = Stats.Median(Col(lt, r => r.DoneMs));
            var o9 = Stats.P90(Col(ours, r => r.FirstMs));
            var l9 = Stats.P90(Col(lt, r => r.FirstMs));
            Console.WriteLine($"ratio ours/libtorrent: first value median {of / lf:F2}, p90 {o9 / l9:F2}; completion median {od / ld:F2}; " +
                              $"get queries median {Stats.Median(Col(ours, r => r.Gets)) / Stats.Median(Col(lt, r => r.Gets)):F2}");
            var cf = Stats.Median(Col(oursCold, r => r.FirstMs));
            var c9 = Stats.P90(Col(oursCold, r => r.FirstMs));
            var cd = Stats.Median(Col(oursCold, r => r.DoneMs));
            var pf = Stats.Median(Col(oursProcess, r => r.FirstMs));
            var p9 = Stats.P90(Col(oursProcess, r => r.FirstMs));
            var pd = Stats.Median(Col(oursProcess, r => r.DoneMs));
            Console.WriteLine($"ratio ours own process/libtorrent: first value median {pf / lf:F2}, p90 {p9 / l9:F2}; completion median {pd / ld:F2}; " +
                              $"get queries median {Stats.Median(Col(oursProcess, r => r.Gets)) / Stats.Median(Col(lt, r => r.Gets)):F2}");
            Console.WriteLine($"ratio ours cold/libtorrent: first value median {cf / lf:F2}, p90 {c9 / l9:F2}; completion median {cd / ld:F2}");
        }

        Console.WriteLine($"target stored-on >= 20: {(storedOn.Count > 0 && storedOn.Min() >= 20 ? "MET" : "NOT MET")} (min {storedOn.DefaultIfEmpty(double.NaN).Min():F0})");
        if (kitWall.Count + kitFailures > 0)
        {
            Console.WriteLine();
            Console.WriteLine($"kit CLI `lt_testnet.py get-mutable --first` (whole process): wall ms {Stats.Mp(kitWall, 0)}, its elapsed_ms {Stats.Mp(kitElapsed, 0)}, failures {kitFailures}");
            Console.WriteLine($"kit CLI `lt_testnet.py show-settings` (python + libtorrent start only): wall ms {Stats.Mp(kitStart, 0)}");
            Console.WriteLine($"kit wall - start overhead (median): {Stats.Median(kitWall) - Stats.Median(kitStart):F0} ms (still includes session start, join and the crypto import in its elapsed_ms)");
        }
    }

    internal static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Pkarr.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
