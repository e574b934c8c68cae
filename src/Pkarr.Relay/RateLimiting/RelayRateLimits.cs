// The relay's three rate limits (shared spec pkarr.md §6.5), each a table of per-IP token buckets on one clock:
//
//   quota / burst                    every HTTP request (pages, pre-flights and cache hits too), before CORS:
//                                    ASP.NET Core's rate limiting middleware with the buckets as its global limiter;
//                                    429 "Too Many Requests! Wait for {n}s", x-ratelimit-* on what passes
//   user_dht_quota / user_dht_burst  requests that make the relay query the DHT (RelayApi asks TryAcquireUserDht)
//   dht_quota / dht_burst            incoming queries from other DHT nodes, per peer IPv4 (the node's RequestFilter);
//                                    the excess is dropped without a reply
//
// The HTTP and user-DHT limits key on the real client IP (ClientAddress, behind_proxy). No settings means no limiter
// at all: no middleware, no headers, no filter.

using System.Globalization;
using System.Net;
using System.Text;
using Mainline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Pkarr.Relay.Metrics;

namespace Pkarr.Relay.RateLimiting;

internal sealed class RelayRateLimits : IDisposable
{
    public const string AfterHeader = "x-ratelimit-after";

    private readonly AddressTokenBuckets? _http;
    private readonly AddressTokenBuckets? _userDht;
    private readonly AddressTokenBuckets? _dht;
    private readonly HttpRateLimiter? _httpLimiter;

    /// <summary>The limits of <paramref name="settings"/> on <paramref name="time"/>; none when it is null.</summary>
    /// <exception cref="ArgumentException">A quota or burst of <paramref name="settings"/> is not positive.</exception>
    public RelayRateLimits(RateLimiterSettings? settings, TimeProvider time)
    {
        Settings = settings;
        Time = time;
        if (settings is null)
        {
            return;
        }

        try
        {
            _http = Buckets(settings.Quota, settings.Burst, "quota", "burst", time);
            _userDht = Buckets(settings.UserDhtQuota, settings.UserDhtBurst, "user_dht_quota", "user_dht_burst", time);
            _dht = Buckets(settings.DhtQuota, settings.DhtBurst, "dht_quota", "dht_burst", time);
        }
        catch
        {
            Dispose();
            throw;
        }

        _httpLimiter = new HttpRateLimiter(_http, settings.BehindProxy);
        DhtRequestFilter = AllowDhtRequest;
    }

    public RateLimiterSettings? Settings { get; }

    public TimeProvider Time { get; }

    /// <summary>Where rejections are counted (<c>limit=http|dht</c>; RelayApi counts user_dht); null counts nowhere.</summary>
    public RelayMetrics? Metrics { get; set; }

    /// <summary>The filter the DHT node runs on incoming queries (dht_quota); null when off.</summary>
    public Func<IncomingRequest, bool>? DhtRequestFilter { get; }

    /// <summary>The buckets of each limit, for tests; null when off.</summary>
    internal AddressTokenBuckets? HttpBuckets => _http;

    internal AddressTokenBuckets? UserDhtBuckets => _userDht;

    internal AddressTokenBuckets? DhtBuckets => _dht;

    /// <summary>Registers ASP.NET Core's rate limiting with the HTTP limit as its global limiter.</summary>
    public void AddServices(IServiceCollection services)
    {
        if (_httpLimiter is null)
        {
            return;
        }

        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = _httpLimiter;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = OnHttpRejectedAsync;
        });
    }

    /// <summary>Puts the HTTP limit in the pipeline; call it before the CORS middleware, so that its 429s carry no
    /// CORS headers (as the reference's).</summary>
    public void UseHttpLimit(WebApplication app)
    {
        if (_httpLimiter is not null)
        {
            app.UseRateLimiter();
        }
    }

    /// <summary>Takes one user-DHT token for the request's client; false (with the wait) when none is left.</summary>
    public bool TryAcquireUserDht(HttpContext context, out TimeSpan retryAfter)
    {
        if (_userDht is null)
        {
            retryAfter = TimeSpan.Zero;
            return true;
        }

        return _userDht.TryAcquire(ClientAddress.Of(context, Settings!.BehindProxy), out retryAfter);
    }

    public void Dispose()
    {
        _httpLimiter?.Dispose();
        _http?.Dispose();
        _userDht?.Dispose();
        _dht?.Dispose();
    }

    private static AddressTokenBuckets Buckets(Quota quota, int? burst, string quotaKey, string burstKey, TimeProvider time)
    {
        if (quota.Count <= 0 || quota.Period <= TimeSpan.Zero)
        {
            throw Error.InvalidRateLimit(quotaKey, $"\"{quota}\" lets no request through; the count must be positive and at most one per tick");
        }

        int size = burst ?? quota.Count;
        if (size <= 0)
        {
            throw Error.InvalidRateLimit(burstKey, $"{size} is not a positive number of requests");
        }

        return new AddressTokenBuckets(quota, size, time);
    }

    private bool AllowDhtRequest(IncomingRequest request)
    {
        var address = request.Source.Address;
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (_dht!.TryAcquire(address, out _))
        {
            return true;
        }

        Metrics?.RateLimited("dht");
        return false;
    }

    /// <summary>The reference's HTTP 429: the wait in whole seconds (truncated, so often 0 at 2r/s) in two headers
    /// and the body, no Content-Type, and no CORS headers (the CORS layer is never reached).</summary>
    private async ValueTask OnHttpRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        Metrics?.RateLimited("http");
        var wait = rejected.Lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retryAfter)
            ? retryAfter : TimeSpan.Zero;
        string seconds = ((long)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var response = rejected.HttpContext.Response;
        response.Headers[AfterHeader] = seconds;
        response.Headers.RetryAfter = seconds;
        byte[] body = Encoding.UTF8.GetBytes($"Too Many Requests! Wait for {seconds}s");
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, cancellationToken).ConfigureAwait(false);
    }
}
