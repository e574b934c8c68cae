// A local DHT of N server-mode nodes on 127.0.0.1 in one process (shared spec §12.1), for tests and for the
// CLI's offline mode. Seeded (default): every routing table is filled with the other nodes. Unseeded: node 0
// has no bootstrap, the others bootstrap from it. Loopback ids count as BEP 42-secure, so many nodes share an IP.
using System.Net;
using Mainline.Rpc;

namespace Mainline;

/// <summary>N DHT nodes on 127.0.0.1.</summary>
public sealed class Testnet : IAsyncDisposable
{
    private Testnet(IReadOnlyList<Dht> nodes) => Nodes = nodes;

    /// <summary>The nodes.</summary>
    public IReadOnlyList<Dht> Nodes { get; }

    /// <summary>The endpoint (127.0.0.1:port) of every node, to bootstrap other nodes from.</summary>
    public IReadOnlyList<IPEndPoint> Bootstrap => [.. Nodes.Select(n => n.LocalEndPoint)];

    /// <summary>Options for a node joining this testnet: loopback, OS-chosen port, bootstrap from all nodes.</summary>
    public DhtOptions ClientOptions(DhtMode mode = DhtMode.Client) => NodeOptions(Bootstrap, mode, TimeProvider.System);

    internal static DhtOptions NodeOptions(IEnumerable<IPEndPoint> bootstrap, DhtMode mode, TimeProvider time) => new()
    {
        Bootstrap = [.. bootstrap],
        TimeProvider = time,
        Port = 0,
        BindAddress = IPAddress.Loopback,
        Mode = mode,
        RateLimitPerIp = 0, // every node shares 127.0.0.1 and its /24, and all the traffic stays on this host
        RateLimitPerSubnet = 0,
        ReplyBytesPerSecond = 0,
        Server = new ServerSettings { MaxItemsPerIp = int.MaxValue, MaxPeersPerIp = int.MaxValue }, // one IP too
    };

    /// <summary>Starts <paramref name="count"/> server nodes.</summary>
    /// <param name="count">How many nodes, at least 1.</param>
    /// <param name="seeded">True: every routing table starts with all the nodes; false: the nodes bootstrap from node 0.</param>
    /// <param name="cancellationToken">Stops the start.</param>
    public static Task<Testnet> CreateAsync(int count, bool seeded = true, CancellationToken cancellationToken = default) =>
        CreateAsync(count, seeded, TimeProvider.System, cancellationToken);

    /// <summary>Starts <paramref name="count"/> server nodes whose clock is <paramref name="timeProvider"/> (tests
    /// pass a fake clock to drive expiry and timeouts).</summary>
    /// <param name="count">How many nodes, at least 1.</param>
    /// <param name="seeded">True: every routing table starts with all the nodes; false: the nodes bootstrap from node 0.</param>
    /// <param name="timeProvider">The clock of every node.</param>
    /// <param name="cancellationToken">Stops the start.</param>
    public static Task<Testnet> CreateAsync(int count, bool seeded, TimeProvider timeProvider, CancellationToken cancellationToken = default) =>
        CreateAsync(count, seeded, timeProvider, null, cancellationToken);

    /// <summary>As the public overload; <paramref name="configure"/> adjusts node i's options (tests: request filters).</summary>
    internal static async Task<Testnet> CreateAsync(
        int count, bool seeded, TimeProvider timeProvider, Action<int, DhtOptions>? configure, CancellationToken cancellationToken)
    {
        if (count < 1)
        {
            throw Error.OutOfRange(nameof(count), count, "A testnet has at least one node.");
        }

        ArgumentNullException.ThrowIfNull(timeProvider);
        var nodes = new List<Dht>();
        try
        {
            DhtOptions Options(int i, IEnumerable<IPEndPoint> bootstrap)
            {
                var options = NodeOptions(bootstrap, DhtMode.Server, timeProvider);
                configure?.Invoke(i, options);
                return options;
            }

            var first = await Dht.CreateAsync(Options(0, []), cancellationToken).ConfigureAwait(false);
            nodes.Add(first);
            IPEndPoint[] bootstrap = seeded ? [] : [first.LocalEndPoint];
            for (var i = 1; i < count; i++)
            {
                nodes.Add(await Dht.CreateAsync(Options(i, bootstrap), cancellationToken).ConfigureAwait(false));
            }

            if (seeded)
            {
                var all = new List<DhtNode>();
                foreach (var n in nodes)
                {
                    all.Add(new DhtNode(await n.Node.InvokeAsync(() => n.Node.Core.Id, cancellationToken).ConfigureAwait(false), n.LocalEndPoint));
                }

                foreach (var n in nodes)
                {
                    await n.Node.InvokeAsync(() =>
                    {
                        foreach (var other in all)
                        {
                            n.Node.Core.Table.Add(other, n.Node.Core.Now);
                        }

                        return true;
                    }, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                await Task.WhenAll(nodes.Skip(1).Select(n => n.BootstrappedAsync(cancellationToken))).ConfigureAwait(false);
            }
        }
        catch
        {
            foreach (var n in nodes)
            {
                await n.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new Testnet(nodes);
    }

    /// <summary>Stops every node.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var n in Nodes)
        {
            await n.DisposeAsync().ConfigureAwait(false);
        }
    }
}
