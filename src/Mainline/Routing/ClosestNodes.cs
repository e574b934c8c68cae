// Candidate / responder list of a lookup (shared spec §8.2) and the store-set and size-estimate maths of §9.
//
// Order: every BEP 42-secure node before every non-secure node, then ascending XOR distance to the target.
// Loopback, private and link-local addresses are exempt from BEP 42 (any id is "valid" there), so they prove
// nothing and do not rank as secure. A node is refused when its id is already present or when the per-IP rule
// matches an entry (for which exempt addresses do count as secure, so that a testnet's nodes share 127.0.0.1).
using System.Net;
using System.Runtime.InteropServices;

namespace Mainline.Routing;

/// <summary>A node in a lookup list, with the write token it gave us (responders only).</summary>
internal sealed class Candidate(DhtNode node, byte[]? token, long tokenTime)
{
    public DhtNode Node { get; } = node;

    public bool Secure { get; } = node.IsSecure;

    /// <summary>Secure by a BEP 42 proof: a valid id at an address that is not exempt.</summary>
    public bool RanksSecure { get; } = node.IsSecure && !NodeId.IsExempt(node.EndPoint.Address);

    public byte[]? Token { get; } = token;

    public long TokenTime { get; } = tokenTime;

    /// <summary>In a lookup: hops from its first nodes to this one (0 for those it started from).</summary>
    public int Hop { get; init; }
}

/// <summary>A sorted, de-duplicated list of nodes around a target.</summary>
/// <remarks>The reference keeps every node ever reported; only the first 20 drive visiting and the size
/// estimate, so a lookup list may be capped (we use 500): a hostile reply full of ids then costs little.</remarks>
internal sealed class ClosestNodes(NodeId target, int capacity = int.MaxValue)
{
    private readonly List<Candidate> _nodes = [];

    // The sort key of _nodes[i], computed once per node: a lookup inserts every node each reply lists.
    private readonly List<DistanceKey> _keys = [];
    private readonly HashSet<NodeId> _ids = [];
    private readonly IpIndex _perIp = new();

    public NodeId Target { get; } = target;

    public IReadOnlyList<Candidate> Nodes => _nodes;

    public int Count => _nodes.Count;

    public bool Contains(NodeId id) => _ids.Contains(id);

    public bool Add(DhtNode node, byte[]? token = null, long tokenTime = 0) => Add(new Candidate(node, token, tokenTime));

    public bool Add(Candidate candidate)
    {
        var node = candidate.Node;
        if (_ids.Contains(node.Id) || _perIp.Violates(node, candidate.Secure))
        {
            return false;
        }

        var key = DistanceKey.Of(Target, node.Id, candidate.RanksSecure);
        var index = CollectionsMarshal.AsSpan(_keys).BinarySearch(key);
        index = index < 0 ? ~index : index;
        if (index >= capacity)
        {
            return false;
        }

        _nodes.Insert(index, candidate);
        _keys.Insert(index, key);
        _ids.Add(node.Id);
        _perIp.Add(node, candidate.Secure);
        if (_nodes.Count > capacity)
        {
            var last = _nodes[^1];
            _nodes.RemoveAt(_nodes.Count - 1);
            _keys.RemoveAt(_keys.Count - 1);
            _ids.Remove(last.Node.Id);
            _perIp.Remove(last.Node, last.Secure);
        }

        return true;
    }

    /// <summary>Removes the nodes at <paramref name="endPoint"/>, but the one with id <paramref name="except"/>.</summary>
    public void RemoveAt(IPEndPoint endPoint, NodeId? except)
    {
        for (var i = _nodes.Count - 1; i >= 0; i--)
        {
            var c = _nodes[i];
            if (c.Node.EndPoint.Equals(endPoint) && c.Node.Id != except)
            {
                _nodes.RemoveAt(i);
                _keys.RemoveAt(i);
                _ids.Remove(c.Node.Id);
                _perIp.Remove(c.Node, c.Secure);
            }
        }
    }

    /// <summary>The "edk" store set of §9.1.</summary>
    public List<Candidate> StoreSet(double sizeEstimate, double averageSubnets) =>
        _nodes.GetRange(0, StoreSetCount(Target, _nodes, static c => c.Node.Id, static c => Subnet(c.Node.EndPoint.Address), sizeEstimate, averageSubnets));

    /// <summary>How many of <paramref name="ordered"/> (closest first) the "edk" store set of §9.1 takes: nodes up to
    /// the expected distance of the K-th node and the average number of /6 subnets, at least K, at most 255.</summary>
    internal static int StoreSetCount<T>(
        NodeId target, IReadOnlyList<T> ordered, Func<T, NodeId> id, Func<T, uint> subnet, double sizeEstimate, double averageSubnets)
    {
        var edk = ExpectedDistanceOfKth(sizeEstimate);
        var subnets = new HashSet<uint>();
        var count = 0;
        foreach (var node in ordered)
        {
            var d = target.Distance128(id(node));
            subnets.Add(subnet(node));
            if (d >= edk && subnets.Count >= averageSubnets)
            {
                break;
            }

            count++;
        }

        // The reference asserts ≤ 255 nodes; we cap explicitly.
        return Math.Min(Math.Min(Math.Max(count, Limits.K), ordered.Count), 255);
    }

    /// <summary>20 · (2^128 − 1) / (N + 1), saturating.</summary>
    internal static UInt128 ExpectedDistanceOfKth(double sizeEstimate)
    {
        var n = sizeEstimate < 0 ? 0 : sizeEstimate;
        var edk = 20.0 * Math.Pow(2, 128) / (n + 1);
        return edk >= Math.Pow(2, 128) ? UInt128.MaxValue : (UInt128)edk;
    }

    /// <summary>Top 6 bits of the IPv4 address (a /6 block).</summary>
    internal static uint Subnet(IPAddress address)
    {
        Span<byte> b = stackalloc byte[4];
        return address.TryWriteBytes(b, out var w) && w == 4 ? (uint)(b[0] >> 2) : 0;
    }

    /// <summary>Least-squares DHT size estimate of §9.2 from the first ≤ 20 nodes.</summary>
    public double SizeEstimate() => EstimateSize(Target, _nodes.Take(Limits.K).Select(c => c.Node.Id));

    /// <summary>Distinct /6 subnets among the first 20 (20 when empty).</summary>
    public int SubnetCount()
    {
        if (_nodes.Count == 0)
        {
            return 20;
        }

        return _nodes.Take(Limits.K).Select(c => Subnet(c.Node.EndPoint.Address)).Distinct().Count();
    }

    internal static double EstimateSize(NodeId target, IEnumerable<NodeId> ids)
    {
        double sum = 0;
        var n = 0;
        foreach (var id in ids)
        {
            n++;
            sum += n * (double)target.Distance128(id);
        }

        if (n == 0 || sum == 0)
        {
            return 0;
        }

        var max = Math.Pow(2, 128);
        return n * (n + 1.0) * ((2.0 * n) + 1) / 6.0 * max / sum;
    }
}
