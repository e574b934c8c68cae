// `client-get` mode: our client in its own process, the way the libtorrent client runs, so it does not share the
// testnet process's 2 cores with the 200 server nodes' threads.
//
//   Mainline.Benchmarks client-get --pubkey HEX --bootstrap IP:PORT[,IP:PORT...] --seq N [--warm-pubkey HEX]
//
// 1. Join: read-only Dht on 127.0.0.1 bootstrapped from the list; BootstrappedAsync.
// 2. JIT warm-up (libtorrent is native code): sign and verify an item locally, then 60 timed mutable gets (the
//    method the timed get runs, its own timing included) to completion of --warm-pubkey (another key the testnet holds, so the path that delivers values is compiled too; a random
//    key without it), with the default tiered JIT: a long-running node's steady state, tier-1 code with profiles.
// 3. Prints {"ready":true,"port":P} and waits for one line on stdin, so the parent can snapshot its query
//    counters. Then one more get of the warm key and, right after it, the timed GetMutableAsync (first item with
//    seq >= N, end of stream). The extra get puts the process in the state libtorrent's lookup starts from (its
//    network thread busy a moment before, with the join); waiting on stdin had left every thread idle for 50+ ms,
//    and the first datagrams after an idle spell on this virtual machine cost milliseconds. Its `get` queries
//    (one per node it visits: `Queried`) are printed, for the parent to subtract from the counters.
// Bounded: 15 s join, 20 s per get, 30 s wait for the go line.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Mainline.Benchmarks;

internal static class ClientProcess
{
    /// <summary>Gets of the warm key before the timed one: enough for the JIT's tier-1 (profile-guided) code, the
    /// code a long-running node runs; tier-0 code, or TieredCompilation=0 without profiles, is 1.5–3× slower.</summary>
    private const int WarmGets = 60;

    public static async Task<int> RunAsync(string[] argv)
    {
        var a = new Args(argv);
        var key = Convert.FromHexString(a.Str("--pubkey", ""));
        var seq = long.Parse(a.Str("--seq", "0"), CultureInfo.InvariantCulture);
        string[] boots = [.. a.Str("--bootstrap", "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Loopback.Check)];
        using var all = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = all.Token;

        var join = Stopwatch.StartNew();
        await using var client = await Dht.CreateAsync(Loopback.Options(boots, DhtMode.Client), ct);
        using (var joinCts = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            joinCts.CancelAfter(TimeSpan.FromSeconds(15));
            await client.BootstrappedAsync(joinCts.Token);
        }

        var joinMs = join.Elapsed.TotalMilliseconds;

        var warm = Stopwatch.StartNew();
        var seed = new byte[32];
        Random.Shared.NextBytes(seed);
        var local = MutableItem.Sign(seed, "warm-up"u8, 1);
        _ = MutableItem.TryFromSigned(local.Key.Span, default, local.Seq, local.Value.Span, local.Signature.Span, out _);
        var warmKey = a.Str("--warm-pubkey", "") is { Length: 64 } hex ? Convert.FromHexString(hex) : local.Key.ToArray();
        for (var i = 0; i < WarmGets; i++)
        {
            // The same method as the timed get, so that the timed get runs warmed code, its own timing included.
            await TimedGetAsync(client, warmKey, 0, ct);
        }

        var warmMs = warm.Elapsed.TotalMilliseconds;
        Console.WriteLine(JsonSerializer.Serialize(new { ready = true, port = client.LocalEndPoint.Port }));
        var go = Console.In.ReadLineAsync(ct).AsTask();
        if (await Task.WhenAny(go, Task.Delay(TimeSpan.FromSeconds(30), ct)) != go)
        {
            return 4;
        }

        var warmQueries = await WarmAsync(client, warmKey, ct);
        var (first, done, items) = await TimedGetAsync(client, key, seq, ct);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            ok = first is not null,
            port = client.LocalEndPoint.Port,
            join_ms = joinMs,
            warmup_ms = warmMs,
            warm_get_queries = warmQueries,
            first_ms = first,
            done_ms = done,
            items,
        }));
        return first is null ? 3 : 0;
    }

    /// <summary>A whole get of <paramref name="key"/>: time to the first item with seq ≥ <paramref name="seq"/>, to
    /// the end of the stream, and how many such items came.</summary>
    private static async Task<(double? First, double Done, int Items)> TimedGetAsync(Dht client, byte[] key, long seq, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        double? first = null;
        var items = 0;
        var t = Stopwatch.StartNew();
        await foreach (var got in client.GetMutableAsync(key, cancellationToken: cts.Token))
        {
            if (got.Seq >= seq)
            {
                items++;
                first ??= t.Elapsed.TotalMilliseconds;
            }
        }

        return (first, t.Elapsed.TotalMilliseconds, items);
    }

    /// <summary>A whole get of <paramref name="key"/>; returns how many nodes it queried (one `get` each).</summary>
    private static async Task<int> WarmAsync(Dht client, byte[] key, CancellationToken ct)
    {
        using var warmCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        warmCts.CancelAfter(TimeSpan.FromSeconds(20));
        var outcome = await client.GetMutableDetailedAsync(key, cancellationToken: warmCts.Token);
        return outcome.Diagnostics.Queried;
    }
}
