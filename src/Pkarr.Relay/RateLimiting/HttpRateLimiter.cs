// The HTTP limit as ASP.NET Core's rate limiting middleware sees it: the per-IP buckets keyed by the request's real
// client IP. The middleware keeps the lease to itself, so the limiter writes the state headers of a granted request
// (x-ratelimit-limit, x-ratelimit-remaining) when it grants it, before anything else runs.

using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Pkarr.Relay.RateLimiting;

internal sealed class HttpRateLimiter(AddressTokenBuckets buckets, bool behindProxy) : PartitionedRateLimiter<HttpContext>
{
    public const string LimitHeader = "x-ratelimit-limit";
    public const string RemainingHeader = "x-ratelimit-remaining";

    private readonly string _limit = buckets.Burst.ToString(CultureInfo.InvariantCulture);

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) =>
        buckets.GetStatistics(ClientAddress.Of(resource, behindProxy));

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        var lease = buckets.AttemptAcquire(ClientAddress.Of(resource, behindProxy), permitCount);
        if (lease.IsAcquired && lease.TryGetMetadata(AddressTokenBuckets.Remaining, out long remaining))
        {
            var headers = resource.Response.Headers;
            headers[LimitHeader] = _limit;
            headers[RemainingHeader] = remaining.ToString(CultureInfo.InvariantCulture);
        }

        return lease;
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<RateLimitLease>(cancellationToken)
            : ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));
}
