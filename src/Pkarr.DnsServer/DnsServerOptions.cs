// The DNS server's settings (spec pkarr.md §9.2: pkdns's keys, plus ours), one class per TOML section. The TOML file
// and the command line both end here (Configuration/DnsConfiguration.cs); DnsServer reads nothing else. Defaults are
// pkdns's where it has the setting, except where a property documents ours.

using System.Net;
using Microsoft.Extensions.Logging;

namespace Pkarr.DnsServer;

/// <summary>Everything a <see cref="DnsServer"/> is built from.</summary>
public sealed class DnsServerOptions
{
    /// <summary>Listeners and upstreams (<c>[general]</c>).</summary>
    public GeneralSettings General { get; set; } = new();

    /// <summary>Answers, TTLs, query limits and the forwarded-answer cache (<c>[dns]</c>).</summary>
    public DnsSettings Dns { get; set; } = new();

    /// <summary>Pkarr names, packet lookups and their cache (<c>[dht]</c>).</summary>
    public DhtSettings Dht { get; set; } = new();

    /// <summary>Runs an in-process 10-node DHT on 127.0.0.1 and resolves from it instead of the public DHT (no relays).</summary>
    public bool Testnet { get; set; }

    /// <summary>The clock of caches, TTLs, timeouts and rate limits. Default: the system's.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the server logs; null logs nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}

/// <summary><c>[general]</c>: where the server listens and where it forwards.</summary>
public sealed class GeneralSettings
{
    /// <summary>The standard DNS port.</summary>
    public const int DefaultPort = 53;

    /// <summary>UDP and TCP listener (<c>socket</c>); port 0 lets the OS choose one port for both (tests).
    /// Default 0.0.0.0:53.</summary>
    public IPEndPoint Listen { get; set; } = new(IPAddress.Any, DefaultPort);

    /// <summary>Upstream resolvers for every name that is not a Pkarr name (<c>forward</c>, one or a list), tried in
    /// order. Empty: such names are REFUSED. Default 8.8.8.8:53 as pkdns, then 1.1.1.1:53.</summary>
    public IList<IPEndPoint> Forward { get; set; } = [new(IPAddress.Parse("8.8.8.8"), 53), new(IPAddress.Parse("1.1.1.1"), 53)];

    /// <summary>The DNS-over-HTTPS listener (<c>dns_over_http_socket</c>), also serving <c>/metrics</c>; null: none.</summary>
    public IPEndPoint? DohListen { get; set; }

    /// <summary>PEM certificate (chain) for TLS on the DoH listener (ours, <c>tls_certificate</c>); null: plain HTTP,
    /// for a reverse proxy in front.</summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificatePath"/> (ours, <c>tls_key</c>).</summary>
    public string? TlsKeyPath { get; set; }

    /// <summary>Trust <c>X-Forwarded-For</c>/<c>Forwarded</c> on DoH requests for the client address (ours,
    /// <c>behind_proxy</c>); only behind a reverse proxy that sets them. Default false: the peer address.</summary>
    public bool BehindProxy { get; set; }

    /// <summary>Debug logs (<c>verbose</c>).</summary>
    public bool Verbose { get; set; }
}

/// <summary>What ANY queries get (RFC 8482).</summary>
public enum AnyQueryMode
{
    /// <summary>One RRset of the name (RFC 8482 §4.1). Default.</summary>
    Minimal,

    /// <summary>A synthesized <c>HINFO "RFC8482" ""</c> (RFC 8482 §4.2).</summary>
    Hinfo,

    /// <summary>REFUSED (pkdns <c>disable_any_queries = true</c>, on every transport).</summary>
    Refused,
}

/// <summary><c>[dns]</c>: answers and queries.</summary>
public sealed class DnsSettings
{
    /// <summary>Lower bound of answer TTLs and of cache lifetimes, seconds (<c>min_ttl</c>). Default 60.</summary>
    public uint MinTtl { get; set; } = 60;

    /// <summary>Upper bound of answer TTLs and of cache lifetimes, seconds (<c>max_ttl</c>). Default 86400.</summary>
    public uint MaxTtl { get; set; } = 86400;

    /// <summary>TTL of negative Pkarr answers: the synthesized SOA's TTL and MINIMUM, seconds (ours,
    /// <c>negative_ttl</c>). Default 60.</summary>
    public uint NegativeTtl { get; set; } = 60;

    /// <summary>Seconds past its TTL a Pkarr packet is still served while lookups of its key fail (ours,
    /// <c>serve_stale_ttl</c>; RFC 8767). Past that, queries get SERVFAIL until a lookup sees the packet again; 0: a
    /// stale packet is never served. Default 259200 (3 days).</summary>
    public uint ServeStaleTtl { get; set; } = 3 * 86400;

    /// <summary>Queries per second per client address (<c>query_rate_limit</c>; IPv6 keyed by /64); 0: no limit.
    /// Default 100.</summary>
    public int QueryRateLimit { get; set; } = 100;

