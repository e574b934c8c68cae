// The relay's settings (shared spec pkarr.md §6.7), one class per TOML section. The TOML file, environment variables
// and the command line all end here (Configuration/RelayConfiguration.cs); RelayServer reads nothing else. Defaults
// are the reference's, except where a section documents ours.

using System.Net;
using Microsoft.Extensions.Logging;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay;

/// <summary>Everything a <see cref="RelayServer"/> is built from.</summary>
public sealed class RelayOptions
{
    /// <summary>The HTTP listener (<c>[http]</c>).</summary>
    public HttpSettings Http { get; set; } = new();

    /// <summary>The relay's own DHT node (<c>[mainline]</c>).</summary>
    public MainlineSettings Mainline { get; set; } = new();

    /// <summary>The packet store and the TTL bounds (<c>[cache]</c>).</summary>
    public CacheSettings Cache { get; set; } = new();

    /// <summary>The three rate limits (<c>[rate_limiter]</c>); null turns rate limiting off.</summary>
    public RateLimiterSettings? RateLimiter { get; set; } = RateLimiterSettings.Default;

    /// <summary>Keeping held packets alive on the DHT (<c>[republisher]</c>, ours).</summary>
    public RepublisherSettings Republisher { get; set; } = new();

    /// <summary>The static web app served at <c>/</c> (<c>[web]</c>, ours).</summary>
    public WebSettings Web { get; set; } = new();

    /// <summary>Runs an in-process 10-node DHT on 127.0.0.1 and joins it instead of the public DHT (<c>--testnet</c>).</summary>
    public bool Testnet { get; set; }

    /// <summary>The clock of the store, TTLs, rate limits and the DHT node. Default: the system's.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The clock of the rate limits alone, when it must differ from <see cref="TimeProvider"/> (tests move it
    /// while the DHT and the store keep real time); null uses <see cref="TimeProvider"/>.</summary>
    internal TimeProvider? RateLimitClock { get; set; }

    /// <summary>Where the relay logs; null logs nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The settings <c>pkarr relay --testnet</c> uses: HTTP on 127.0.0.1:15411, an in-process testnet,
    /// no rate limits, an ephemeral store.</summary>
    public static RelayOptions ForTestnet() => new()
    {
        Testnet = true,
        Http = new HttpSettings { Port = HttpSettings.TestnetPort, BindAddress = IPAddress.Loopback },
        Mainline = new MainlineSettings { BindAddress = IPAddress.Loopback, Port = 0 },
        RateLimiter = null,
    };
}

/// <summary><c>[http]</c>: where the HTTP API listens.</summary>
public sealed class HttpSettings
{
    /// <summary>The reference's default TCP port.</summary>
    public const int DefaultPort = 6881;

    /// <summary>The HTTP port of <c>--testnet</c>.</summary>
    public const int TestnetPort = 15411;

    /// <summary>TCP port; 0 lets the OS choose (tests). Default 6881.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>The address bound. Default 0.0.0.0 (every IPv4 interface), as the reference.</summary>
    public IPAddress BindAddress { get; set; } = IPAddress.Any;
}

/// <summary><c>[mainline]</c>: the relay's DHT node, which also serves other nodes (server mode).</summary>
public sealed class MainlineSettings
{
    /// <summary>UDP port; null tries 6881; a port that is taken falls back to one the OS chooses; 0 always lets the
    /// OS choose.</summary>
    public int? Port { get; set; }

    /// <summary>The address bound. Default 0.0.0.0.</summary>
    public IPAddress BindAddress { get; set; } = IPAddress.Any;

    /// <summary>Bootstrap nodes as <c>host:port</c>; null means the Mainline defaults (public routers).</summary>
    public IList<string>? Bootstrap { get; set; }
}

/// <summary>The store backends.</summary>
public enum StoreBackend
{
    /// <summary>One SQLite file (WAL) with an in-memory hot layer: a single relay.</summary>
    Sqlite,

    /// <summary>A Redis server shared by a fleet of relays behind a load balancer.</summary>
    Redis,
}

/// <summary><c>[cache]</c>: the durable packet store and the TTL bounds.</summary>
public sealed class CacheSettings
{
    /// <summary>The reference's capacity.</summary>
    public const int DefaultSize = 1_000_000;

    /// <summary><c>backend</c>: sqlite (default) or redis.</summary>
    public StoreBackend Backend { get; set; } = StoreBackend.Sqlite;

