namespace Mainline;

/// <summary>The typed outcome of a put or announce.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Target">The target that was written.</param>
/// <param name="StoredOn">How many nodes accepted the write.</param>
/// <param name="ErrorCode">The most common KRPC error code when <paramref name="Status"/> is an error, else null.</param>
public sealed record PutResult(PutStatus Status, NodeId Target, int StoredOn, int? ErrorCode = null)
{
    /// <summary>How many nodes refused the item because they hold another value (BEP 44 errors 301 and 302), even
    /// when others stored it: a compare-and-swap writer that needs every node to have held the expected value
    /// treats any refusal as a conflict.</summary>
    public int Conflicts { get; init; }

    /// <summary>True when the node stopped before the put ended: the public API throws ObjectDisposedException
    /// instead of returning this result.</summary>
    internal bool Stopped { get; init; }

    /// <summary>True when the item was stored on at least one node.</summary>
    public bool Succeeded => Status == PutStatus.Stored;
}