    /// <summary>Burst of <see cref="QueryRateLimit"/> (<c>query_rate_limit_burst</c>). Default 200.</summary>
    public int QueryRateLimitBurst { get; set; } = 200;

    /// <summary>How ANY queries are answered (ours, <c>any_queries</c> = "minimal" | "hinfo" | "refused");
    /// <c>disable_any_queries = true</c> means <see cref="AnyQueryMode.Refused"/>.</summary>
    public AnyQueryMode AnyQueries { get; set; } = AnyQueryMode.Minimal;

    /// <summary>Size of the forwarded-answer cache, MiB (<c>icann_cache_mb</c>); 0: no cache. Default 100.</summary>
    public int IcannCacheMb { get; set; } = 100;

    /// <summary>Most CNAME steps followed for one query, across keys and to ICANN names (<c>max_recursion_depth</c>).
    /// Default 15.</summary>
    public int MaxRecursionDepth { get; set; } = 15;

    /// <summary>Whether a referral in a packet may be followed to name servers at internal addresses: loopback,
    /// RFC 1918, shared, link-local, unique-local and site-local (ours, <c>delegate_to_private_addresses</c>). Off by
    /// default: anyone can publish glue, and following it inwards would let any client query the DNS servers of the
    /// networks behind this one. Turn it on for a LAN whose packets delegate to its own servers.</summary>
    public bool DelegateToPrivateAddresses { get; set; }

    /// <summary>How long one upstream query waits before the next upstream or SERVFAIL (ours,
    /// <c>forward_timeout_ms</c>). Default 2000 ms.</summary>
    public TimeSpan ForwardTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest UDP response the server sends, bytes (ours, <c>max_udp_payload</c>; RFC 6891, DNS flag day
    /// 2020: 1232). Smaller when the client advertises less; 512 without EDNS.</summary>
    public int MaxUdpPayload { get; set; } = 1232;

    /// <summary>Open TCP connections at most (ours, <c>max_tcp_connections</c>). Default 1000.</summary>
    public int MaxTcpConnections { get; set; } = 1000;

    /// <summary>Open TCP connections per client address at most (ours, <c>max_tcp_connections_per_ip</c>). Default 32.</summary>
    public int MaxTcpConnectionsPerIp { get; set; } = 32;

    /// <summary>A TCP connection with no query for this long is closed (ours, <c>tcp_idle_timeout_ms</c>; RFC 7766
    /// §6.2.3). Default 10 s.</summary>
    public TimeSpan TcpIdleTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary><c>[dht]</c>: Pkarr names and their packets.</summary>
public sealed class DhtSettings
{
    /// <summary>Size of the packet cache, MiB (<c>dht_cache_mb</c>, at least 1). Default 100.</summary>
    public int DhtCacheMb { get; set; } = 100;

    /// <summary>Network lookups per second per client address (<c>dht_query_rate_limit</c>); 0: no limit. Only a
    /// lookup with no cached packet to serve is REFUSED; a stale packet is served and refreshed later. Default 5.</summary>
    public int DhtQueryRateLimit { get; set; } = 5;

    /// <summary>Burst of <see cref="DhtQueryRateLimit"/> (<c>dht_query_rate_limit_burst</c>; pkdns ignores it, we
    /// apply it). Default 25.</summary>
    public int DhtQueryRateLimitBurst { get; set; } = 25;

    /// <summary>Extra TLD after the key (<c>top_level_domain</c>, case-insensitive); empty or null: none. Default "key".</summary>
    public string? TopLevelDomain { get; set; } = "key";

    /// <summary>Domains under which <c>&lt;key&gt;.&lt;origin&gt;</c> is a Pkarr name (ours, <c>origins</c>).</summary>
    public IList<string> Origins { get; set; } = [];

    /// <summary>A valid key followed by any other labels (a search-domain suffix, <c>&lt;key&gt;.isp.example</c>) is a
    /// Pkarr name (ours, <c>match_search_suffixes</c>). Default true.</summary>
    public bool MatchSearchSuffixes { get; set; } = true;

    /// <summary>How long a query waits for a lookup of a key with no cached packet before SERVFAIL (ours,
    /// <c>lookup_timeout_ms</c>); the lookup goes on in the background. Default 4 s.</summary>
    public TimeSpan LookupTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Use the Mainline DHT (ours, <c>use_dht</c>; <c>--no-dht</c>). Default true.</summary>
    public bool UseDht { get; set; } = true;

    /// <summary>DHT bootstrap nodes as host:port (ours, <c>bootstrap</c>); host names resolve through the upstreams,
    /// never through this server. Null: Mainline's defaults.</summary>
    public IList<string>? Bootstrap { get; set; }

    /// <summary>Use pkarr relays (ours, <c>use_relays</c>; <c>--no-relays</c>). Default true.</summary>
    public bool UseRelays { get; set; } = true;

    /// <summary>Relay base URLs (ours, <c>relays</c>); null: the client's default relays.</summary>
    public IList<Uri>? Relays { get; set; }
}
