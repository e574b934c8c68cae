// The public face of a Mainline DHT node, split by concern: Dht.cs (lifetime, info), Dht.Bootstrap.cs, Dht.Get.cs
// (streamed lookups), Dht.Put.cs (writes). Every piece of protocol state belongs to the node's state machine
// (Rpc/NodeCore), which only its loop's thread touches (Rpc/LocalNode): these methods only post commands to the
// loop and await the answers, so callers on any thread never race it. Where this node deliberately differs from
// the reference, docs/mainline-design.md says why.
using Mainline.Rpc;

namespace Mainline;

/// <summary>A BitTorrent Mainline DHT node (BEP 5, 42, 43, 44) in client, server or adaptive mode.</summary>
public sealed partial class Dht : IAsyncDisposable
{
    private readonly LocalNode _node;

    private Dht(LocalNode node) => _node = node;

    /// <summary>Checks the options, binds the socket, resolves the bootstrap list and starts the node.</summary>
    /// <exception cref="ArgumentException">When the options break a rule of <see cref="DhtOptionsValidator"/>
    /// (the message lists every broken rule).</exception>
    /// <exception cref="System.Net.Sockets.SocketException">When an explicit port cannot be bound.</exception>
    public static async Task<Dht> CreateAsync(DhtOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (DhtOptionsValidator.Failures(options) is { Count: > 0 } failures)
        {
            throw Error.InvalidOptions(failures, nameof(options));
        }

        var node = await LocalNode.StartAsync(options, cancellationToken).ConfigureAwait(false);
        var dht = new Dht(node);
        if (node.Core.BootstrapNodes.Count > 0)
        {
            // Join the network right away; callers may await BootstrappedAsync for the outcome.
            node.Post(() => node.Core.StartSelfLookup());
        }

        return dht;
    }

    /// <summary>The bound UDP endpoint.</summary>
    public System.Net.IPEndPoint LocalEndPoint => _node.LocalEndPoint;

    /// <summary>A snapshot of the node's state.</summary>
    public Task<DhtInfo> GetInfoAsync(CancellationToken cancellationToken = default) =>
        _node.InvokeAsync(() =>
        {
            var core = _node.Core;
            var (estimate, stdDev) = core.Cache.SizeEstimate();
            return new DhtInfo(core.Id, _node.LocalEndPoint, core.PublicEndPoint, core.Firewalled, core.ServerMode,
                estimate, stdDev, core.Table.Count);
        }, cancellationToken);

    /// <summary>Stops the node: pending calls fail, streams complete, the socket closes.</summary>
    public ValueTask DisposeAsync() => _node.DisposeAsync();

    internal LocalNode Node => _node;
}
