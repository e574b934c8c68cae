// The DNS server's two per-client limits (spec §9.1, §9.2): every query (query_rate_limit), and network lookups of
// keys with no cached packet (dht_query_rate_limit). Each is a table of token buckets, the relay's (bounded, swept,
// driven by a TimeProvider), keyed by a client key that puts one user in one bucket:
//
//   IPv4 and IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack [::] socket reports) → the IPv4 address
//   other IPv6 → its /64 (one subscriber's prefix; per-address buckets would let one host rotate addresses freely)

using System.Net;
using System.Net.Sockets;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.DnsServer.RateLimiting;

internal sealed class DnsRateLimits : IDisposable
{
    private readonly AddressTokenBuckets? _queries;
    private readonly AddressTokenBuckets? _lookups;

    /// <summary>Limits of <paramref name="perSecond"/> queries (burst <paramref name="burst"/>) and
    /// <paramref name="lookupsPerSecond"/> lookups (burst <paramref name="lookupBurst"/>); 0 per second turns one off.</summary>
    public DnsRateLimits(int perSecond, int burst, int lookupsPerSecond, int lookupBurst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(lookupsPerSecond);
        if (perSecond > 0)
        {
            _queries = new AddressTokenBuckets(new Quota(perSecond, QuotaUnit.Second), Math.Max(1, burst), time);
        }

        if (lookupsPerSecond > 0)
        {
            _lookups = new AddressTokenBuckets(new Quota(lookupsPerSecond, QuotaUnit.Second), Math.Max(1, lookupBurst), time);
        }
    }

    /// <summary>No limits at all.</summary>
    public static DnsRateLimits Unlimited { get; } = new(0, 0, 0, 0, TimeProvider.System);

    /// <summary>Takes a query token for <paramref name="client"/>; false: answer REFUSED.</summary>
    public bool TryAcquireQuery(IPAddress client) => _queries is null || _queries.TryAcquire(KeyOf(client), out _);

    /// <summary>Takes a lookup token for <paramref name="client"/>; false: no network lookup on its behalf.</summary>
    public bool TryAcquireLookup(IPAddress client) => _lookups is null || _lookups.TryAcquire(KeyOf(client), out _);

    /// <summary>The bucket key of <paramref name="client"/>: IPv4 for IPv4 and v4-mapped, the /64 for other IPv6.</summary>
    public static IPAddress KeyOf(IPAddress client)
    {
        if (client.IsIPv4MappedToIPv6)
        {
            return client.MapToIPv4();
        }

        if (client.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return client;
        }

        Span<byte> bytes = stackalloc byte[16];
        client.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    public void Dispose()
    {
        _queries?.Dispose();
        _lookups?.Dispose();
    }
}
