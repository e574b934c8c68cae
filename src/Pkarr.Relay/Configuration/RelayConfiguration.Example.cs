// The example configuration file: every key with its default and what it does. `pkarr relay` users copy it; a test
// loads it and checks that it yields exactly the built-in defaults, so it cannot drift from them.

namespace Pkarr.Relay.Configuration;

public static partial class RelayConfiguration
{
    /// <summary>A commented configuration file with every key at its default value (keys without a value by default
    /// are commented out). Loaded as it is, it gives the same options as no file at all.</summary>
    public static string ExampleToml { get; } = """
        # Pkarr relay configuration (TOML). Every key is shown at its default; a key left out keeps its default.
        # Unknown sections and keys are errors, so a typo stops the relay instead of being ignored.
        # Relative paths are relative to this file's directory.
        #
        # Environment variables override any key, named PKARR_RELAY__<SECTION>__<KEY> (any case), e.g.
        #   PKARR_RELAY__HTTP__PORT=8080
        #   PKARR_RELAY__RATE_LIMITER__QUOTA=10r/s
        #   PKARR_RELAY__MAINLINE__BOOTSTRAP__0=127.0.0.1:6881   (lists: one variable per entry, from 0;
        #                                                         they replace the file's list whole)
        # Relative paths in variables are relative to the relay's working directory.

        [http]
        # TCP port of the HTTP API; 0 lets the OS choose.
        port = 6881
        # IPv4 address the HTTP API listens on; "0.0.0.0" is every interface.
        bind = "0.0.0.0"

        [mainline]
        # UDP port of the relay's own DHT node, which also serves other DHT nodes. Unset: 6881, or a port the OS
        # chooses when 6881 is taken. 0: always a port the OS chooses.
        # port = 6881
        # IPv4 address of the DHT node.
        bind = "0.0.0.0"
        # Nodes to join the DHT through, as "host:port". Unset: the public Mainline bootstrap routers.
        # bootstrap = ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881"]

        [cache]
        # Where packets are stored: "sqlite" (one file, for a single relay) or "redis" (a server shared by a fleet of
        # relays behind a load balancer).
        backend = "sqlite"
        # Directory of the SQLite store (it lives in <path>/pkarr-cache); it must exist. Unset: a temporary
        # directory, deleted at shutdown (an ephemeral relay).
        # path = "./cache"
        # Packets held at most; the least recently used go first. 0 stores nothing.
        size = 1_000_000
        # Packets kept in memory in front of the SQLite file, so that hits do not read the disk. 0: none.
        hot_size = 100_000
        # Bounds in seconds on the TTL used for cache freshness and Cache-Control: max-age. minimum_ttl must not be
        # greater than maximum_ttl.
        minimum_ttl = 300
        maximum_ttl = 86400
        # The Redis server of the redis backend (required with it): "host:port[,password=…]" or "redis://host:port".
        # redis_url = "127.0.0.1:6379"
        # Prefix of every Redis key, so several fleets can share one server.
        redis_prefix = "pkarr:"

        # Three rate limits per client IP, each a quota "<N>r/<unit>" (unit s, m, h or d) and a burst (requests
        # allowed at once; default: the quota's N). In a file, leaving this whole section out turns rate limiting
        # off; once the section is there, behind_proxy, quota, dht_quota and user_dht_quota are required.
        # These are the limits of a relay started without any file.
        [rate_limiter]
        # Take the client IP from X-Forwarded-For, X-Real-IP or Forwarded. Only behind a trusted proxy: clients can
        # write these headers themselves.
        behind_proxy = false
        # Every HTTP request.
        quota = "2r/s"
        burst = 2
        # Queries from other DHT nodes to the relay's DHT node, per peer IP (excess is dropped).
        dht_quota = "2r/s"
        dht_burst = 2
        # Requests that make the relay query the DHT: PUTs, cache misses, NetworkOnly GETs.
        user_dht_quota = "2r/s"
        user_dht_burst = 2

        [republisher]
        # Keep the packets the relay holds alive on the DHT by putting them again.
        enabled = true
        # The most recently requested or published keys kept alive; older ones are dropped from the set first.
        max_keys = 10_000
        # Seconds between two puts of a key (DHT nodes may drop an item two hours after its last put).
        interval = 3600
        # Republishes in flight at once, which bounds the relay's DHT work.
        concurrency = 8

        [web]
        # The web app at / (resolve and publish from a browser; the status page moves to /status). false: the status
        # page at /.
        enabled = true
        # A folder of static files served at / instead of the built-in web app (its index.html is the page); it must
        # exist.
        # root = "./wwwroot"

        """;
}
