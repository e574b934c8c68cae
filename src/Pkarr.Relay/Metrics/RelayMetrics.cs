// The relay's own instruments (System.Diagnostics.Metrics, meter "Pkarr.Relay") and its Prometheus endpoint. Request
// counts and latency by route and status come from ASP.NET Core's own meters (http.server.request.duration with
// http.route and http.response.status_code; Kestrel's connections); these add what only the relay knows.
//
//   instruments ─▶ OpenTelemetry MeterProvider (this relay's meters only) ─▶ GET /metrics (Prometheus text)
//
// Gauges of state that lives behind an await (the store's count, the DHT node's info) read values cached by
// RelayStateGauges, which refreshes them on a timer: a scrape never waits on the disk, Redis or the DHT node.

using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Pkarr.Relay.Metrics;

internal sealed class RelayMetrics : IDisposable
{
    public const string MeterName = "Pkarr.Relay";

    /// <summary>ASP.NET Core's request meter: http.server.request.duration, http.server.active_requests.</summary>
    public const string HostingMeterName = "Microsoft.AspNetCore.Hosting";

    /// <summary>Kestrel's meter: connections, TLS handshakes, upgraded connections.</summary>
    public const string KestrelMeterName = "Microsoft.AspNetCore.Server.Kestrel";

    public const string MetricsPath = "/metrics";

    /// <summary>A cached value not read yet: its gauge reports nothing rather than a made-up 0.</summary>
    private const long Unknown = -1;

    private readonly Meter _meter = new(MeterName, typeof(RelayMetrics).Assembly.GetName().Version?.ToString());
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _publishes;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _resolves;
    private readonly Counter<long> _republishes;
    private long _storePackets = Unknown;
    private long _dhtSizeEstimate = Unknown;
    private long _routingTableSize = Unknown;
    private int _storeChanged;
    private bool _observing;

    public RelayMetrics(TimeProvider? time = null)
    {
        Rates = new RequestRates(time ?? TimeProvider.System);
        _cacheLookups = _meter.CreateCounter<long>("pkarr.relay.cache.lookups", "{lookup}",
            "GETs answered from the store (result=hit) or sent to the DHT (result=miss)");
        _resolves = _meter.CreateCounter<long>("pkarr.relay.resolves", "{resolve}",
            "DHT resolves triggered by GETs, by outcome (found, not_found, invalid, unavailable)");
        _publishes = _meter.CreateCounter<long>("pkarr.relay.publishes", "{publish}",
            "PUTs by outcome (stored, conflict, invalid, too_large, rate_limited, failed)");
        _rateLimited = _meter.CreateCounter<long>("pkarr.relay.rate_limited", "{request}",
            "Requests refused by a rate limit (limit=http, user_dht, dht)");
        _republishes = _meter.CreateCounter<long>("pkarr.relay.republishes", "{key}",
            "Keys republished by the relay's republisher, by outcome (republished, too_few_holders, failed, ...)");
    }

    public Meter Meter => _meter;

    /// <summary>Resolves, publishes and refusals over the last minute, for GET /api/status.</summary>
    public RequestRates Rates { get; }

    /// <summary>Packets in the store, as last read; -1 before the first read.</summary>
    internal long StorePackets
    {
        get => Interlocked.Read(ref _storePackets);
        set => Interlocked.Exchange(ref _storePackets, value);
    }

    /// <summary>The DHT node's estimate of the network's size, as last read; -1 before the first read.</summary>
    internal long DhtSizeEstimate
    {
        get => Interlocked.Read(ref _dhtSizeEstimate);
        set => Interlocked.Exchange(ref _dhtSizeEstimate, value);
    }

    /// <summary>Nodes in the DHT node's routing table, as last read; -1 before the first read.</summary>
    internal long RoutingTableSize
    {
        get => Interlocked.Read(ref _routingTableSize);
        set => Interlocked.Exchange(ref _routingTableSize, value);
    }

    public void CacheHit() => _cacheLookups.Add(1, new KeyValuePair<string, object?>("result", "hit"));

    public void CacheMiss() => _cacheLookups.Add(1, new KeyValuePair<string, object?>("result", "miss"));

