// `client-get` mode: our client in its own process, the way the libtorrent client runs, so it does not share the
// testnet process's 2 cores and thread pool with the 200 server nodes.
//
//   Mainline.Benchmarks client-get --pubkey HEX --bootstrap IP:PORT[,IP:PORT...] --seq N
//
// 1. Join: read-only Dht on 127.0.0.1 bootstrapped from the list; BootstrappedAsync.
// 2. Warm-up (JIT only; libtorrent is native code): sign and verify an item locally and run one mutable get
//    for an unrelated random key to completion.
// 3. Prints {"ready":true,"port":P} and waits for one line on stdin, so the parent can snapshot its query
//    counters; then times one GetMutableAsync (first item with seq >= N, end of stream) and prints the result.
// Bounded: 15 s join, 20 s per get, 30 s wait for the go line.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Mainline.Benchmarks;

internal static class ClientProcess
{
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
        _ = MutableItem.TryFromSigned(local.Key, default, local.Seq, local.Value, local.Signature, out _);
        using (var warmCts = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            warmCts.CancelAfter(TimeSpan.FromSeconds(20));
            await foreach (var _ in client.GetMutableAsync(local.Key, cancellationToken: warmCts.Token))
            {
            }
        }

        var warmMs = warm.Elapsed.TotalMilliseconds;
        Console.WriteLine(JsonSerializer.Serialize(new { ready = true, port = client.LocalEndPoint.Port }));
        var go = Console.In.ReadLineAsync(ct).AsTask();
        if (await Task.WhenAny(go, Task.Delay(TimeSpan.FromSeconds(30), ct)) != go)
        {
            return 4;
        }

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

        var done = t.Elapsed.TotalMilliseconds;
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            ok = first is not null,
            port = client.LocalEndPoint.Port,
            join_ms = joinMs,
            warmup_ms = warmMs,
            first_ms = first,
            done_ms = done,
            items,
        }));
        return first is null ? 3 : 0;
    }
}
