// Per-IP token-bucket rate limit of incoming queries in server mode. Bounded memory: the table is
// cleared when it grows past 10 000 addresses, which only forgives, never blocks.
using System.Net;

namespace Mainline.Server;

internal sealed class RateLimiter(double perSecond, double burst)
{
    private const int MaxTracked = 10_000;
    private readonly Dictionary<IPAddress, (double Tokens, long At)> _buckets = [];

    /// <summary>True when a query from <paramref name="address"/> may be answered now; a rate of 0 disables limiting.</summary>
    public bool Allow(IPAddress address, long nowMs)
    {
        if (perSecond <= 0)
        {
            return true;
        }

        if (_buckets.Count >= MaxTracked && !_buckets.ContainsKey(address))
        {
            _buckets.Clear();
        }

        var (tokens, at) = _buckets.TryGetValue(address, out var b) ? b : (burst, nowMs);
        tokens = Math.Min(burst, tokens + ((nowMs - at) * perSecond / 1000.0));
        if (tokens < 1)
        {
            _buckets[address] = (tokens, nowMs);
            return false;
        }

        _buckets[address] = (tokens - 1, nowMs);
        return true;
    }
}
