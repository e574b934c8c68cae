// The client's packet cache (shared spec pkarr.md §5.2). An entry is a CachedPacket: an immutable signed packet and
// when it was last seen. Stores implement one write, PutIfNewerAsync, which is the spec's UpdateCacheIfNeeded done
// atomically by the store, so that no interleaving of writers (threads, processes, relays sharing a store) ever
// replaces a packet with an older one.

using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Caching;

/// <summary>A store of the most recent packet seen per key. Implementations are safe for concurrent use.</summary>
public interface IPkarrCache
{
    /// <summary>The number of packets the cache holds at most; 0 disables caching in the client.</summary>
    int Capacity { get; }

    /// <summary>The number of packets held now.</summary>
    ValueTask<int> CountAsync(CancellationToken cancellationToken = default);

    /// <summary>The entry for <paramref name="key"/>, or null; counts as a use for eviction.</summary>
    ValueTask<CachedPacket?> GetAsync(PublicKey key, CancellationToken cancellationToken = default);

    /// <summary>The entry for <paramref name="key"/>, or null, without counting as a use (for comparisons).</summary>
    ValueTask<CachedPacket?> PeekAsync(PublicKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="entry"/> when it <see cref="CachedPacket.Supersedes">supersedes</see> the held entry
    /// (nothing held, a more recent packet, or the same packet seen later), atomically. Returns whether it was stored.
    /// </summary>
    ValueTask<bool> PutIfNewerAsync(CachedPacket entry, CancellationToken cancellationToken = default);
}
