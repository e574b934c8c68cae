// What a server-mode node answers (shared spec §10.1): token buckets of queries per source IP and per source
// /24, and one budget of reply bytes for all sources together. Replies go to an address nobody verified (UDP),
// so a node is a reflector: the per-IP bucket bounds what one address draws, the /24 bucket what an attacker
// spoofing a whole /24 draws, and the byte budget what every source together draws.
//
// Memory is bounded: each table tracks at most MaxTracked keys. When it is full, a new source takes the place of
// the one idle longest, but only once that one's bucket has refilled: forgetting a full bucket changes nothing,
// forgetting any other would hand its source a fresh burst. While even the oldest bucket still matters (10 000
// sources within a burst's refill time, seconds: a spoofed flood), new sources are refused.
//
// Buckets that have refilled are also forgotten as they reach the idle end (two per check), for the same reason:
// a node that hears from many sources, as every node of a well-formed overlay does, then keeps only those heard
// from within a refill time, not the last 10 000 (~150 bytes each).
using System.Net;

using Mainline.Rpc;

namespace Mainline.Server;

/// <summary>A token bucket on the node's millisecond clock: <c>perSecond</c> tokens a second, at most <c>burst</c>.</summary>
internal sealed class TokenBucket(double perSecond, double burst, long nowMs)
{
    private readonly double _burst = burst;
    private double _tokens = burst;
    private long _at = nowMs;

    /// <summary>Fills the bucket as new at <paramref name="nowMs"/>, for another source.</summary>
    public TokenBucket Refill(long nowMs)
    {
        _tokens = _burst;
        _at = nowMs;
        return this;
    }

    /// <summary>True when the bucket has refilled by <paramref name="nowMs"/>: forgetting it then forgives nothing.</summary>
    public bool IsFull(long nowMs) => _tokens + (Math.Max(0, nowMs - _at) * perSecond / 1000.0) >= _burst;

    /// <summary>Takes <paramref name="amount"/> tokens when there are that many; false (taking none) otherwise.</summary>
    public bool TryTake(double amount, long nowMs)
    {
        if (nowMs > _at)
        {
            _tokens = Math.Min(_burst, _tokens + ((nowMs - _at) * perSecond / 1000.0));
            _at = nowMs;
        }

        if (_tokens < amount)
        {
            return false;
        }

        _tokens -= amount;
        return true;
    }
}

internal sealed class RateLimiter
{
    /// <summary>Sources tracked per table: 10 000 entries of ~200 bytes (bucket, key, LRU links), about 2 MB
    /// per table. A bucket refills within seconds, so by the time 10 000 other sources have come, the one idle
    /// longest has nearly always refilled and is forgotten at no cost.</summary>
    internal const int MaxTracked = 10_000;

    /// <summary>The smallest reply budget allowed: one second's worth must hold the largest reply (a 1000-byte
    /// value with nodes, under 1472 bytes), or value-carrying replies would never go out.</summary>
    public const int MinReplyBytesPerSecond = 2048;

    /// <summary>A /24 bucket holds three seconds' worth of queries, as the per-IP default burst does.</summary>
    private const double SubnetBurstSeconds = 3;

    private readonly double _perIp;
    private readonly double _ipBurst;
    private readonly double _perSubnet;
    private readonly Lru<IPAddress, TokenBucket> _ips;
    private readonly Lru<int, TokenBucket> _subnets;
    private readonly TokenBucket? _replyBytes;

    // Buckets of forgotten sources, each table's, refilled for new ones: a node of a well-formed overlay forgets a
    // source about as often as it meets one, so it then allocates no bucket per source.
    private readonly Stack<TokenBucket> _spareIpBuckets = [];
    private readonly Stack<TokenBucket> _spareSubnetBuckets = [];
    private const int MaxSpareBuckets = 8;

    /// <summary>Source IPs tracked now (tests).</summary>
    internal int TrackedIps => _ips.Count;

    public RateLimiter(DhtOptions options)
    {
        _perIp = options.RateLimitPerIp;
        _ipBurst = options.RateLimitBurst;
        _perSubnet = options.RateLimitPerSubnet;
        _ips = new(MaxTracked) { Removed = b => Spare(_spareIpBuckets, b) };
        _subnets = new(MaxTracked) { Removed = b => Spare(_spareSubnetBuckets, b) };
        var bytes = options.ReplyBytesPerSecond;
        _replyBytes = bytes > 0 ? new TokenBucket(bytes, bytes, 0) : null;
    }

    /// <summary>True when a query from <paramref name="address"/> may be answered now: its IP and its /24 both
    /// have a token (each limit is off at rate 0).</summary>
    public bool Allow(IPAddress address, long nowMs)
    {
        if (_perIp > 0 && !Take(_ips, _spareIpBuckets, address, _perIp, _ipBurst, nowMs))
        {
            return false;
        }

        return _perSubnet <= 0 || Endpoints.Network24(address) is not { } subnet
            || Take(_subnets, _spareSubnetBuckets, subnet, _perSubnet, _perSubnet * SubnetBurstSeconds, nowMs);
    }

    /// <summary>True when a reply of <paramref name="bytes"/> fits the global budget now (and spends it).</summary>
    public bool AllowReply(int bytes, long nowMs) => _replyBytes?.TryTake(bytes, nowMs) ?? true;

    private static bool Take<TKey>(
        Lru<TKey, TokenBucket> table, Stack<TokenBucket> spare, TKey key, double perSecond, double burst, long nowMs)
        where TKey : notnull
    {
        table.RemoveOldestWhile(static (b, now) => b.IsFull(now), nowMs, 2);
        if (!table.TryGet(key, out var bucket))
        {
            if (table.Count >= table.Capacity && table.TryPeekOldest(out var oldest) && !oldest.IsFull(nowMs))
            {
                return false;
            }

            bucket = spare.TryPop(out var forgotten) ? forgotten.Refill(nowMs) : new TokenBucket(perSecond, burst, nowMs);
            table.Set(key, bucket); // replaces the source idle longest when the table is full
        }

        return bucket.TryTake(1, nowMs);
    }

    private static void Spare(Stack<TokenBucket> spare, TokenBucket bucket)
    {
        if (spare.Count < MaxSpareBuckets)
        {
            spare.Push(bucket);
        }
    }
}
