// Lookup cache and DHT size estimate (shared spec §8.5, §9.2): an LRU of 1000 targets → result nodes plus
// size samples; running sums are updated on every insert and eviction.
using Mainline.Routing;
using Mainline.Server;

namespace Mainline.Rpc;

internal sealed record CachedLookup(
    NodeId Target, IReadOnlyList<Candidate> Nodes, double SizeSample, double ResponderSizeSample, int Subnets, bool IsFindNode);

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
