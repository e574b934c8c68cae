using System.Net;
using Mainline.Server;
using Microsoft.Extensions.Logging;

namespace Mainline;

/// <summary>How a node takes part in the DHT (shared spec §10.4).</summary>
public enum DhtMode
{
    /// <summary>Start read-only; become a server at a 15-minute refresh once reachable (not firewalled). The default.</summary>
    Adaptive,

    /// <summary>Read-only (BEP 43): never answer queries, send <c>ro=1</c>.</summary>
    Client,

    /// <summary>Answer queries and store data from the start.</summary>
    Server,
}

/// <summary>A query that reached a server-mode node, as shown to <see cref="DhtOptions.RequestFilter"/>.</summary>
/// <param name="Method">The KRPC method (<c>ping</c>, <c>get</c>, …).</param>
/// <param name="SenderId">The id the sender claims.</param>
/// <param name="Source">The datagram's source endpoint.</param>
public sealed record IncomingRequest(string Method, NodeId SenderId, IPEndPoint Source);

/// <summary>Options of a <see cref="Dht"/> node.</summary>
public sealed class DhtOptions
{
    /// <summary>The reference's default bootstrap nodes, for real use.</summary>
    public static IReadOnlyList<string> DefaultBootstrap { get; } =
    [
        "router.bittorrent.com:6881",
        "dht.transmissionbt.com:6881",
        "dht.libtorrent.org:25401",
        "relay.pkarr.org:6881",
    ];

    /// <summary>Bootstrap nodes as HOST:PORT, resolved once at start (IPv4 only; unresolvable ones skipped).
    /// Null (default) means <see cref="DefaultBootstrap"/>; an empty list makes the first node of a private network.</summary>
    public IReadOnlyList<string>? Bootstrap { get; init; }

    /// <summary>Nodes added to <see cref="Bootstrap"/> (or to the defaults), e.g. exported from a previous run.</summary>
    public IReadOnlyList<string> ExtraBootstrap { get; init; } = [];

    /// <summary>UDP port; null tries 6881 and falls back to an OS-chosen port (the reference's default).</summary>
    public int? Port { get; init; }

    /// <summary>Local address to bind; default 0.0.0.0 (IPv4 only in this project).</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Any;

    /// <summary>Timeout of every request; default 2 s (the reference's; it also bounds lookup length).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Client, server or adaptive; default adaptive.</summary>
    public DhtMode Mode { get; init; } = DhtMode.Adaptive;

    /// <summary>A known public IPv4 address: only seeds a BEP 42 secure id at start.</summary>
    public IPAddress? PublicIp { get; init; }

    /// <summary>Storage capacities and lifetimes of server mode.</summary>
    public ServerSettings Server { get; init; } = new();

    /// <summary>A hook run on every parsed incoming query in server mode; false drops it without a reply.</summary>
    public Func<IncomingRequest, bool>? RequestFilter { get; init; }

    /// <summary>Queries per second answered per source IP; default 20 (libtorrent-like pace; a lookup sends 2).</summary>
    public double RateLimitPerIp { get; init; } = 20;

    /// <summary>Burst of queries per source IP; default 60.</summary>
    public double RateLimitBurst { get; init; } = 60;

    /// <summary>Routing-table refresh period (find_node on our own id; adaptive mode may switch then): 15 min as
    /// the reference. Internal: tests shorten it.</summary>
    internal TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Stale-node purge and ping period: 5 min as the reference. Internal: tests shorten it.</summary>
    internal TimeSpan PurgeInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Logger for structured logs; null logs nothing.</summary>
    public ILogger? Logger { get; init; }
}

/// <summary>A snapshot of a node's state (shared spec §11.3).</summary>
/// <param name="Id">Our node id.</param>
/// <param name="LocalEndPoint">The bound UDP endpoint.</param>
/// <param name="PublicEndPoint">Our address as voted by repliers; null until known.</param>
/// <param name="Firewalled">True until our own ping through the public address came back.</param>
/// <param name="ServerMode">True when answering queries.</param>
/// <param name="SizeEstimate">Estimated number of DHT nodes.</param>
/// <param name="SizeEstimateStdDev">Relative standard deviation of <paramref name="SizeEstimate"/>.</param>
/// <param name="RoutingTableSize">Nodes in the routing table.</param>
public sealed record DhtInfo(
    NodeId Id, IPEndPoint LocalEndPoint, IPEndPoint? PublicEndPoint, bool Firewalled, bool ServerMode,
    long SizeEstimate, double SizeEstimateStdDev, int RoutingTableSize);
