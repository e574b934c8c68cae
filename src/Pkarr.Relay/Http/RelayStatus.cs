// The relay's state in one snapshot, for the status page (§6.9) and GET /api/status (the web app's status view). The
// JSON goes through a source-generated serializer context: no reflection at run time. Nothing secret is in it: the
// store's location is shown for the SQLite file only, since a Redis configuration string may carry a password.

using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Pkarr.Relay.Metrics;

namespace Pkarr.Relay.Http;

/// <summary>What GET /api/status returns.</summary>
internal sealed record RelayStatus(
    string Version, long UptimeSeconds, StoreStatus Store, DhtStatus Dht, RateLimitStatus RateLimits, RequestStatus Requests)
{
    /// <summary>The relay's version without build metadata (<c>0.1.0</c>, not <c>0.1.0+3f2a…</c>).</summary>
    public static string RelayVersion { get; } = ReadVersion();

    public static async Task<RelayStatus> CollectAsync(RelayContext relay, CancellationToken cancellationToken)
    {
        var info = await relay.Dht.GetInfoAsync(cancellationToken).ConfigureAwait(false);
        long packets = relay.Store is { } store ? await store.CountAsync(cancellationToken).ConfigureAwait(false) : 0;
        var backend = relay.Options.Cache.Backend;
        var uptime = relay.Time.GetUtcNow() - relay.StartedAt;
        return new RelayStatus(
            RelayVersion,
            Math.Max(0, (long)uptime.TotalSeconds),
            new StoreStatus(
                packets,
                relay.Store?.Capacity ?? 0,
                relay.Store is null ? "none" : backend.ToString().ToLowerInvariant(),
                relay.Store is not null && backend == StoreBackend.Sqlite ? relay.StoreLocation : null),
            new DhtStatus(
                info.LocalEndPoint.Port,
                info.PublicEndPoint?.ToString(),
                info.Firewalled,
                info.ServerMode,
                info.SizeEstimate,
                double.IsFinite(info.SizeEstimateStdDev) ? info.SizeEstimateStdDev : null,
                info.RoutingTableSize),
            new RateLimitStatus(relay.Options.RateLimiter is not null),
            RequestStatus.Of(relay.Metrics.Rates));
    }

    public static async Task WriteJsonAsync(HttpContext http, RelayContext relay)
    {
        var status = await CollectAsync(relay, http.RequestAborted).ConfigureAwait(false);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(status, RelayStatusJson.Default.RelayStatus);
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.ContentLength = json.Length;
        if (!HttpMethods.IsHead(http.Request.Method))
        {
            await response.Body.WriteAsync(json, http.RequestAborted).ConfigureAwait(false);
        }
    }

    private static string ReadVersion()
    {
        var assembly = typeof(RelayStatus).Assembly;
        string? version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString(3);
        if (version is null)
        {
            return "unknown";
        }

        int metadata = version.IndexOf('+', StringComparison.Ordinal);
        return metadata < 0 ? version : version[..metadata];
    }
}

/// <summary>The packet store: how full it is and what it is.</summary>
internal sealed record StoreStatus(
    long Packets,
    long Capacity,
    string Backend,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Location)
{
    /// <summary>Packets held as a percentage of the capacity; 0 when the capacity is 0.</summary>
    public double Utilisation => Capacity <= 0 ? 0 : 100.0 * Packets / Capacity;
}

/// <summary>The relay's DHT node (Mainline's <see cref="Mainline.DhtInfo"/>).</summary>
internal sealed record DhtStatus(
    int LocalPort, string? PublicAddress, bool Firewalled, bool ServerMode, long SizeEstimate, double? SizeEstimateStddev, int RoutingTableSize)
{
    /// <summary>The port other nodes reach us on: the public one when known, else the bound one.</summary>
    public int Port => PublicAddress is not null && System.Net.IPEndPoint.TryParse(PublicAddress, out var endPoint) ? endPoint.Port : LocalPort;
}

/// <summary>Whether the three rate limits are on.</summary>
internal sealed record RateLimitStatus(bool Enabled);

/// <summary>HTTP requests over the last minute and since start: resolves (GET /{key}), publishes (PUT /{key}), and
/// requests refused by a rate limit.</summary>
internal sealed record RequestStatus(int WindowSeconds, RequestCount Resolves, RequestCount Publishes, RequestCount RateLimited)
{
    public static RequestStatus Of(RequestRates rates) => new(
        RequestRates.WindowSeconds,
        RequestCount.Of(rates.Resolves),
        RequestCount.Of(rates.Publishes),
        RequestCount.Of(rates.RateLimitedRequests));
}

/// <summary>One kind of request: how many in the last minute, and since the relay started.</summary>
internal sealed record RequestCount(long LastMinute, long Total)
{
    public static RequestCount Of(RequestRates.Snapshot snapshot) => new(snapshot.LastMinute, snapshot.Total);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, IgnoreReadOnlyProperties = true)]
[JsonSerializable(typeof(RelayStatus))]
internal sealed partial class RelayStatusJson : JsonSerializerContext;
