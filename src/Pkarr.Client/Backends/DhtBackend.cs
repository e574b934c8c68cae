// The DHT backend (shared spec pkarr.md §4.1, §4.3, §5.4): a pkarr packet is the BEP 44 mutable item of its key
// (no salt, seq = timestamp). Items arrive verified by Mainline and are converted without a second signature check.
//
// Resolve over the stream of items (§4.3): an item counts only if its seq is at least the highest seen so far; a
// counted item whose value is not a DNS packet is an "invalid signed packet" and hides every older valid packet,
// because BEP 44 freshness is by seq. CacheFirst answers from the first valid counted item when it is acceptable.

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

        long highestSeq = long.MinValue;
        bool seenAny = false;
        bool firstValid = true;
        CachedPacket? mostRecent = null;
        await foreach (var item in get.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (item.Seq < highestSeq)
            {
                continue;
            }

            highestSeq = item.Seq;
            seenAny = true;
            if (item.Seq < 0 || !DhtPackets.TryToSignedPacket(item, out var packet, out var error))
            {
                LogInvalidItem(logger, key, item.Seq);
                continue;
            }

            var entry = CachedPacket.Seen(packet, time);
            if (entry.Supersedes(mostRecent))
            {
                mostRecent = entry;
            }

            if (firstValid && policy == ResolvePolicy.CacheFirst && (context is null || context.Final(entry)))
            {
                // The spec's early answer: the first valid packet, when acceptable and not below the floor, ends the
                // query (disposing the enumerator unsubscribes from the lookup).
                return ResolveResult.Of(entry);
            }

            firstValid = false;
        }

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

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT item for {Key} with seq {Seq} is signed but not a pkarr packet")]
    private static partial void LogInvalidItem(ILogger logger, PublicKey key, long seq);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT lookup for {Key} found nothing: {Queried} nodes queried, {Responded} responded, {Values} values")]
    private static partial void LogLookup(ILogger logger, PublicKey key, int queried, int responded, int values);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT put of {Key}: {Status}, stored on {StoredOn} nodes")]
    private static partial void LogPut(ILogger logger, PublicKey key, PutStatus status, int storedOn);
}
