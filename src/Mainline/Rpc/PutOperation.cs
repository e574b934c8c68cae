// A running put (shared spec §9.3): announce_peer, immutable or mutable; the store set comes from a get
// lookup (or a cached one less than 5 minutes old); every node with a token gets the write.
using Mainline.Krpc;
using Mainline.Routing;

namespace Mainline.Rpc;

internal enum PutKind : byte
{
    Announce,
    Immutable,
    Mutable,
}

internal sealed class PutOperation(PutKind kind, NodeId target)
{
    public PutKind Kind { get; } = kind;

    public NodeId Target { get; } = target;

    public int? AnnouncePort { get; init; }

    public byte[]? EncodedValue { get; init; }

    public MutableItem? Item { get; init; }

    public long? Cas { get; init; }

    /// <summary>Who gets the result: the caller, and the callers of the puts this one replaced.</summary>
    public List<Action<PutResult>> Callbacks { get; } = [];

    public HashSet<uint> InFlight { get; } = [];

    public Dictionary<long, int> Errors { get; } = [];

    public int Sent { get; set; }

    public int Successes { get; set; }

    public bool Started { get; set; }

    public bool Finished { get; private set; }

    public Query BuildQuery(NodeId ourId, byte[] token) => Kind switch
    {
        PutKind.Announce => new AnnouncePeerQuery(ourId, Target, AnnouncePort ?? 0, AnnouncePort is null, token),
        PutKind.Immutable => new PutImmutableQuery(ourId, token, EncodedValue!, Target),
        _ => new PutMutableQuery(ourId, token, Item!.KeyArray, Item.SaltArray, Item.Seq, Item.SignatureArray, Item.EncodedValueArray, Cas, Target),
    };

    /// <summary>The outcome once nothing is in flight, or an early 301/302 majority; null while undecided.</summary>
    public PutResult? Outcome(bool allAnswered)
    {
        var (code, count) = Errors.Count == 0 ? (0L, 0) : Errors.MaxBy(kv => kv.Value) is var top ? (top.Key, top.Value) : default;
        if (Kind == PutKind.Mutable && code is ErrorCodes.CasMismatch or ErrorCodes.SeqLessThanCurrent && count >= (Sent / 2) + 1)
        {
            return Fail(code);
        }

        if (!allAnswered)
        {
            return null;
        }

        if (Successes > 0)
        {
            return new PutResult(PutStatus.Stored, Target, Successes)
            {
                Conflicts = Errors.GetValueOrDefault(ErrorCodes.CasMismatch) + Errors.GetValueOrDefault(ErrorCodes.SeqLessThanCurrent),
            };
        }

        return count > 0 ? Fail(code) : new PutResult(PutStatus.Timeout, Target, 0);
    }

    private PutResult Fail(long code) => code switch
    {
        ErrorCodes.CasMismatch => new PutResult(PutStatus.CasFailed, Target, Successes, (int)code),
        ErrorCodes.SeqLessThanCurrent => new PutResult(PutStatus.NotMostRecent, Target, Successes, (int)code),
        _ => new PutResult(PutStatus.ErrorResponse, Target, Successes, (int)code),
    };

    /// <summary>Stops the put without a result (its callers were handed to a newer put).</summary>
    public void Cancel() => Finished = true;

    public void Finish(PutResult result)
    {
        if (Finished)
        {
            return;
        }

        Finished = true;
        foreach (var callback in Callbacks)
        {
            callback(result);
        }
    }

    /// <summary>Nodes that can receive the put: they answered with a token.</summary>
    public static IEnumerable<Candidate> WithTokens(IEnumerable<Candidate> nodes) => nodes.Where(n => n.Token is not null);
}
