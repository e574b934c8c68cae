// The example configuration file (deploy/pkarr-dns.toml is this text): every key with its default and what it does.
// A test loads it and checks that it yields exactly the built-in defaults, so it cannot drift from them.

namespace Pkarr.DnsServer.Configuration;

public static partial class DnsConfiguration
{
    /// <summary>A commented configuration file with every key at its default value (keys without a value by default
    /// are commented out). Loaded as it is, it gives the same options as no file at all.</summary>
    public static string Example { get; } = """
        # Pkarr DNS server configuration (TOML), for `pkarr dns --config FILE`. Every key is shown at its default; a
        # key left out keeps its default. pkdns's config.toml / pkdns.toml load as they are (its keys are a subset of
        # these), but unknown sections and keys are errors here, so a typo stops the server instead of being ignored.
        # Relative paths are relative to this file's directory. Command-line flags override this file.

        [general]
        # UDP and TCP listener, "IP:PORT" (IPv6 as "[::]:53"); port 0 lets the OS choose. Port 53 needs root or the
        # CAP_NET_BIND_SERVICE capability.
        socket = "0.0.0.0:53"
        # Upstream resolvers for every name that is not a Pkarr name, tried in order: one "IP:PORT" or a list
        # (a port left out is 53; IPv6 as "[2001:db8::1]:53"). An empty list [] answers such names REFUSED.
        forward = ["8.8.8.8:53", "1.1.1.1:53"]
        # DNS-over-HTTPS listener (GET and POST /dns-query, and /metrics for Prometheus). Unset: none.
        # dns_over_http_socket = "127.0.0.1:3000"
        # TLS for the DoH listener: a PEM certificate chain and its PEM private key, both or neither. Unset: plain
        # HTTP, for a TLS reverse proxy in front.
        # tls_certificate = "cert.pem"
        # tls_key = "key.pem"
        # Take DoH clients' addresses from X-Forwarded-For / Forwarded (for rate limits). Only behind a reverse proxy
        # that sets them: clients can write these headers themselves.
        behind_proxy = false
        # Debug logs.
        verbose = false

        [dns]
        # Bounds of answer TTLs and of cache lifetimes, seconds; min_ttl must not be greater than max_ttl.
        min_ttl = 60
        max_ttl = 86400
        # TTL of negative answers for Pkarr names (NXDOMAIN, no data): the SOA's TTL and MINIMUM, seconds.
        negative_ttl = 60
        # How long past its TTL a Pkarr packet is still served while lookups of its key fail, seconds (RFC 8767
        # serve-stale). Past that, queries get SERVFAIL until a lookup sees the packet again. 0: never serve stale.
        serve_stale_ttl = 259200
        # Queries per second per client address (IPv6 by /64), and the burst allowed at once; excess gets REFUSED.
        # 0: no limit.
        query_rate_limit = 100
        query_rate_limit_burst = 200
        # ANY queries (RFC 8482): "minimal" (one RRset of the name), "hinfo" (a synthesized HINFO) or "refused".
        # pkdns's disable_any_queries = true means "refused"; give one of the two keys, or both agreeing.
        any_queries = "minimal"
        disable_any_queries = false
        # Cache of forwarded answers, MiB; 0: none.
        icann_cache_mb = 100
        # CNAME steps followed for one query, across keys and to ICANN names: 1 to 255.
        max_recursion_depth = 15
        # Follow a packet's delegation (sub NS + glue) to name servers at loopback, private, link-local or unique-local
        # addresses. Off: anyone can publish glue, and following it inwards would let any client query the networks
        # behind this server. Turn it on only for a LAN whose packets delegate to its own servers.
        delegate_to_private_addresses = false
        # How long one upstream gets before the next one, or SERVFAIL, milliseconds (1 to 60000).
        forward_timeout_ms = 2000
        # Largest UDP response, bytes (512 to 4096; 1232 avoids IP fragmentation, DNS flag day 2020). Smaller when
        # the client advertises less; 512 to clients without EDNS. Larger answers are truncated (TC) for TCP.
        max_udp_payload = 1232
        # Open DNS-over-TCP connections, in all and per client address.
        max_tcp_connections = 1000
        max_tcp_connections_per_ip = 32
        # A TCP connection with no query for this long is closed, milliseconds (RFC 7766).
        tcp_idle_timeout_ms = 10000

        [dht]
        # Cache of Pkarr packets, MiB (at least 1).
        dht_cache_mb = 100
        # Packet lookups on the network per second per client address, and the burst; 0: no limit. Only a lookup
        # with no cached packet to serve is REFUSED; a stale packet is served and refreshed in the background.
        dht_query_rate_limit = 5
        dht_query_rate_limit_burst = 25
        # An extra top-level label after the key: <key>.key. "" for none (<key> alone always works).
        top_level_domain = "key"
        # Domains under which <key>.<origin> is a Pkarr name, e.g. ["pkarr.example.net"].
        origins = []
        # A key followed by other labels (a resolver's search domain: <key>.home.lan) is a Pkarr name.
        match_search_suffixes = true
        # How long a query waits for the lookup of a key with no cached packet before SERVFAIL, milliseconds (1 to
        # 60000); the lookup goes on in the background.
        lookup_timeout_ms = 4000
        # Look packets up on the Mainline DHT, and through pkarr relays; at least one of the two.
        use_dht = true
        use_relays = true
        # DHT bootstrap nodes, "host:port"; host names are resolved through the forward upstreams, never through
        # this server. Unset: the public Mainline bootstrap nodes.
        # bootstrap = ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881"]
        # Relay base URLs (http or https). Unset: the client's default public relays.
        # relays = ["https://relay.pkarr.org"]

        """;
}
