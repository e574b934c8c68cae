// Placeholder until the rate limits land: allows everything.

using Mainline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Pkarr.Relay.RateLimiting;

internal sealed class RelayRateLimits(RateLimiterSettings? settings, TimeProvider time) : IDisposable
{
    public RateLimiterSettings? Settings { get; } = settings;

    public TimeProvider Time { get; } = time;

    /// <summary>The filter the DHT node runs on incoming queries (dht_quota); null when off.</summary>
    public Func<IncomingRequest, bool>? DhtRequestFilter => Settings is null ? null : _ => true;

    public void AddServices(IServiceCollection services) => _ = (services, Time);

    public void UseHttpLimit(WebApplication app) => _ = (app, Time);

    /// <summary>Takes one user-DHT token for the request's client; false (with the wait) when none is left.</summary>
    public bool TryAcquireUserDht(HttpContext context, out TimeSpan retryAfter)
    {
        _ = (context, Time);
        retryAfter = TimeSpan.Zero;
        return true;
    }

    public void Dispose()
    {
    }
}
