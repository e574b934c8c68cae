// What a caller's thread may read of the routing table: the loop publishes an immutable copy of its nodes (at most
// once a tick, when the table changed) so that a lookup's first query can leave from the thread that asks for it,
// without waiting for the loop thread to wake (see LocalNode.PrepareFirstQuery).
using Mainline.Krpc;

namespace Mainline.Routing;

internal sealed class RoutingSnapshot
{
    private readonly DhtNode[] _secure;
    private readonly DhtNode[] _other;

    public RoutingSnapshot(RoutingTable table, bool readOnly)
    {
        Id = table.Id;
        ReadOnly = readOnly;
        Version = table.Version;
        var secure = new List<DhtNode>();
        var other = new List<DhtNode>();
        foreach (var entry in table.Entries)
        {
            (entry.Secure ? secure : other).Add(entry.Node);
        }

        _secure = [.. secure];
        _other = [.. other];
    }

    /// <summary>Our id when the copy was made.</summary>
    public NodeId Id { get; }

    /// <summary>Whether our queries carried <c>ro</c> (client mode) when the copy was made.</summary>
    public bool ReadOnly { get; }

    /// <summary>The table's <see cref="RoutingTable.Version"/> when the copy was made.</summary>
    public int Version { get; }

    /// <summary>The node <see cref="RoutingTable.Closest"/> would put first: secure nodes first, then by distance.</summary>
    public DhtNode? Closest(NodeId target) => Closest(_secure, target) ?? Closest(_other, target);

    private static DhtNode? Closest(DhtNode[] nodes, NodeId target)
    {
        DhtNode? best = null;
        foreach (var node in nodes)
        {
            if (best is null || target.CompareDistance(node.Id, best.Id) < 0)
            {
                best = node;
            }
        }

        return best;
    }
}
