// Routing table (shared spec §7): up to 160 buckets indexed by bucket distance from our id, each ≤ K = 20
// nodes in insertion order, no replacement cache. Per-IP rule of §4.3: one non-secure node per IP, or up to
// eight secure nodes per IP with distinct first 21 id bits.
//
// Deviation recommended by §7.3 and taken here: a reply from a node already in the table (same id, same
// endpoint) refreshes its last-seen time; a node is dropped after 2 missed maintenance pings or when it has
// not been heard from for 15 minutes at a purge pass.
using System.Net;

namespace Mainline.Routing;

/// <summary>One routing-table entry.</summary>
internal sealed class RoutingEntry(DhtNode node, long lastSeen)
{
    public DhtNode Node { get; } = node;

    public bool Secure { get; } = node.IsSecure;

    public long LastSeen { get; set; } = lastSeen;

    public int MissedPings { get; set; }

    public bool IsStale(long now) => now - LastSeen > RoutingTable.StaleAfterMs;
}

/// <summary>Kademlia routing table of one node. Not thread-safe: owned by the node's loop.</summary>
internal sealed class RoutingTable
{
    public const long StaleAfterMs = 15 * 60 * 1000;

    private readonly List<RoutingEntry>?[] _buckets = new List<RoutingEntry>?[NodeId.Size * 8 + 1];

    public RoutingTable(NodeId id) => Id = id;

    public NodeId Id { get; }

    public int Count { get; private set; }

    public bool IsEmpty => Count == 0;

    public IEnumerable<RoutingEntry> Entries => _buckets.Where(b => b is not null).SelectMany(b => b!);

    /// <summary>Adds a node per §7.2; refreshes it when already present with the same endpoint.</summary>
    public bool Add(DhtNode node, long now)
    {
        if (node.Id == Id)
        {
            return false;
        }

        var index = Id.BucketDistance(node.Id);
        var bucket = _buckets[index] ??= [];
        var existing = bucket.FindIndex(e => e.Node.Id == node.Id);
        if (existing >= 0)
        {
            var old = bucket[existing];
            if (old.Node.EndPoint.Equals(node.EndPoint))
            {
                old.LastSeen = now;
                old.MissedPings = 0;
                bucket.RemoveAt(existing);
                bucket.Add(old);
                return true;
            }

            if (!node.IsSecure)
            {
                return false;
            }
        }

        if (ViolatesIpRule(node, Entries.Select(e => e.Node), ignoreId: node.Id))
        {
            return false;
        }

        if (existing >= 0)
        {
            bucket.RemoveAt(existing);
            Count--;
        }
        else if (bucket.Count >= Limits.K)
        {
            if (!bucket[0].IsStale(now) && bucket[0].MissedPings < 2)
            {
                return false;
            }

            bucket.RemoveAt(0);
            Count--;
        }

        bucket.Add(new RoutingEntry(node, now));
        Count++;
        return true;
    }

    /// <summary>Marks a reply from <paramref name="id"/> at <paramref name="from"/>: refreshes a known entry.</summary>
    public void Seen(NodeId id, IPEndPoint from, long now)
    {
        var bucket = _buckets[Id.BucketDistance(id)];
        var entry = bucket?.Find(e => e.Node.Id == id && e.Node.EndPoint.Equals(from));
        if (entry is not null)
        {
            entry.LastSeen = now;
            entry.MissedPings = 0;
        }
    }

    public bool Remove(NodeId id)
    {
        var bucket = _buckets[Id.BucketDistance(id)];
        if (bucket is not null && bucket.RemoveAll(e => e.Node.Id == id) > 0)
        {
            Count--;
            return true;
        }

        return false;
    }

    public RoutingEntry? Find(NodeId id) => _buckets[Id.BucketDistance(id)]?.Find(e => e.Node.Id == id);

    /// <summary>Removes stale nodes and nodes that missed two pings; returns the nodes to ping (not seen for 10 s).</summary>
    public List<DhtNode> Purge(long now)
    {
        var toPing = new List<DhtNode>();
        foreach (var bucket in _buckets)
        {
            if (bucket is null)
            {
                continue;
            }

            Count -= bucket.RemoveAll(e => e.IsStale(now) || e.MissedPings >= 2);
            foreach (var e in bucket)
            {
                if (now - e.LastSeen > 10_000)
                {
                    e.MissedPings++;
                    toPing.Add(e.Node);
                }
            }
        }

        return toPing;
    }

    /// <summary>The K closest nodes to <paramref name="target"/> (secure first, then by distance, per-IP rule).</summary>
    public List<DhtNode> Closest(NodeId target, int count = Limits.K)
    {
        var list = new ClosestNodes(target);
        foreach (var e in Entries)
        {
            list.Add(e.Node);
        }

        return [.. list.Nodes.Take(count).Select(c => c.Node)];
    }

    /// <summary>Non-stale nodes for persisting and reuse as bootstrap.</summary>
    public List<DhtNode> Export(long now) => [.. Entries.Where(e => !e.IsStale(now)).Select(e => e.Node)];

    /// <summary>The per-IP rule of §4.3 against <paramref name="others"/>.</summary>
    public static bool ViolatesIpRule(DhtNode node, IEnumerable<DhtNode> others, NodeId? ignoreId = null)
    {
        var secure = node.IsSecure;
        foreach (var other in others)
        {
            if (ignoreId is { } ignore && other.Id == ignore)
            {
                continue;
            }

            if (!other.EndPoint.Address.Equals(node.EndPoint.Address))
            {
                continue;
            }

            if (!secure || !other.IsSecure || SameFirst21Bits(other.Id, node.Id))
            {
                return true;
            }
        }

        return false;
    }

    private static bool SameFirst21Bits(NodeId a, NodeId b) =>
        a.Bytes[0] == b.Bytes[0] && a.Bytes[1] == b.Bytes[1] && (a.Bytes[2] & 0xF8) == (b.Bytes[2] & 0xF8);
}
