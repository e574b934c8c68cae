// What the republisher needs from the network, behind one small seam so that its scheduling, retries and
// concurrency are tested against a fake as well as against a testnet. The client's implementation counts holders
// with a BEP 44 get that asks for anything newer than (timestamp − 1): every node holding the current packet
// answers with the value, every other one without (spec pkarr.md §4.1).

using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Republishing;

/// <summary>How many DHT nodes hold a packet, and whether one of them returned a newer one.</summary>
/// <param name="Holders">Nodes that answered with the packet's timestamp or a newer one.</param>
/// <param name="Newer">The most recent newer packet seen, if any.</param>
internal sealed record HolderCount(int Holders, SignedPacket? Newer);

/// <summary>The network operations of a republish.</summary>
internal interface IRepublishNetwork
{
    /// <summary>The network's most recent packet for the key, ignoring the cache for reading.</summary>
    Task<ResolveResult> ResolveAsync(PublicKey key, CancellationToken cancellationToken);

    /// <summary>The client cache's packet for the key, if any, without counting it as use.</summary>
    Task<SignedPacket?> PeekCachedAsync(PublicKey key, CancellationToken cancellationToken);

    /// <summary>Publishes the packet (to the DHT and relays as the client is configured).</summary>
    Task<PublishResult> PublishAsync(SignedPacket packet, Timestamp? expected, CancellationToken cancellationToken);

    /// <summary>Counts the DHT nodes that hold <paramref name="packet"/> or newer; null when there is no DHT.</summary>
    Task<HolderCount?> CountHoldersAsync(SignedPacket packet, CancellationToken cancellationToken);
}

/// <summary>The republisher's network: a <see cref="PkarrClient"/>.</summary>
internal sealed class ClientRepublishNetwork(PkarrClient client) : IRepublishNetwork
{
    public Task<ResolveResult> ResolveAsync(PublicKey key, CancellationToken cancellationToken) =>
        client.ResolveAsync(key, ResolvePolicy.NetworkOnly, cancellationToken);

    public async Task<SignedPacket?> PeekCachedAsync(PublicKey key, CancellationToken cancellationToken) =>
        client.Cache is { } cache ? (await cache.PeekAsync(key, cancellationToken).ConfigureAwait(false))?.Packet : null;

    public Task<PublishResult> PublishAsync(SignedPacket packet, Timestamp? expected, CancellationToken cancellationToken) =>
        client.PublishAsync(packet, expected, cancellationToken);

    public async Task<HolderCount?> CountHoldersAsync(SignedPacket packet, CancellationToken cancellationToken)
    {
        var dht = await client.GetDhtAsync(cancellationToken).ConfigureAwait(false);
        if (dht is null)
        {
            return null;
        }

        long seq = packet.Timestamp.AsSeq;
        var get = dht.GetMutable(packet.PublicKey.Bytes.ToArray(), default, seq - 1);
        SignedPacket? newer = null;
        await foreach (var item in get.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (item.Seq > seq && DhtPackets.TryToSignedPacket(item, out var candidate, out _)
                && (newer is null || candidate.MoreRecentThan(newer)))
            {
                newer = candidate;
            }
        }

        var diagnostics = await get.Diagnostics.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new HolderCount(diagnostics.Values, newer);
    }
}
