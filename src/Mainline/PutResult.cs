namespace Mainline;

/// <summary>The typed outcome of a put or announce.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Target">The target that was written.</param>
/// <param name="StoredOn">How many nodes accepted the write.</param>
/// <param name="ErrorCode">The most common KRPC error code when <paramref name="Status"/> is an error, else null.</param>
public sealed record PutResult(PutStatus Status, NodeId Target, int StoredOn, int? ErrorCode = null)
{
    /// <summary>True when the item was stored on at least one node.</summary>
    public bool Succeeded => Status == PutStatus.Stored;
}
