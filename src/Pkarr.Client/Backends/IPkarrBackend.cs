// A source and sink of packets: the DHT, the set of relays, or both raced (shared spec pkarr.md §5.4). Each backend
// folds its own sub-results (items of one DHT query, answers of several relays) into one result, and the combined
// backend folds those again by the same rules: the merge is two-level (§5.6).

using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Backends;

internal interface IPkarrBackend
{
    /// <summary>Resolves <paramref name="key"/> as <paramref name="policy"/> asks; <paramref name="context"/> is the
    /// cache's view for CacheFirst (null for the other policies).</summary>
    Task<ResolveResult> ResolveAsync(PublicKey key, ResolvePolicy policy, CacheContext? context, CancellationToken cancellationToken);

    /// <summary>Publishes <paramref name="packet"/>; <paramref name="cas"/> is the timestamp the caller expects to
    /// replace (BEP 44 <c>cas</c>), if any. The result carries this backend's part only (<see cref="PublishResult.Dht"/>
    /// or <see cref="PublishResult.Relays"/>).</summary>
    Task<PublishResult> PublishAsync(SignedPacket packet, Timestamp? cas, CancellationToken cancellationToken);
}
