// The public face of a Mainline DHT node. Split by concern: Dht.cs (lifetime, info), Dht.Bootstrap.cs,
// Dht.Get.cs (streamed lookups), Dht.Put.cs (writes). All protocol state lives in the node's single loop
// (Rpc/LocalNode); these methods post work to it and await the answer.
//
// Deliberate differences from the Rust reference (shared spec §15 and interop findings), each noted where made:
//  * any-length `t` accepted and echoed; any `v`; `ip` used only when 6 bytes; malformed queries get 203,
//    unknown methods 204 (or a find_node answer when they carry a target);
//  * mutable get replies must hash to the target (SHA1(k ‖ salt)) as well as verify; servers recompute the
//    target, verify the signature before looking at stored state, refuse equal seq with a different value and
//    negative seq; empty salt == no salt; items expire (2 h) and peers too (45 min);
//  * tokens are HMAC-SHA256(secret, ip ‖ target)[0..4]; puts use our own id; a lookup pings a node only when its
//    query got an error reply, with our own id (bittorrent-dht files queriers under a.id); replies refresh
//    routing-table entries, two missed pings evict;
//  * the loop is one dedicated thread blocking on the socket (no thread-pool hop per datagram);
//  * lookups are keyed by (target, kind, seq), lists are capped at 500 and a lookup visits at most 20 bootstrap
//    addresses.
using Mainline.Rpc;

namespace Mainline;

/// <summary>A BitTorrent Mainline DHT node (BEP 5, 42, 43, 44) in client, server or adaptive mode.</summary>
public sealed partial class Dht : IAsyncDisposable
{
    private readonly LocalNode _node;

    private Dht(LocalNode node) => _node = node;

    /// <summary>Binds the socket, resolves the bootstrap list and starts the node.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">When an explicit port cannot be bound.</exception>
    public static async Task<Dht> CreateAsync(DhtOptions options, CancellationToken cancellationToken = default)
    {
        var node = await LocalNode.StartAsync(options, cancellationToken).ConfigureAwait(false);
        var dht = new Dht(node);
        if (node.BootstrapNodes.Count > 0)
        {
            // Join the network right away; callers may await BootstrappedAsync for the outcome.
            node.Post(() => node.StartSelfLookup());
        }

        return dht;
    }

    /// <summary>The bound UDP endpoint.</summary>
    public System.Net.IPEndPoint LocalEndPoint => _node.LocalEndPoint;

    /// <summary>A snapshot of the node's state.</summary>
    public Task<DhtInfo> GetInfoAsync(CancellationToken cancellationToken = default) =>
        _node.InvokeAsync(() =>
        {
            var (estimate, stdDev) = _node.Cache.SizeEstimate();
            return new DhtInfo(_node.Id, _node.LocalEndPoint, _node.PublicEndPoint, _node.Firewalled, _node.ServerMode,
                estimate, stdDev, _node.Table.Count);
        }, cancellationToken);

    /// <summary>Stops the node: pending calls fail, streams complete, the socket closes.</summary>
    public ValueTask DisposeAsync() => _node.DisposeAsync();

    internal LocalNode Node => _node;
}
