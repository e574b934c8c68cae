// The DHT backend (shared spec pkarr.md §4.1, §4.3, §5.4): a pkarr packet is the BEP 44 mutable item of its key
// (no salt, seq = timestamp). Items arrive verified by Mainline and are converted without a second signature check.
//
// Resolve over the stream of items (§4.3): an item counts only if its seq is at least the highest seen so far; a
// counted item whose value is not a DNS packet is an "invalid signed packet" and hides every older valid packet,
// because BEP 44 freshness is by seq. CacheFirst answers from the first valid counted item when it is acceptable;
// the lookup then runs on in the background and hands its final most recent packet to the cache (§6.2), so that a
// fast node holding an older packet does not pin that packet in the cache for its whole TTL.

using Mainline;
using Microsoft.Extensions.Logging;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Backends;

/// <summary>Resolves and publishes packets as BEP 44 mutable items on the Mainline DHT.</summary>
/// <param name="dht">Gives the running node (started on first use).</param>
/// <param name="time">The clock that stamps packets as seen.</param>
/// <param name="logger">Where lookups and puts are logged.</param>
internal sealed partial class DhtBackend(Func<CancellationToken, Task<Dht>> dht, TimeProvider time, ILogger logger) : IPkarrBackend
{
    public async Task<ResolveResult> ResolveAsync(PublicKey key, ResolvePolicy policy, CacheContext? context, CancellationToken cancellationToken)
    {
        if (policy == ResolvePolicy.CacheOnly)
        {
            return ResolveResult.NotFound;
        }

        var node = await dht(cancellationToken).ConfigureAwait(false);
        long? lowerBound = policy == ResolvePolicy.CacheFirst ? context?.DhtLowerBound : null;
        var get = node.GetMutable(key.Bytes.ToArray(), default, lowerBound);

        var scan = new Scan(key, time, logger);
        bool firstValid = true;
        var items = get.GetAsyncEnumerator(cancellationToken);
        bool continuing = false;
        try
        {
            while (await items.MoveNextAsync().ConfigureAwait(false))
            {
                if (scan.Add(items.Current) is not { } entry)
                {
                    continue;
                }

                if (firstValid && policy == ResolvePolicy.CacheFirst && (context is null || context.Final(entry)))
                {
                    // The spec's early answer: the first valid packet, when acceptable and not below the floor. With a
                    // sink for later packets the query runs on in the background and hands over its final most
                    // recent packet (§6.2); without one, disposing the enumerator unsubscribes from the lookup.
                    if (LaterPacket is { } later)
                    {
                        continuing = true;
                        _ = FinishAsync(items, scan, entry, later);
                    }

                    return ResolveResult.Of(entry);
                }

                firstValid = false;
            }
        }
        finally
        {
            if (!continuing)
            {
                await items.DisposeAsync().ConfigureAwait(false);
            }
        }

        long highestSeq = scan.HighestSeq;
        bool seenAny = scan.SeenAny;
        var mostRecent = scan.MostRecent;
        ResolveResult result;
        if (mostRecent is not null && mostRecent.Packet.Timestamp.AsSeq >= highestSeq)
        {
            result = ResolveResult.Of(mostRecent);
        }
        else if (seenAny)
        {
            result = ResolveResult.Of(ResolveError.InvalidSignedPacket(highestSeq));
        }
        else
        {
            var diagnostics = await get.Diagnostics.WaitAsync(cancellationToken).ConfigureAwait(false);
            LogLookup(logger, key, diagnostics.Queried, diagnostics.Responded, diagnostics.Values);
            result = ResolveResult.Of(diagnostics switch
            {
                { Queried: 0 } => new ResolveError(ResolveErrorKind.NoDhtNodesQueried),
                { Responded: 0 } => new ResolveError(ResolveErrorKind.NoResponses),
                _ when diagnostics.Responded - diagnostics.InvalidResponses - diagnostics.KrpcErrors == 0 =>
                    new ResolveError(ResolveErrorKind.NoUsableResponses),
                _ => ResolveError.NotFound,
            });
        }

        if (context is null)
        {
            return result;
        }

        var merged = new ResolveAccumulator(context);
        merged.Add(result);
        return merged.Result;
    }

    /// <summary>
    /// Receives the final most recent packet of a CacheFirst lookup that answered early with an older one: the query
    /// runs to its end in the background (on the resolve's cancellation token) so that the cache converges on the
    /// newest packet the DHT holds (spec §6.2). Null stops the lookup at the early answer.
    /// </summary>
    public Func<CachedPacket, Task>? LaterPacket { get; init; }

