using System.Net;
using Microsoft.Extensions.Logging;

namespace Mainline;

/// <summary>
/// Options of a <see cref="Dht"/> node: a plain settable class, so it binds from configuration. Nothing is checked
/// when a property is set; <see cref="DhtOptionsValidator"/> checks every rule at once, and
/// <see cref="Dht.CreateAsync"/> applies the same rules and refuses options that break any of them.
/// </summary>
public sealed class DhtOptions
{
    /// <summary>The reference's default bootstrap nodes (DNS names, resolved when a node starts), for real use.</summary>
    public static IReadOnlyList<EndPoint> DefaultBootstrap { get; } =
    [
        new DnsEndPoint("router.bittorrent.com", 6881),
        new DnsEndPoint("dht.transmissionbt.com", 6881),
        new DnsEndPoint("dht.libtorrent.org", 25401),
        new DnsEndPoint("relay.pkarr.org", 6881),
    ];

    /// <summary>Bootstrap nodes (<see cref="IPEndPoint"/> or <see cref="DnsEndPoint"/>; parse text with
    /// <see cref="DhtEndPoint.Parse"/>), resolved once at start, IPv4 only, unresolvable ones skipped. Default
    /// null, meaning <see cref="DefaultBootstrap"/>, so a node joins the public DHT unless told otherwise; an
    /// empty list makes the first node of a private network.</summary>
    public IList<EndPoint>? Bootstrap { get; set; }

    /// <summary>Nodes added to <see cref="Bootstrap"/> (or to the defaults), e.g. exported from a previous run
    /// with <see cref="Dht.ExportBootstrapAsync"/>. Default empty.</summary>
    public IList<EndPoint> ExtraBootstrap { get; set; } = [];

    /// <summary>UDP port 0..65535. Default null: try 6881 and fall back to an OS-chosen port, as the reference
    /// does, so that a node keeps its well-known port when it can; 0 always lets the OS choose.</summary>
    public int? Port { get; set; }

    /// <summary>Local IPv4 address to bind. Default 0.0.0.0 (every interface): this project speaks IPv4 only.</summary>
    public IPAddress BindAddress { get; set; } = IPAddress.Any;

    /// <summary>Timeout of every request. Default 2 s, the reference's: long enough for a round trip across the
    /// world, and it bounds how long a lookup waits for its slowest candidates.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Client, server or adaptive. Default <see cref="DhtMode.Adaptive"/>, the reference's: a node serves
    /// others only once it knows it is reachable.</summary>
    public DhtMode Mode { get; set; } = DhtMode.Adaptive;

    /// <summary>A known public IPv4 address; it only seeds a BEP 42 secure id at start. Default null: the id
    /// becomes secure once repliers have told us our address.</summary>
    public IPAddress? PublicIp { get; set; }

    /// <summary>Storage capacities and lifetimes of server mode. Default: the reference's capacities.</summary>
    public ServerSettings Server { get; set; } = new();

    /// <summary>A hook run on every parsed incoming query in server mode; false drops it without a reply.
    /// Default null: every query is answered (within the rate limit).</summary>
    public Func<IncomingRequest, bool>? RequestFilter { get; set; }

    /// <summary>Queries per second answered per source IP; 0 turns the limit off. Default 20, a libtorrent-like
    /// pace: a lookup sends one query to each node, so honest clients stay far below it.</summary>
    public double RateLimitPerIp { get; set; } = 20;

    /// <summary>Burst of queries per source IP, at least 1. Default 60: three seconds' worth at the default rate,
    /// enough for a client running several lookups at once.</summary>
    public double RateLimitBurst { get; set; } = 60;

    /// <summary>Queries per second answered per source /24 (all its addresses together), with a burst of three
    /// seconds' worth; 0 turns the limit off. Default 100: five busy clients behind one /24 (a campus, a carrier
    /// NAT) stay under it, while an attacker who spoofs every address of a /24 to dodge the per-IP limit gets
    /// no more than five IPs' worth.</summary>
    public double RateLimitPerSubnet { get; set; } = 100;

