// Folds per-source resolve results into one (shared spec pkarr.md §5.5). Used for the items of one DHT query, the
// answers of several relays, and then once more for the DHT result against the relays' result.

using Pkarr.Packets;

namespace Pkarr.Client.Backends;

/// <summary>The resolve merge of spec §5.5. Not thread-safe: one owner adds results, then reads <see cref="Result"/>.</summary>
internal sealed class ResolveAccumulator(CacheContext? context)
{
    private readonly Dictionary<ResolveError, int> _errors = [];
    private CachedPacket? _mostRecent;
    private CachedPacket? _fresh;
    private long? _invalidSeq;
    private int _empty;

    /// <summary>Adds one source's result.</summary>
    public void Add(ResolveResult result)
    {
        if (result.Found)
        {
            Add(result.Entry);
        }
        else
        {
            Add(result.Error);
        }
    }

    /// <summary>Adds a packet a source returned.</summary>
    public void Add(CachedPacket entry)
    {
        if (context is not null && context.BelowFloor(entry.Packet))
        {
            _empty++;
            return;
        }

        if (entry.Supersedes(_mostRecent))
        {
            _mostRecent = entry;
        }

        if (context is not null && context.Acceptable(entry) && entry.Supersedes(_fresh))
        {
            _fresh = entry;
        }
    }

    /// <summary>Adds an error a source returned.</summary>
    public void Add(ResolveError error)
    {
        switch (error.Kind)
        {
            case ResolveErrorKind.NotFound:
                _empty++;
                break;
            case ResolveErrorKind.InvalidSignedPacket when context is not null && context.InvalidSeqCovered(error.Seq):
                _empty++;
                break;
            case ResolveErrorKind.InvalidSignedPacket:
                _invalidSeq = Math.Max(_invalidSeq ?? long.MinValue, error.Seq);
                break;
            default:
                _errors[error] = _errors.GetValueOrDefault(error) + 1;
                break;
        }
    }

    /// <summary>The merged result: the fresh (or else most recent) packet unless a newer invalid value hides it; else
    /// not found when any source answered empty; else the most frequent error, ties going to the most specific.</summary>
    public ResolveResult Result
    {
        get
        {
            var packet = _fresh ?? _mostRecent;
            if (_invalidSeq is { } seq)
            {
                // The timestamp is unsigned and the seq signed: compare their values, not the timestamp's seq cast,
                // which turns a timestamp of 2^63 or more negative.
                return packet is not null && (seq < 0 || packet.Packet.Timestamp.Microseconds >= (ulong)seq)
                    ? ResolveResult.Of(packet)
                    : ResolveResult.Of(ResolveError.InvalidSignedPacket(seq));
            }

            if (packet is not null)
            {
                return ResolveResult.Of(packet);
            }

            if (_empty > 0)
            {
                return ResolveResult.NotFound;
            }

            ResolveError? best = null;
            int bestCount = 0;
            foreach (var (error, count) in _errors)
            {
                if (best is null || count > bestCount || (count == bestCount && error.MoreSpecificThan(best)))
                {
                    best = error;
                    bestCount = count;
                }
            }

            return ResolveResult.Of(best ?? new ResolveError(ResolveErrorKind.UnexpectedResponses));
        }
    }
}