    public async Task<PublishResult> PublishAsync(SignedPacket packet, Timestamp? cas, CancellationToken cancellationToken)
    {
        DhtPublishOutcome outcome;
        if (!DhtPackets.TryToMutableItem(packet, out var item))
        {
            outcome = new DhtPublishOutcome(0, new PublishError(
                PublishErrorKind.UnexpectedResponses, Description: "the timestamp does not fit a BEP 44 seq (it is 2^63 or more)"));
        }
        else
        {
            var node = await dht(cancellationToken).ConfigureAwait(false);
            // A cas of 0 means "nothing published yet": nodes compare cas only with an item they hold, so it refuses
            // the put exactly where some value already is.
            var put = await node.PutMutableAsync(item, cas?.AsSeq, cancellationToken).ConfigureAwait(false);
            LogPut(logger, packet.PublicKey, put.Status, put.StoredOn);
            outcome = new DhtPublishOutcome(put.Succeeded ? put.StoredOn : 0, put.Status switch
            {
                // With compare-and-swap, one node that held another value means someone else wrote in between: the
                // put fails even where others stored it, so that two writers can never both believe they won.
                PutStatus.Stored when cas is not null && put.Conflicts > 0 => PublishError.NotMostRecent,
                PutStatus.Stored => null,
                PutStatus.NoClosestNodes => new PublishError(PublishErrorKind.NoDhtNodesQueried),
                PutStatus.Timeout => new PublishError(PublishErrorKind.NoResponses),
                PutStatus.CasFailed or PutStatus.NotMostRecent or PutStatus.ConflictRisk => PublishError.NotMostRecent,
                _ => new PublishError(PublishErrorKind.Rejected, put.ErrorCode ?? 0, "error response from DHT nodes"),
            });
        }

        return new PublishResult
        {
            PublicKey = packet.PublicKey,
            Error = outcome.Error,
            StoredOn = outcome.StoredOn,
            Dht = outcome,
        };
    }

    /// <summary>Reads the rest of an early-answered lookup and hands over its final packet when it is more recent.</summary>
    private async Task FinishAsync(IAsyncEnumerator<MutableItem> items, Scan scan, CachedPacket answered, Func<CachedPacket, Task> later)
    {
        try
        {
            await Task.Yield();
            while (await items.MoveNextAsync().ConfigureAwait(false))
            {
                scan.Add(items.Current);
            }

            // A newer invalid item is the key's current state: there is no packet to hand over then (§4.3).
            if (scan.MostRecent is { } final && final.Packet.Timestamp.AsSeq >= scan.HighestSeq && final.Packet.MoreRecentThan(answered.Packet))
            {
                LogLaterPacket(logger, scan.Key, answered.Packet.Timestamp, final.Packet.Timestamp);
                await later(final).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // The resolve's token fired (the client is stopping, or a race was decided): the early answer stands.
            LogLaterStopped(logger, scan.Key);
        }
        finally
        {
            await items.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT lookup for {Key} stopped after its early answer")]
    private static partial void LogLaterStopped(ILogger logger, PublicKey key);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT lookup for {Key} answered early with {Early}, and found {Final} later")]
    private static partial void LogLaterPacket(ILogger logger, PublicKey key, Timestamp early, Timestamp final);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT item for {Key} with seq {Seq} is signed but not a pkarr packet")]
    private static partial void LogInvalidItem(ILogger logger, PublicKey key, long seq);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT lookup for {Key} found nothing: {Queried} nodes queried, {Responded} responded, {Values} values")]
    private static partial void LogLookup(ILogger logger, PublicKey key, int queried, int responded, int values);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT put of {Key}: {Status}, stored on {StoredOn} nodes")]
    private static partial void LogPut(ILogger logger, PublicKey key, PutStatus status, int storedOn);

    /// <summary>The §4.3 fold over the items of one lookup: items below the highest seq seen are ignored, and the
    /// most recent valid packet is kept.</summary>
    private sealed class Scan(PublicKey key, TimeProvider time, ILogger logger)
    {
        public PublicKey Key => key;

        public long HighestSeq { get; private set; } = long.MinValue;

        public bool SeenAny { get; private set; }

        public CachedPacket? MostRecent { get; private set; }

        /// <summary>Counts <paramref name="item"/>; returns its packet when it is counted and valid.</summary>
        public CachedPacket? Add(MutableItem item)
        {
            if (item.Seq < HighestSeq)
            {
                return null;
            }

            HighestSeq = item.Seq;
            SeenAny = true;
            if (item.Seq < 0 || !DhtPackets.TryToSignedPacket(item, out var packet, out _))
            {
                LogInvalidItem(logger, key, item.Seq);
                return null;
            }

            var entry = CachedPacket.Seen(packet, time);
            if (entry.Supersedes(MostRecent))
            {
                MostRecent = entry;
            }

            return entry;
        }
    }
}
