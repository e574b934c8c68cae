// Helpers of the console modes: arguments, percentiles, a wall-clock budget, the counting testnet and the clients.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Mainline;
using Pkarr.Client;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Benchmarks;

internal sealed class Args(string[] args)
{
    public int Int(string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}

internal static class Stats
{
    /// <summary>Nearest-rank percentile (p in 0..100); NaN when there are no values.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 50);

    public static string F(double v, int decimals = 2) =>
        double.IsNaN(v) ? "n/a" : v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}

/// <summary>A wall-clock budget for a whole run: loops check it and stop by themselves.</summary>
internal sealed class Budget(TimeSpan total)
{
    private readonly Stopwatch _sw = Stopwatch.StartNew();

    public bool Exhausted => _sw.Elapsed > total;

    public TimeSpan Elapsed => _sw.Elapsed;
}

/// <summary>
/// The library's seeded loopback testnet (<see cref="Testnet"/>, every routing table holding every node) whose server
/// nodes count each incoming query by (source port, method) through <see cref="DhtOptions.RequestFilter"/>. Every
/// client binds its own port, so the counts of a port are the queries that client sent into the testnet.
/// </summary>
internal sealed class CountingTestnet : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(int Port, string Method), int> _counts = new();

    private CountingTestnet(Testnet net) => Net = net;

    private CountingTestnet() => Net = null!;

    public Testnet Net { get; private set; }

    public static async Task<CountingTestnet> CreateAsync(int nodes, CancellationToken ct)
    {
        var counting = new CountingTestnet();
        counting.Net = await Testnet.CreateAsync(nodes, seeded: true, TimeProvider.System, (_, o) => o.RequestFilter = counting.Count, ct).ConfigureAwait(false);
        return counting;
    }

    private bool Count(IncomingRequest request)
    {
        _counts.AddOrUpdate((request.Source.Port, request.Method), 1, static (_, c) => c + 1);
        return true;
    }

    /// <summary>Queries received from <paramref name="port"/>, by method.</summary>
    public Dictionary<string, int> From(int port) =>
        _counts.Where(kv => kv.Key.Port == port).ToDictionary(kv => kv.Key.Method, kv => kv.Value);

    public int TotalFrom(int port) => _counts.Where(kv => kv.Key.Port == port).Sum(kv => kv.Value);

    /// <summary>
    /// The queries from <paramref name="port"/> once they stop arriving: a lookup that answered early may still have
    /// queries in flight, and those are part of its cost. Waits until the count is unchanged for 30 ms, at most 2 s.
    /// </summary>
    public async Task<Dictionary<string, int>> SettledFromAsync(int port, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var last = TotalFrom(port);
        while (sw.Elapsed < TimeSpan.FromSeconds(2))
        {
            await Task.Delay(30, ct).ConfigureAwait(false);
            var now = TotalFrom(port);
            if (now == last)
            {
                break;
            }

            last = now;
        }

        return From(port);
    }

    public static Dictionary<string, int> Minus(Dictionary<string, int> after, Dictionary<string, int> before) =>
        after.ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key));

    public ValueTask DisposeAsync() => Net.DisposeAsync();
}

internal static class Clients
{
    /// <summary>A DHT-only client joining <paramref name="testnet"/> in client mode on 127.0.0.1 (no relays, no public host).</summary>
    public static PkarrClientOptions DhtOnly(Testnet testnet) => new()
    {
        UseRelays = false,
        Bootstrap = [.. testnet.Bootstrap.Select(e => e.ToString())],
        DhtBindAddress = IPAddress.Loopback,
        DhtPort = 0,
        DhtMode = DhtMode.Client,
    };

    /// <summary>A packet of the size of a typical pkarr record set: an A, an AAAA and two TXT records.</summary>
    public static SignedPacket Packet(Keypair keypair, int i, uint ttl = SignedPacket.DefaultMinimumTtl) => SignedPacket.Builder()
        .A("@", IPAddress.Parse("192.0.2.1"), ttl)
        .Aaaa("@", IPAddress.Parse("2001:db8::1"), ttl)
        .Txt("_service", "v=1; key " + i.ToString(CultureInfo.InvariantCulture), ttl)
        .Txt("_hello", "hello from the client benchmark", ttl)
        .Sign(keypair);
}
