// The DNS server's instruments (System.Diagnostics.Metrics, meter "Pkarr.DnsServer"), exported at /metrics on the
// DoH listener in the Prometheus text format, as the relay's. Every part of the server counts through this one class,
// so names, units and tag values stay consistent.

using System.Diagnostics.Metrics;
using Pkarr.DnsServer.Query;

namespace Pkarr.DnsServer.Metrics;

internal sealed class DnsMetrics : IDisposable
{
    public const string MeterName = "Pkarr.DnsServer";

    private readonly Meter _meter = new(MeterName, typeof(DnsMetrics).Assembly.GetName().Version?.ToString());
    private readonly Counter<long> _queries;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _lookups;
    private readonly Counter<long> _packetCache;
    private readonly Counter<long> _forwardCache;
    private readonly Counter<long> _upstream;
    private readonly Counter<long> _dropped;
    private readonly Histogram<double> _duration;

    public DnsMetrics()
    {
        _queries = _meter.CreateCounter<long>("pkarr.dns.queries", "{query}",
            "Queries answered, by transport (udp, tcp, https), kind (pkarr, forwarded, invalid) and rcode");
        _duration = _meter.CreateHistogram<double>("pkarr.dns.query.duration", "s",
            "Time from a query's arrival to its response, by transport and kind");
        _rateLimited = _meter.CreateCounter<long>("pkarr.dns.rate_limited", "{query}",
            "Queries refused by a rate limit (limit=query, lookup)");
        _lookups = _meter.CreateCounter<long>("pkarr.dns.lookups", "{lookup}",
            "Network lookups of keys, by outcome (found, not_found, failed, timeout)");
        _packetCache = _meter.CreateCounter<long>("pkarr.dns.packet_cache", "{lookup}",
            "Packet requests by result (fresh, stale, miss)");
        _forwardCache = _meter.CreateCounter<long>("pkarr.dns.forward_cache", "{lookup}",
            "Forwarded questions by cache result (hit, miss)");
        _upstream = _meter.CreateCounter<long>("pkarr.dns.upstream", "{query}",
            "Upstream queries by outcome (answered, timeout, truncated, mismatched, failed)");
        _dropped = _meter.CreateCounter<long>("pkarr.dns.dropped", "{message}",
            "Messages received and not answered, by reason (short, response, tcp_limit)");
    }

    /// <summary>This instance's meter: every instance has its own, so a listener can tell servers apart.</summary>
    internal Meter Meter => _meter;

    /// <summary>A query was answered.</summary>
    public void Query(DnsTransport transport, string kind, int rcode, TimeSpan elapsed)
    {
        var transportTag = new KeyValuePair<string, object?>("transport", TransportName(transport));
        var kindTag = new KeyValuePair<string, object?>("kind", kind);
        _queries.Add(1, transportTag, kindTag, new KeyValuePair<string, object?>("rcode", RcodeName(rcode)));
        _duration.Record(elapsed.TotalSeconds, transportTag, kindTag);
    }

    /// <summary>A query was refused by a limit: "query" or "lookup".</summary>
    public void RateLimited(string limit) => _rateLimited.Add(1, new KeyValuePair<string, object?>("limit", limit));

    /// <summary>A network lookup ended: "found", "not_found", "failed" or "timeout".</summary>
    public void Lookup(string outcome) => _lookups.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A packet was asked for: "fresh", "stale" or "miss".</summary>
    public void PacketCache(string result) => _packetCache.Add(1, new KeyValuePair<string, object?>("result", result));

    /// <summary>A forwarded question was looked up in the cache: "hit" or "miss".</summary>
    public void ForwardCache(string result) => _forwardCache.Add(1, new KeyValuePair<string, object?>("result", result));

    /// <summary>An upstream query ended: "answered", "timeout", "truncated", "mismatched" or "failed".</summary>
    public void Upstream(string outcome) => _upstream.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A message was not answered: "short", "response", "tcp_limit", ...</summary>
    public void Dropped(string reason) => _dropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();

    private static string TransportName(DnsTransport transport) => transport switch
    {
        DnsTransport.Udp => "udp",
        DnsTransport.Tcp => "tcp",
        _ => "https",
    };

    private static string RcodeName(int rcode) => rcode switch
    {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        16 => "BADVERS",
        _ => rcode.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
