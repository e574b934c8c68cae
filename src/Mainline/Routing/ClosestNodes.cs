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
    public bool RanksSecure => Secure && !NodeId.IsExempt(Node.EndPoint.Address);

    public byte[]? Token { get; } = token;

    public long TokenTime { get; } = tokenTime;

    /// <summary>In a lookup: hops from its first nodes to this one (0 for those it started from).</summary>
    public int Hop { get; init; }
}

/// <summary>A sorted, de-duplicated list of nodes around a target.</summary>
/// <remarks>The reference keeps every node ever reported; only the first 20 drive visiting and the size
/// estimate, so a lookup list may be capped (we use 500): a hostile reply full of ids then costs little.
/// Every lookup builds two of these and inserts every node each reply lists, so the list keeps no hash tables: an
/// id is found by its distance to the target (unique to the id) and the per-IP rule of §4.3 checks a sorted list
/// of the IPv4 addresses, reading the nodes themselves only when the address is already there.</remarks>
internal sealed class ClosestNodes(NodeId target, int capacity = int.MaxValue)
{
    private readonly List<Candidate> _nodes = [];

    // The sort key of _nodes[i], computed once per node: a lookup inserts every node each reply lists.
    private readonly List<DistanceKey> _keys = [];

    // The plain IPv4 addresses of the nodes, sorted, one per node; _others counts the nodes at any other address.
    private readonly List<uint> _ipv4 = [];
    private int _others;

    public NodeId Target { get; } = target;

    public IReadOnlyList<Candidate> Nodes => _nodes;

    public int Count => _nodes.Count;

    /// <summary>Whether the list holds <paramref name="id"/>: its distance to the target, ranked secure or not.</summary>
    public bool Contains(NodeId id) =>
        IndexOf(DistanceKey.Of(Target, id, secure: true)) >= 0 || IndexOf(DistanceKey.Of(Target, id, secure: false)) >= 0;

    public bool Add(DhtNode node, byte[]? token = null, long tokenTime = 0) => Add(new Candidate(node, token, tokenTime));

    public bool Add(Candidate candidate)
    {
        var node = candidate.Node;
        var key = DistanceKey.Of(Target, node.Id, candidate.RanksSecure);
        var index = IndexOf(key);
        if (index >= 0 || IndexOf(key with { NotSecure = !key.NotSecure }) >= 0)
        {
            return false; // the id is here already
        }

        index = ~index;
        var ip = IpKey.Of(node.EndPoint.Address);
        if (index >= capacity || ViolatesPerIp(ip, node.Id, candidate.Secure))
        {
            return false;
        }

        _nodes.Insert(index, candidate);
        _keys.Insert(index, key);
        AddIp(ip);
        if (_nodes.Count > capacity)
        {
            RemoveAtIndex(_nodes.Count - 1);
        }

        return true;
    }

    /// <summary>Removes the nodes at <paramref name="endPoint"/>, but the one with id <paramref name="except"/>.</summary>
    public void RemoveAt(IPEndPoint endPoint, NodeId? except)
    {
        // Every reply runs this for its responder, which is nearly always the one node at its IP: the sorted addresses
        // and the responder's own place in the list show that without reading every node.
        if (IpKey.TryPlainIPv4(endPoint.Address, out var ipv4))
        {
            var nodesAtIp = CountAt(ipv4);
            if (nodesAtIp == 0 || (nodesAtIp == 1 && except is { } id && IsAt(id, endPoint)))
            {
                return;
            }
        }

        for (var i = _nodes.Count - 1; i >= 0; i--)
        {
            var c = _nodes[i];
            if (c.Node.EndPoint.Equals(endPoint) && c.Node.Id != except)
            {
                RemoveAtIndex(i);
            }
        }
    }

    private int IndexOf(DistanceKey key) => CollectionsMarshal.AsSpan(_keys).BinarySearch(key);

    /// <summary>How many nodes of the list are at the plain IPv4 address <paramref name="ipv4"/>.</summary>
    private int CountAt(uint ipv4)
    {
        var sorted = CollectionsMarshal.AsSpan(_ipv4);
        var at = sorted.BinarySearch(ipv4);
        if (at < 0)
        {
            return 0;
        }

        int first = at, last = at;
        while (first > 0 && sorted[first - 1] == ipv4)
        {
            first--;
        }

        while (last < sorted.Length - 1 && sorted[last + 1] == ipv4)
        {
            last++;
        }

        return last - first + 1;
    }

    /// <summary>Whether the list holds <paramref name="id"/> at <paramref name="endPoint"/>.</summary>
    private bool IsAt(NodeId id, IPEndPoint endPoint)
    {
        foreach (var secure in (ReadOnlySpan<bool>)[true, false])
        {
            if (IndexOf(DistanceKey.Of(Target, id, secure)) is >= 0 and var index)
            {
                return _nodes[index].Node.EndPoint.Equals(endPoint);
            }
        }

        return false;
    }

    private void RemoveAtIndex(int index)
    {
        var ip = IpKey.Of(_nodes[index].Node.EndPoint.Address);
        _nodes.RemoveAt(index);
        _keys.RemoveAt(index);
        if (ip.Other is not null)
        {
            _others--;
        }
        else if (CollectionsMarshal.AsSpan(_ipv4).BinarySearch(ip.IPv4) is >= 0 and var at)
        {
            _ipv4.RemoveAt(at);
        }
    }

    private void AddIp(IpKey ip)
    {
        if (ip.Other is not null)
        {
            _others++;
            return;
        }

        var at = CollectionsMarshal.AsSpan(_ipv4).BinarySearch(ip.IPv4);
        _ipv4.Insert(at < 0 ? ~at : at, ip.IPv4);
    }

    /// <summary>The per-IP rule (as <see cref="IpIndex.Violates(IpKey, NodeId, bool)"/>): another node at the IP
    /// refuses a node that is not secure; a node that is not secure there refuses any; a secure one there refuses a
    /// secure node with the same first 21 id bits.</summary>
    private bool ViolatesPerIp(IpKey ip, NodeId id, bool secure)
    {
        var maybeThere = ip.Other is null ? CollectionsMarshal.AsSpan(_ipv4).BinarySearch(ip.IPv4) >= 0 : _others > 0;
        if (!maybeThere)
        {
            return false;
        }

        // Rare outside a testnet (where every node is at 127.0.0.1): read the nodes at the IP.
        foreach (var c in _nodes)
        {
            if (IpKey.Of(c.Node.EndPoint.Address) == ip && (!secure || !c.Secure || c.Node.Id.Prefix21 == id.Prefix21))
            {
                return true;
            }
        }

        return false;
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