    /// <summary><c>path</c>: the directory of the SQLite store (<c>&lt;path&gt;/pkarr-cache</c>); null is a fresh temporary
    /// directory, deleted at shutdown (an ephemeral relay).</summary>
    public string? Path { get; set; }

    /// <summary><c>size</c>: packets held at most; the least recently used go first. 0 stores nothing.</summary>
    public int Size { get; set; } = DefaultSize;

    /// <summary><c>minimum_ttl</c> in seconds.</summary>
    public uint MinimumTtl { get; set; } = 300;

    /// <summary><c>maximum_ttl</c> in seconds.</summary>
    public uint MaximumTtl { get; set; } = 86400;

    /// <summary><c>hot_size</c>: packets kept in memory in front of the SQLite file, so that hits do not read the
    /// disk. Default 100,000 (at most ~110 MB of packets); 0 turns the hot layer off.</summary>
    public int HotSize { get; set; } = 100_000;

    /// <summary><c>redis_url</c>: the Redis server of the redis backend, as a StackExchange.Redis configuration string
    /// (<c>host:port,password=…</c>) or a <c>redis://</c> URL.</summary>
    public string? RedisUrl { get; set; }

    /// <summary><c>redis_prefix</c>: the prefix of every Redis key, so several fleets can share one server.</summary>
    public string RedisPrefix { get; set; } = "pkarr:";
}

/// <summary><c>[rate_limiter]</c>: three token buckets per client IP (spec §6.5).</summary>
public sealed class RateLimiterSettings
{
    /// <summary>The limits of a relay started without a config file: 2r/s with burst 2 for all three.</summary>
    public static RateLimiterSettings Default => new()
    {
        Quota = new Quota(2, QuotaUnit.Second),
        Burst = 2,
        DhtQuota = new Quota(2, QuotaUnit.Second),
        DhtBurst = 2,
        UserDhtQuota = new Quota(2, QuotaUnit.Second),
        UserDhtBurst = 2,
    };

    /// <summary><c>behind_proxy</c>: take the client IP from X-Forwarded-For, X-Real-IP or Forwarded. Only behind a
    /// trusted proxy: clients can write these headers.</summary>
    public bool BehindProxy { get; set; }

    /// <summary><c>quota</c>: every HTTP request.</summary>
    public Quota Quota { get; set; } = new(2, QuotaUnit.Second);

    /// <summary><c>burst</c>; null means the quota's count.</summary>
    public int? Burst { get; set; }

    /// <summary><c>dht_quota</c>: incoming DHT queries from other nodes, per peer IP (excess is dropped).</summary>
    public Quota DhtQuota { get; set; } = new(2, QuotaUnit.Second);

    /// <summary><c>dht_burst</c>; null means the quota's count.</summary>
    public int? DhtBurst { get; set; }

    /// <summary><c>user_dht_quota</c>: requests that make the relay query the DHT (PUTs, cache misses, NetworkOnly).</summary>
    public Quota UserDhtQuota { get; set; } = new(2, QuotaUnit.Second);

    /// <summary><c>user_dht_burst</c>; null means the quota's count.</summary>
    public int? UserDhtBurst { get; set; }
}

/// <summary><c>[republisher]</c>: keeps the packets the relay holds alive on the DHT.</summary>
public sealed class RepublisherSettings
{
    /// <summary><c>enabled</c>. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary><c>max_keys</c>: the most recently requested or published keys kept alive; older ones are dropped
    /// from the set first. Default 10,000.</summary>
    public int MaxKeys { get; set; } = 10_000;

    /// <summary><c>interval</c>: how often each key is put again, in seconds. Default 3600 (BEP 44 nodes may drop
    /// an item two hours after its last put).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary><c>concurrency</c>: republishes in flight at once, which bounds the DHT work. Default 8.</summary>
    public int Concurrency { get; set; } = 8;
}

/// <summary><c>[web]</c>: the web app at <c>/</c>, which resolves and publishes from the browser.</summary>
public sealed class WebSettings
{
    /// <summary><c>enabled</c>: serve a web app at <c>/</c> and the status page at <c>/status</c>. False serves the
    /// status page at <c>/</c>. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary><c>root</c>: a folder of static files served at <c>/</c> instead of the built-in web app (its
    /// <c>index.html</c> is the page). Null serves the built-in one.</summary>
    public string? Root { get; set; }
}
