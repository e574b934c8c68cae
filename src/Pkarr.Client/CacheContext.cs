// What a CacheFirst network query knows from the cache (shared spec pkarr.md §5.3): the cached packet, even when
// expired, is a floor that no answer may fall below, and the TTL bounds decide which answers are acceptable.

using Pkarr.Packets;

namespace Pkarr.Client;

/// <summary>The cache's view that a CacheFirst query carries to the backends.</summary>
/// <param name="Cached">The cached entry, possibly expired; null when nothing is cached.</param>
/// <param name="MinimumTtl">The client's minimum TTL.</param>
/// <param name="MaximumTtl">The client's maximum TTL.</param>
/// <param name="Time">The clock that ages entries.</param>
internal sealed record CacheContext(CachedPacket? Cached, uint MinimumTtl, uint MaximumTtl, TimeProvider Time)
{
    /// <summary>True when the cache holds a more recent packet than <paramref name="packet"/>: such an answer counts as empty.</summary>
    public bool BelowFloor(SignedPacket packet) => Cached is not null && Cached.Packet.MoreRecentThan(packet);

    /// <summary>True when an invalid value with <paramref name="seq"/> is no newer than the cached packet: it counts as empty.</summary>
    public bool InvalidSeqCovered(long seq) => seq >= 0 && Cached is not null && Cached.Packet.Timestamp.Microseconds >= (ulong)seq;

    /// <summary>True when <paramref name="entry"/> may be returned by CacheFirst: not expired (always, when the maximum TTL is 0).</summary>
    public bool Acceptable(CachedPacket entry) => MaximumTtl == 0 || !entry.IsExpired(MinimumTtl, MaximumTtl, Time);

    /// <summary>True when <paramref name="entry"/> ends a CacheFirst query early: acceptable and not below the floor.</summary>
    public bool Final(CachedPacket entry) => Acceptable(entry) && !BelowFloor(entry.Packet);

    /// <summary>The DHT <c>seq</c> lower bound: the cached timestamp − 1, so that nodes holding exactly the cached
    /// packet still return it (for the byte tie-break); none when nothing is cached or its timestamp is 0.</summary>
    public long? DhtLowerBound =>
        Cached is { Packet.Timestamp.Microseconds: > 0 and var ts } ? (long)Math.Min(ts - 1, long.MaxValue) : null;

    /// <summary>The relay lower bound (<c>If-Modified-Since</c>): one second before the cached timestamp, because HTTP
    /// dates have one-second resolution; none below one second.</summary>
    public Timestamp? RelayLowerBound =>
        Cached is { Packet.Timestamp.Microseconds: >= 1_000_000 and var ts } ? new Timestamp(ts - 1_000_000) : null;
}
