// A loopback testnet built only from the public API (Dht.CreateAsync), whose server nodes count every incoming
// query by (source port, method) through DhtOptions.RequestFilter. Every client (ours or libtorrent's) uses its
// own ephemeral port, so the counts per port are "messages that client sent into the testnet".
//
// Join: node 0 has no bootstrap; node i bootstraps from node 0, node i-1 and two random earlier nodes; when all
// exist, every node re-runs its self-lookup so early nodes learn about later ones (the network converges the
// way a real one does, instead of the library Testnet's omniscient seeding).
using System.Collections.Concurrent;

namespace Mainline.Benchmarks;

internal sealed class CountingTestnet : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(int Port, string Method), int> _counts = new();

    public List<Dht> Nodes { get; } = [];

    public static async Task<CountingTestnet> CreateAsync(int count, int seed, CancellationToken ct)
    {
        var net = new CountingTestnet();
        var rng = new Random(seed);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var boot = new List<string>();
                if (i > 0)
                {
                    boot.Add(net.Nodes[0].LocalEndPoint.ToString());
                    boot.Add(net.Nodes[i - 1].LocalEndPoint.ToString());
                    for (var j = 0; j < 2 && i > 2; j++)
                    {
                        boot.Add(net.Nodes[rng.Next(1, i - 1)].LocalEndPoint.ToString());
                    }
                }

                net.Nodes.Add(await Dht.CreateAsync(Loopback.Options([.. boot.Distinct()], DhtMode.Server, net.Count), ct).ConfigureAwait(false));
            }

            // Second pass, bounded batches so 2 cores are not flooded with 200 lookups at once.
            foreach (var batch in net.Nodes.Chunk(25))
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(TimeSpan.FromSeconds(30));
                await Task.WhenAll(batch.Select(n => n.BootstrappedAsync(cts.Token))).ConfigureAwait(false);
            }
        }
        catch
        {
            await net.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return net;
    }

    private bool Count(IncomingRequest request)
    {
        _counts.AddOrUpdate((request.Source.Port, request.Method), 1, static (_, c) => c + 1);
        return true;
    }

    /// <summary>Queries received from <paramref name="port"/>, by method.</summary>
    public Dictionary<string, int> From(int port) =>
        _counts.Where(kv => kv.Key.Port == port).ToDictionary(kv => kv.Key.Method, kv => kv.Value);

    public async Task<(int Min, int Median, int Max)> TableSizesAsync(CancellationToken ct)
    {
        var sizes = new List<int>();
        foreach (var n in Nodes)
        {
            sizes.Add((await n.GetInfoAsync(ct).ConfigureAwait(false)).RoutingTableSize);
        }

        var smallest = string.Join(", ", sizes.Select((size, i) => (size, i)).OrderBy(x => x.size).Take(5).Select(x => $"node {x.i}: {x.size}"));
        Console.WriteLine($"smallest routing tables: {smallest}");
        sizes.Sort();
        return (sizes[0], sizes[sizes.Count / 2], sizes[^1]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in Nodes)
        {
            await n.DisposeAsync().ConfigureAwait(false);
        }
    }
}
