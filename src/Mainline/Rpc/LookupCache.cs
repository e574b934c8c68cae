// Lookup cache and DHT size estimate (shared spec §8.5, §9.2): an LRU of 1000 targets → result nodes plus
// size samples; running sums are updated on every insert and eviction.
using Mainline.Krpc;
using Mainline.Routing;
using Mainline.Server;

namespace Mainline.Rpc;

/// <summary>A finished lookup: its result nodes and its size samples.</summary>
/// <remarks>A node keeps up to <see cref="LookupCache.Capacity"/> of these for its life, most of them find_node results
/// (a joining node's lookups), whose nodes carry no token: those are kept in their compact form, 26 bytes a node
/// instead of a candidate, a node, an endpoint and an address, and built again when read (seeding a lookup for the same
/// target). Results with tokens (gets), or with an endpoint that is not plain IPv4, are kept as they are.</remarks>
internal sealed class CachedLookup
{
    private readonly IReadOnlyList<Candidate>? _nodes;
    private readonly CompactNodes? _compact;

    public CachedLookup(
        NodeId target, IReadOnlyList<Candidate> nodes, double sizeSample, double responderSizeSample, int subnets, bool isFindNode)
    {
        Target = target;
        SizeSample = sizeSample;
        ResponderSizeSample = responderSizeSample;
        Subnets = subnets;
        IsFindNode = isFindNode;
        if (nodes.Count == 0)
        {
            _compact = CompactNodes.Empty;
        }
        else if (nodes.All(static c => c.Token is null && IpKey.TryPlainIPv4(c.Node.EndPoint.Address, out _)))
        {
            var bytes = new byte[nodes.Count * Compact.NodeSize];
            for (var i = 0; i < nodes.Count; i++)
            {
                Compact.WriteNode(nodes[i].Node.Id, nodes[i].Node.EndPoint, bytes.AsSpan(i * Compact.NodeSize));
            }

            _compact = new CompactNodes(bytes);
        }
        else
        {
            _nodes = nodes;
        }
    }

    public NodeId Target { get; }

    /// <summary>The result nodes; built anew on each read when kept compact (none of them then has a token).</summary>
    public IReadOnlyList<Candidate> Nodes => _nodes ?? [.. _compact!.Select(static n => new Candidate(n, null, 0))];

    public double SizeSample { get; }

    public double ResponderSizeSample { get; }

    public int Subnets { get; }

    public bool IsFindNode { get; }
}

internal sealed class LookupCache
{
    public const int Capacity = 1000;

    private readonly Lru<NodeId, CachedLookup> _entries;
    private double _sizeSum;
    private double _responderSizeSum = 1_000_000; // cold-start seed of the reference: keeps store sets at 20
    private int _responderCount;
    private double _subnetsSum = 20;

    public LookupCache() => _entries = new Lru<NodeId, CachedLookup>(Capacity) { Removed = OnRemoved };

    public int Count => _entries.Count;

    public void Add(CachedLookup entry)
    {
        _entries.Set(entry.Target, entry);
        _sizeSum += entry.SizeSample;
        _subnetsSum += entry.Subnets;
        if (!entry.IsFindNode)
        {
            _responderSizeSum += entry.ResponderSizeSample;
            _responderCount++;
        }
    }

    private void OnRemoved(CachedLookup entry)
    {
        _sizeSum -= entry.SizeSample;
        _subnetsSum -= entry.Subnets;
        if (!entry.IsFindNode)
        {
            _responderSizeSum -= entry.ResponderSizeSample;
            _responderCount--;
        }
    }

    public CachedLookup? Get(NodeId target) => _entries.TryGet(target, out var e) ? e : null;

    /// <summary>Reported estimate and its relative standard deviation 0.281 · n^−0.529.</summary>
    public (long Estimate, double StdDev) SizeEstimate()
    {
        var n = Math.Max(_entries.Count, 1);
        return ((long)Math.Floor(_sizeSum) / n, 0.281 * Math.Pow(n, -0.529));
    }

    /// <summary>The estimate used for the edk rule.</summary>
    public double ResponderSizeEstimate() => Math.Floor(_responderSizeSum) / Math.Max(_responderCount, 1);

    public double AverageSubnets() => _subnetsSum / Math.Max(_entries.Count, 1);
}
