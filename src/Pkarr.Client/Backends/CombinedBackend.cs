// The DHT and the relays together (shared spec pkarr.md §5.4, "Combined backend"): CacheOnly asks only the relays
// (the DHT has no cache to ask); CacheFirst races both and returns the first acceptable answer; NetworkOnly waits for
// both. Each side has already folded its own sources, so this is the second level of the two-level merge (§5.6).

using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Backends;

/// <summary>Races or joins the DHT backend and the relays backend.</summary>
internal sealed class CombinedBackend(IPkarrBackend dht, IPkarrBackend relays) : IPkarrBackend
{
    public async Task<ResolveResult> ResolveAsync(PublicKey key, ResolvePolicy policy, CacheContext? context, CancellationToken cancellationToken)
    {
        if (policy == ResolvePolicy.CacheOnly)
        {
            return await relays.ResolveAsync(key, policy, context, cancellationToken).ConfigureAwait(false);
        }

        using var race = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var fromDht = dht.ResolveAsync(key, policy, context, race.Token);
        var fromRelays = relays.ResolveAsync(key, policy, context, race.Token);
        if (policy == ResolvePolicy.CacheFirst)
        {
            var first = await Task.WhenAny(fromDht, fromRelays).ConfigureAwait(false);
            if (first.IsCompletedSuccessfully && first.Result is { Found: true } found && (context is null || context.Final(found.Entry)))
            {
                // The loser is cancelled and awaited, so that nothing it does outlives the resolve.
                await race.CancelAsync().ConfigureAwait(false);
                await ((Task)(first == fromDht ? fromRelays : fromDht)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return found;
            }
        }

        var results = await Task.WhenAll(fromDht, fromRelays).ConfigureAwait(false);
        var merged = new ResolveAccumulator(context);
        merged.Add(results[0]);
        merged.Add(results[1]);
        return merged.Result;
    }

    public async Task<PublishResult> PublishAsync(SignedPacket packet, Timestamp? cas, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(
            dht.PublishAsync(packet, cas, cancellationToken),
            relays.PublishAsync(packet, cas, cancellationToken)).ConfigureAwait(false);
        var merged = new PublishAccumulator();
        merged.Add(results[0]);
        merged.Add(results[1]);
        return new PublishResult
        {
            PublicKey = packet.PublicKey,
            Error = merged.Error,
            StoredOn = merged.StoredOn,
            Dht = results[0].Dht,
            Relays = results[1].Relays,
        };
    }
}
