// Settings of the upstream forwarder (shared spec pkarr.md §9.1 "ICANN forwarding", §9.5 "Forwarded-answer cache").

using System.Net;

namespace Pkarr.DnsServer.Forwarding;

/// <summary>Where and how <see cref="UpstreamForwarder"/> asks, and how long it keeps answers.</summary>
internal sealed class ForwarderOptions
{
    /// <summary>The upstream resolvers, tried in order (one that keeps timing out is tried last). Default: none.
    /// IPv4 and IPv6 addresses both work; TCP retries go to the same address and port.</summary>
    public IReadOnlyList<IPEndPoint> Upstreams { get; init; } = [];

    /// <summary>How long one upstream attempt may take: the UDP exchange, and again the TCP retry of a truncated
    /// reply. Default 2 s: a healthy resolver answers a cold name well within it, and a second upstream can still
    /// answer before a stub resolver's usual 5-s timeout gives up.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Bound of the response cache in bytes, weighted by each response's wire size; 0 turns the cache off.
    /// Default 100 MiB, pkdns's <c>icann_cache_mb</c>.</summary>
    public long CacheBytes { get; init; } = 100L << 20;

    /// <summary>Shortest time a positive answer is cached, in seconds (its TTLs still count down to 0). Default 60,
    /// pkdns's <c>min_ttl</c>.</summary>
    public uint MinTtl { get; init; } = 60;

    /// <summary>Longest time any answer is cached, in seconds. Default 86400 (one day), pkdns's <c>max_ttl</c>.</summary>
    public uint MaxTtl { get; init; } = 86400;
}