    /// <summary>Bytes per second of replies the node sends to all sources together (burst: one second's worth);
    /// 0 turns the budget off. A 1000-byte item makes a reply 13–17 times larger than the query asking for it,
    /// so with spoofed sources the node is a reflector; this caps what it reflects. Default 262144 (256 KiB/s,
    /// 2 Mbit/s): a public node answers tens of queries a second at a few hundred bytes each (tens of KiB/s),
    /// so a relay-grade server keeps a tenfold margin for honest load while an attacker gets at most 2 Mbit/s
    /// of it. libtorrent's equivalent (<c>dht_upload_rate_limit</c>) is 8000 B/s, sized for a home client.</summary>
    public int ReplyBytesPerSecond { get; set; } = 256 * 1024;

    /// <summary>Creates the node's logger (category <c>Mainline.Dht</c>). Default null: nothing is logged.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The clock of every timeout, expiry, token rotation and tick. Default <see cref="TimeProvider.System"/>;
    /// tests pass a fake clock to run time-driven behaviour without waiting.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Routing-table refresh period (find_node on our own id, then on a random id in each bucket that has not
    /// changed for this long; adaptive mode may switch then): 15 min as the reference and BEP 5. Internal: tests
    /// shorten it.</summary>
    internal TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Stale-node purge and ping period: 5 min as the reference. Internal: tests shorten it.</summary>
    internal TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>BEP 5 bucket refresh: after a self-lookup and at every refresh tick, a find_node on a random id in
    /// every bucket that is not full and has not changed for <see cref="RefreshInterval"/> (NodeCore.Refresh.cs).
    /// Internal: on by default; tests and the simulator turn it off to measure the reference's behaviour.</summary>
    internal bool BucketRefresh { get; set; } = true;

    /// <summary>Ping the sender of an incoming query (not read-only) whose bucket has room, and add it once it
    /// answers (rate limited, NodeCore.Server.cs). Internal: tests and the simulator switch it.</summary>
    internal bool ProbeQuerySenders { get; set; } = true;

    /// <summary>Queries one lookup keeps in flight (Kademlia's α), not counting those already past their adaptive
    /// timeout; 0: no bound, the reference's (every unvisited node among the 20 closest at once). Default 16: far
    /// fewer queries per lookup than no bound for a first value about as early, and more slots than the ids an
    /// attacker cheaply grinds next to a key, so such nodes cannot fill a get's first round (docs/simulation.md,
    /// "Lookup tuning"). Internal.</summary>
    internal int LookupParallelism { get; set; } = DefaultLookupParallelism;

    /// <summary>The default of <see cref="LookupParallelism"/>.</summary>
    internal const int DefaultLookupParallelism = 16;

    /// <summary>A lookup stops waiting for a query once it is later than the round trips seen so far predict
    /// (NodeCore.Rtt.cs); its reply still counts until <see cref="RequestTimeout"/>. False: every query holds the
    /// lookup until it is answered or times out, the reference's. Internal: the simulator switches it.</summary>
    internal bool AdaptiveTimeouts { get; set; } = true;

    /// <summary>When a lookup has more unvisited close nodes than free query slots, it gives the slots to the
    /// nodes with the shortest known round trip among those equally close to the target (NodeCore.Lookups.cs).
    /// False: closest first, the reference's. Internal: the simulator switches it.</summary>
    internal bool PreferFastNodes { get; set; } = true;

    /// <summary>A BEP 44 get that has no value once its 20 closest nodes answered goes on to the next 20
    /// (NodeCore.Lookups.cs, Width): ground ids next to a target cannot end it with tokens and no value. Internal: the
    /// simulator switches it.</summary>
    internal bool WidenValuelessGets { get; set; } = true;
}