    public void Resolved(string outcome)
    {
        _resolves.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == "found")
        {
            // A packet found on the DHT is written to the store.
            Volatile.Write(ref _storeChanged, 1);
        }
    }

    public void Published(string outcome)
    {
        _publishes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == "stored")
        {
            Volatile.Write(ref _storeChanged, 1);
        }
    }

    public void RateLimited(string limit)
    {
        _rateLimited.Add(1, new KeyValuePair<string, object?>("limit", limit));
        if (limit != "dht")
        {
            // The DHT limit drops UDP queries of other nodes; the status counts refused HTTP requests.
            Rates.RateLimited();
        }
    }

    public void Republished(string outcome) => _republishes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>True (once) when a write may have changed the store's count since the last call.</summary>
    internal bool TakeStoreChanged() => Interlocked.Exchange(ref _storeChanged, 0) != 0;

    /// <summary>Registers the exporter, the gauges read from the relay's state and the timer that refreshes them.</summary>
    public static void AddServices(IServiceCollection services, RelayContext context)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(context);
        var metrics = context.Metrics;
        metrics.ObserveState(context);
        services.AddSingleton<IHostedService>(provider =>
            new RelayStateGauges(context, provider.GetRequiredService<ILoggerFactory>().CreateLogger<RelayStateGauges>()));
        services.AddOpenTelemetry().WithMetrics(builder =>
        {
            builder.AddMeter(MeterName, HostingMeterName, KestrelMeterName);

            // WithMetrics hands a deferred builder: the view needs the app's IMeterFactory, known once the
            // service provider is built.
            if (builder is IDeferredMeterProviderBuilder deferred)
            {
                deferred.Configure((provider, b) => b.AddView(Only(metrics.Meter, provider.GetRequiredService<IMeterFactory>())));
            }

            builder.AddPrometheusExporter();
        });
    }

    /// <summary>Maps <c>GET /metrics</c>, the Prometheus scrape endpoint, itself left out of the request metrics.</summary>
    public static void Map(IEndpointRouteBuilder routes) =>
        routes.MapPrometheusScrapingEndpoint(MetricsPath).DisableHttpMetrics();

    public void Dispose() => _meter.Dispose();

    /// <summary>
    /// A view that drops the instruments of other relays in the same process: a MeterProvider listens to every meter
    /// of a given name process-wide, so without it two relays in one process (tests, benchmarks) would export each
    /// other's requests and gauges. ASP.NET Core's meters belong to the app's <see cref="IMeterFactory"/>.
    /// </summary>
    private static Func<Instrument, MetricStreamConfiguration?> Only(Meter relayMeter, IMeterFactory appMeters) =>
        instrument => instrument.Meter.Name == MeterName
            ? ReferenceEquals(instrument.Meter, relayMeter) ? null : MetricStreamConfiguration.Drop
            : instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, appMeters) ? null : MetricStreamConfiguration.Drop;

    private void ObserveState(RelayContext context)
    {
        if (_observing)
        {
            return;
        }

        _observing = true;
        _meter.CreateObservableGauge("pkarr.relay.store.packets", () => Known(StorePackets), "{packet}",
            "Packets in the store (refreshed every few seconds and after writes)");
        _meter.CreateObservableGauge("pkarr.relay.store.capacity", () => (long)(context.Store?.Capacity ?? 0), "{packet}",
            "Packets the store holds at most before evicting the least recently used");
        _meter.CreateObservableGauge("pkarr.relay.dht.size_estimate", () => Known(DhtSizeEstimate), "{node}",
            "The DHT node's estimate of the number of nodes in the network");
        _meter.CreateObservableGauge("pkarr.relay.dht.routing_table.nodes", () => Known(RoutingTableSize), "{node}",
            "Nodes in the DHT node's routing table");
        _meter.CreateObservableGauge("pkarr.relay.republisher.keys", () => context.Republisher is { } republisher
                ? [new Measurement<long>(republisher.Count)] : Array.Empty<Measurement<long>>(), "{key}",
            "Keys the republisher keeps alive (the most recently requested or published, up to max_keys)");
    }

    private static Measurement<long>[] Known(long value) => value == Unknown ? [] : [new Measurement<long>(value)];
}
