// The DNS server's instruments (System.Diagnostics.Metrics, meter "Pkarr.DnsServer"), exported at /metrics on the
// DoH listener in the Prometheus text format, as the relay's. Every part of the server counts through this one class,
// so names, units and tag values stay consistent. The counts that every query makes (queries, packet and forward cache
// results) are kept in StripedCounts and reported by observable counters; the rest are ordinary instruments.

using System.Diagnostics.Metrics;
using Pkarr.DnsServer.Query;

namespace Pkarr.DnsServer.Metrics;

/// <summary>What <see cref="DnsMetrics.PacketCache"/> counts: how the packet source answered.</summary>
internal enum PacketCacheResult : byte
{
    /// <summary>A packet or "not found" within its freshness.</summary>
    Fresh,

    /// <summary>A packet past its freshness, served while a refresh runs.</summary>
    Stale,

    /// <summary>Nothing usable held: a lookup, or a failure still backing off.</summary>
    Miss,
}

internal sealed class DnsMetrics : IDisposable
{
    public const string MeterName = "Pkarr.DnsServer";

    private static readonly string[] Transports = ["udp", "tcp", "https"];
    private static readonly string[] Kinds = ["pkarr", "forwarded", "invalid", "refused", "formerr", "notimp", "error"];
    private static readonly string[] PacketCacheResults = ["fresh", "stale", "miss"];
    private static readonly string[] ForwardCacheResults = ["hit", "miss"];

    // RCODEs 0–16 (16 is BADVERS, the largest the server sends: upstream answers carry their 4-bit RCODE) and "other".
    private const int Rcodes = 18;

    private readonly Meter _meter = new(MeterName, typeof(DnsMetrics).Assembly.GetName().Version?.ToString());
    private readonly StripedCounts _queries = new(Transports.Length * Kinds.Length * Rcodes);
    private readonly StripedCounts _packetCache = new(PacketCacheResults.Length);
    private readonly StripedCounts _forwardCache = new(ForwardCacheResults.Length);
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _lookups;
    private readonly Counter<long> _upstream;
    private readonly Counter<long> _dropped;
    private readonly Histogram<double> _duration;

    public DnsMetrics()
    {
        _meter.CreateObservableCounter("pkarr.dns.queries", ObserveQueries, "{query}",
            "Queries answered, by transport (udp, tcp, https), kind (pkarr, forwarded, invalid, refused, formerr, notimp, "
            + "error) and rcode");
        _duration = _meter.CreateHistogram<double>("pkarr.dns.query.duration", "s",
            "Time from a query's arrival to its response, by transport and kind");
        _rateLimited = _meter.CreateCounter<long>("pkarr.dns.rate_limited", "{query}",
            "Queries refused by a rate limit (limit=query, lookup)");
        _lookups = _meter.CreateCounter<long>("pkarr.dns.lookups", "{lookup}",
            "Network lookups of keys, by outcome (found, not_found, failed, timeout)");
        _meter.CreateObservableCounter("pkarr.dns.packet_cache", () => Observe(_packetCache, "result", PacketCacheResults),
            "{lookup}", "Packet requests by result (fresh, stale, miss)");
        _meter.CreateObservableCounter("pkarr.dns.forward_cache", () => Observe(_forwardCache, "result", ForwardCacheResults),
            "{lookup}", "Forwarded questions by cache result (hit, miss)");
        _upstream = _meter.CreateCounter<long>("pkarr.dns.upstream", "{query}",
            "Upstream queries by outcome (answered, timeout, truncated, mismatched, failed)");
        _dropped = _meter.CreateCounter<long>("pkarr.dns.dropped", "{message}",
            "Messages received and not answered, by reason (short, response, tcp_limit)");
    }

    /// <summary>This instance's meter: every instance has its own, so a listener can tell servers apart.</summary>
    internal Meter Meter => _meter;

    /// <summary>A query was answered.</summary>
    public void Query(DnsTransport transport, QueryKind kind, int rcode, TimeSpan elapsed)
    {
        int rcodeCell = rcode is >= 0 and < Rcodes - 1 ? rcode : Rcodes - 1;
        _queries.Increment((((int)transport * Kinds.Length) + (int)kind) * Rcodes + rcodeCell);
        _duration.Record(elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("transport", Transports[(int)transport]),
            new KeyValuePair<string, object?>("kind", Kinds[(int)kind]));
    }

    /// <summary>A query was refused by a limit: "query" or "lookup".</summary>
    public void RateLimited(string limit) => _rateLimited.Add(1, new KeyValuePair<string, object?>("limit", limit));

    /// <summary>A network lookup ended: "found", "not_found", "failed" or "timeout".</summary>
    public void Lookup(string outcome) => _lookups.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A packet was asked for.</summary>
    public void PacketCache(PacketCacheResult result) => _packetCache.Increment((int)result);

    /// <summary>A forwarded question was looked up in the cache.</summary>
    public void ForwardCache(bool hit) => _forwardCache.Increment(hit ? 0 : 1);

    /// <summary>An upstream query ended: "answered", "timeout", "truncated", "mismatched" or "failed".</summary>
    public void Upstream(string outcome) => _upstream.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A message was not answered: "short", "response", "tcp_limit", ...</summary>
    public void Dropped(string reason) => _dropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();

    /// <summary>The query counts: a counter's cell is (transport × kinds + kind) × rcodes + rcode.</summary>
    private IEnumerable<Measurement<long>> ObserveQueries() => Observe(_queries, cell =>
    [
        new("transport", Transports[cell / Rcodes / Kinds.Length]),
        new("kind", Kinds[cell / Rcodes % Kinds.Length]),
        new("rcode", RcodeName(cell % Rcodes)),
    ]);

    /// <summary>The counts of <paramref name="counts"/> tagged <paramref name="tag"/> = the counter's name.</summary>
    private static IEnumerable<Measurement<long>> Observe(StripedCounts counts, string tag, string[] names)
        => Observe(counts, cell => [new(tag, names[cell])]);

    /// <summary>One measurement per counter of <paramref name="counts"/> counted at least once, with its tags.</summary>
    private static IEnumerable<Measurement<long>> Observe(StripedCounts counts, Func<int, KeyValuePair<string, object?>[]> tagsOf)
    {
        for (int cell = 0; cell < counts.Count; cell++)
        {
            long total = counts.Total(cell);
            if (total > 0)
            {
                yield return new Measurement<long>(total, tagsOf(cell));
            }
        }
    }

    private static string RcodeName(int rcode) => rcode switch
    {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        16 => "BADVERS",
        Rcodes - 1 => "other",
        _ => rcode.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
