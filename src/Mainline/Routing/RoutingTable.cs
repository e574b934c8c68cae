// Routing table (shared spec §7): up to 160 buckets indexed by bucket distance from our id, each ≤ K = 20
// nodes in insertion order, no replacement cache. Per-IP rule of §4.3: one non-secure node per IP, or up to
// eight secure nodes per IP with distinct first 21 id bits.
//
// Deviation recommended by §7.3 and taken here: a reply from a node already in the table (same id, same
// endpoint) refreshes its last-seen time; a node is dropped after 2 missed maintenance pings or when it has
// not been heard from for 15 minutes at a purge pass.
//
// Only contacts that answered one of our queries are added: responders to our lookups, and (unlike the
// reference, see docs/mainline-design.md) senders of queries once they answer our confirming ping. An entry is
// never replaced by a claim of its id from another endpoint: the node pings the holder first and calls Replace
// only when that ping fails (NodeCore.Server.cs), so a forged reply cannot evict a live node.
//
// Each bucket keeps the time it last changed (a node added or replaced in it, or one of its entries answering
// us), for BEP 5's bucket refresh (NodeCore.Refresh.cs): a bucket that is not full and has not changed for a
// refresh interval gets a lookup on a random id in its range. The reference refreshes only by looking up its own
// id, which leaves the far buckets, half, a quarter, … of the network, empty in a network of our nodes alone.
using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Mainline.Krpc;

namespace Mainline.Routing;

/// <summary>One routing-table entry, a value in its bucket's array.</summary>
/// <remarks>
/// Every node keeps ~150 of these for its whole life, so the entry holds its node's id and IPv4 address as values
/// rather than a <see cref="DhtNode"/> with its endpoint and address objects (four objects for 26 bytes of data);
/// <see cref="Node"/> builds one when asked. An endpoint that is not plain IPv4 is kept as given, so that
/// <see cref="IsAt"/> means exactly what <see cref="IPEndPoint.Equals(object?)"/> does. The entries of a bucket lie
/// side by side in its array: answering a find_node reads two or three buckets, and a node among 100,000 simulated
/// ones finds them in a few cache lines instead of one object each. A copy is a snapshot: the table changes its
/// entries in place (<see cref="RoutingTable"/>'s ref accessors).
/// </remarks>
internal struct RoutingEntry
{
    private readonly uint _ipv4;
    private readonly IPEndPoint? _other;

    public RoutingEntry(DhtNode node, long lastSeen)
    {
        Id = node.Id;
        Secure = node.IsSecure;
        RanksSecure = Secure && !NodeId.IsExempt(node.EndPoint.Address);
        Port = (ushort)node.EndPoint.Port;
        if (IpKey.TryPlainIPv4(node.EndPoint.Address, out var ipv4))
        {
            _ipv4 = ipv4;
        }
        else
        {
            _other = node.EndPoint;
        }

        LastSeen = lastSeen;
    }

    public readonly NodeId Id { get; }

    public readonly ushort Port { get; }

    public readonly bool Secure { get; }

    /// <summary>Secure by a BEP 42 proof: a valid id at an address that is not exempt (as <see cref="Candidate.RanksSecure"/>).</summary>
    public readonly bool RanksSecure { get; }

    /// <summary>The key of the node's IP in a per-IP index.</summary>
    public readonly IpKey Ip => _other is null ? new IpKey(_ipv4, null) : IpKey.Of(_other.Address);

    /// <summary>The /6 block of the node's IPv4 address (as <see cref="ClosestNodes.Subnet"/>).</summary>
    public readonly uint Subnet => _other is null ? _ipv4 >> 26 : ClosestNodes.Subnet(_other.Address);

    /// <summary>The node's endpoint (a new object for an IPv4 one).</summary>
    public readonly IPEndPoint EndPoint => _other ?? new IPEndPoint(IpKey.ToAddress(_ipv4), Port);

    /// <summary>The node (a new object).</summary>
    public readonly DhtNode Node => new(Id, EndPoint);

    public long LastSeen { get; set; }

    public int MissedPings { get; set; }

    /// <summary>The node's smoothed round trip to us, ms (7/8 of the last estimate, 1/8 of the new sample); 0 until
    /// one of our queries to it was answered.</summary>
    public long RttMs { get; private set; }

    /// <summary>True when the node is held at <paramref name="endPoint"/> (address family, address and port).</summary>
    public readonly bool IsAt(IPEndPoint endPoint) =>
        _other?.Equals(endPoint)
        ?? (endPoint.Port == Port && IpKey.TryPlainIPv4(endPoint.Address, out var ipv4) && ipv4 == _ipv4);

    /// <summary>Writes the node's compact form (26 bytes) at the start of <paramref name="b"/>.</summary>
    public readonly void WriteCompact(Span<byte> b)
    {
        if (_other is not null)
        {
            Compact.WriteNode(Id, _other, b);
            return;
        }

        Id.Bytes.CopyTo(b);
        BinaryPrimitives.WriteUInt32BigEndian(b[NodeId.Size..], _ipv4);
        BinaryPrimitives.WriteUInt16BigEndian(b[(NodeId.Size + 4)..], Port);
    }

    /// <summary>Adds a measured round trip; a sample is counted as at least 1 ms because 0 means "unknown".</summary>
    public void AddRoundTrip(long sampleMs)
    {
        sampleMs = Math.Max(1, sampleMs);
        RttMs = RttMs == 0 ? sampleMs : RttMs + ((sampleMs - RttMs) / 8);
    }

    public readonly bool IsStale(long now) => now - LastSeen > RoutingTable.StaleAfterMs;
}

/// <summary>Kademlia routing table of one node. Not thread-safe: owned by the node's state machine (NodeCore).</summary>
internal sealed class RoutingTable
{
    public const long StaleAfterMs = 15 * 60 * 1000;

    /// <summary>The farthest bucket: ids differing from ours in the first bit (half of the id space).</summary>
    public const int FarthestBucket = NodeId.Size * 8;

    /// <summary>What <see cref="LastChanged"/> says of a bucket that never changed.</summary>
    public const long Never = long.MinValue;

    // Indexed by depth, FarthestBucket − distance, and only as deep as the deepest bucket opened: the nearest
    // buckets of a network of n nodes are ~log2(n / K) below the farthest, so most of the 160 never exist.
    private List<RoutingEntry>?[] _buckets = [];

    // When each bucket last changed (a node added or replaced in it, or one of its entries answered us): BEP 5's
    // refresh picks the buckets that have not changed for a refresh interval.
    private long[] _changed = [];
    private readonly IpIndex _perIp = new();

    [ThreadStatic]
    private static List<(DistanceKey Key, int Depth, int Index)>? t_best;

    public RoutingTable(NodeId id) => Id = id;

    public NodeId Id { get; }

    public int Count { get; private set; }

    public bool IsEmpty => Count == 0;

    /// <summary>Every entry, nearest bucket first, each bucket in its order.</summary>
    public IEnumerable<RoutingEntry> Entries
    {
        get
        {
            for (var depth = _buckets.Length - 1; depth >= 0; depth--)
            {
                foreach (var entry in _buckets[depth] ?? [])
                {
                    yield return entry;
                }
            }
        }
    }

    /// <summary>Adds a node per §7.2; refreshes it when already present with the same endpoint. A node whose id
    /// is held at another endpoint is refused: see <see cref="Replace"/>.</summary>
    public bool Add(DhtNode node, long now)
    {
        if (node.Id == Id)
        {
            return false;
        }

        var bucket = OpenBucket(Id.BucketDistance(node.Id));
        var existing = IndexOf(bucket, node.Id);
        if (existing >= 0)
        {
            var old = bucket[existing];
            if (!old.IsAt(node.EndPoint))
            {
                return false;
            }

            old.LastSeen = now;
            old.MissedPings = 0;
            bucket.RemoveAt(existing);
            bucket.Add(old);
            Touch(node.Id, now);
            return true;
        }

        if (!HasRoom(bucket, node, now))
        {
            return false;
        }

        if (bucket.Count >= Limits.K)
        {
            _perIp.Remove(bucket[0].Ip, bucket[0].Id, bucket[0].Secure);
            bucket.RemoveAt(0);
            Count--;
        }

        var added = new RoutingEntry(node, now);
        if (bucket.Count == bucket.Capacity)
        {
            // 4, 8, 16, 20: the near buckets hold a few nodes, and a full one no more than K.
            bucket.Capacity = Math.Min(Limits.K, 2 * bucket.Capacity);
        }

        bucket.Add(added);
        _perIp.Add(added.Ip, node.Id, added.Secure);
        Count++;
        Touch(node.Id, now);
        return true;
    }

    /// <summary>True when <see cref="Add"/> would take <paramref name="node"/> as a new entry: its id is neither
    /// ours nor held, the per-IP rule allows it, and its bucket has room (or holds a node gone bad).</summary>
    public bool WouldAdd(DhtNode node, long now) =>
        node.Id != Id && Find(node.Id) is null && HasRoom(BucketAt(Id.BucketDistance(node.Id)) ?? [], node, now);

    /// <summary>Replaces the entry of <paramref name="current"/> (when still held at its endpoint) with
    /// <paramref name="replacement"/>, which claims the same id: called once the holder failed to answer a ping.</summary>
    public bool Replace(DhtNode current, DhtNode replacement, long now)
    {
        if (current.Id != replacement.Id || Find(current.Id) is not { } held || !held.IsAt(current.EndPoint))
        {
            return false;
        }

        Remove(current.Id);
        return Add(replacement, now);
    }

    // The bucket is read first: in a well-formed overlay most buckets are full, and every query a server answers asks
    // (NodeCore.ProbeQuerySender), so the per-IP rule and the BEP 42 check run only for a node that could enter.
    private bool HasRoom(List<RoutingEntry> bucket, DhtNode node, long now) =>
        (bucket.Count < Limits.K || bucket[0].IsStale(now) || bucket[0].MissedPings >= 2)
        && !_perIp.Violates(node, node.IsSecure);

    /// <summary>Marks a reply from <paramref name="id"/> at <paramref name="from"/>: refreshes a known entry.</summary>
    public void Seen(NodeId id, IPEndPoint from, long now)
    {
        ref var entry = ref FindAt(id, from);
        if (!Unsafe.IsNullRef(ref entry))
        {
            entry.LastSeen = now;
            entry.MissedPings = 0;
            Touch(id, now);
        }
    }

    /// <summary>Adds a round trip measured to <paramref name="id"/> at <paramref name="from"/> when it is held there.</summary>
    public void Measured(NodeId id, IPEndPoint from, long sampleMs)
    {
        ref var entry = ref FindAt(id, from);
        if (!Unsafe.IsNullRef(ref entry))
        {
            entry.AddRoundTrip(sampleMs);
        }
    }

    /// <summary>The smoothed round trip of <paramref name="id"/> when it is held at <paramref name="at"/>; 0 when
    /// unknown.</summary>
    public long KnownRoundTrip(NodeId id, IPEndPoint at)
    {
        ref var entry = ref FindAt(id, at);
        return Unsafe.IsNullRef(ref entry) ? 0 : entry.RttMs;
    }

    /// <summary>How many nodes the bucket at <paramref name="distance"/> (1–160, see <see cref="NodeId.BucketDistance"/>) holds.</summary>
    public int BucketCount(int distance) => BucketAt(distance)?.Count ?? 0;

    /// <summary>When the bucket at <paramref name="distance"/> last changed: a node added or replaced in it, or one of
    /// its entries answered us; <see cref="Never"/> when it never did.</summary>
    public long LastChanged(int distance) => FarthestBucket - distance is var depth && depth < _changed.Length ? _changed[depth] : Never;

    /// <summary>The bucket of our closest known neighbour (the smallest non-empty bucket distance); 0 when empty.</summary>
    public int ClosestBucket()
    {
        for (var depth = _buckets.Length - 1; depth >= 0; depth--)
        {
            if (_buckets[depth] is { Count: > 0 })
            {
                return FarthestBucket - depth;
            }
        }

        return 0;
    }

    /// <summary>A random id in the bucket at <paramref name="distance"/>: our id's leading bits up to the bucket,
    /// the next bit flipped, the rest from <paramref name="random"/> (20 random bytes).</summary>
    public NodeId RandomIdIn(int distance, ReadOnlySpan<byte> random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(distance, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(distance, FarthestBucket);
        Span<byte> id = stackalloc byte[NodeId.Size];
        Id.Bytes.CopyTo(id);
        var bit = FarthestBucket - distance; // index of the first differing bit, from the most significant
        var at = bit / 8;
        var mask = (byte)(0x80 >> (bit % 8));
        var below = (byte)(mask - 1); // the bits after the flipped one in its byte
        id[at] = (byte)(((id[at] ^ mask) & ~below & 0xFF) | (random[at] & below));
        random[(at + 1)..NodeId.Size].CopyTo(id[(at + 1)..]);
        return new NodeId(id);
    }

    /// <summary>Marks the bucket of <paramref name="id"/> (open: it holds or just held the node) as changed.</summary>
    private void Touch(NodeId id, long now) => _changed[FarthestBucket - Id.BucketDistance(id)] = now;

    private List<RoutingEntry>? BucketAt(int distance) => FarthestBucket - distance is var depth && depth < _buckets.Length ? _buckets[depth] : null;

    /// <summary>The bucket at <paramref name="distance"/>, created (and the arrays deepened) when it does not exist.</summary>
    private List<RoutingEntry> OpenBucket(int distance)
    {
        var depth = FarthestBucket - distance;
        if (depth >= _buckets.Length)
        {
            var old = _buckets.Length;
            Array.Resize(ref _buckets, depth + 1);
            Array.Resize(ref _changed, depth + 1);
            _changed.AsSpan(old).Fill(Never);
        }

        return _buckets[depth] ??= new List<RoutingEntry>(4);
    }

    public bool Remove(NodeId id)
    {
        var bucket = BucketAt(Id.BucketDistance(id));
        var index = bucket is null ? -1 : IndexOf(bucket, id);
        if (index < 0)
        {
            return false;
        }

        _perIp.Remove(bucket![index].Ip, id, bucket[index].Secure);
        bucket.RemoveAt(index);
        Count--;
        return true;
    }

    private static int IndexOf(List<RoutingEntry> bucket, NodeId id)
    {
        for (var i = 0; i < bucket.Count; i++)
        {
            if (bucket[i].Id == id)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A copy of the entry of <paramref name="id"/>, or null.</summary>
    public RoutingEntry? Find(NodeId id)
    {
        ref var entry = ref FindRef(id);
        return Unsafe.IsNullRef(ref entry) ? null : entry;
    }

    /// <summary>The entry of <paramref name="id"/> in its bucket, to change in place; a null ref when not held.</summary>
    private ref RoutingEntry FindRef(NodeId id)
    {
        if (BucketAt(Id.BucketDistance(id)) is { } bucket)
        {
            var entries = CollectionsMarshal.AsSpan(bucket);
            for (var i = 0; i < entries.Length; i++)
            {
                if (entries[i].Id == id)
                {
                    return ref entries[i];
                }
            }
        }

        return ref Unsafe.NullRef<RoutingEntry>();
    }

    /// <summary>The entry of <paramref name="id"/> when it is held at <paramref name="at"/>: a claim of the id from
    /// another endpoint is not the node we know.</summary>
    private ref RoutingEntry FindAt(NodeId id, IPEndPoint at)
    {
        ref var entry = ref FindRef(id);
        if (!Unsafe.IsNullRef(ref entry) && entry.IsAt(at))
        {
            return ref entry;
        }

        return ref Unsafe.NullRef<RoutingEntry>();
    }

    /// <summary>Removes stale nodes and nodes that missed two pings; returns the nodes to ping (not seen for 10 s).</summary>
    public List<DhtNode> Purge(long now)
    {
        var toPing = new List<DhtNode>();
        for (var depth = _buckets.Length - 1; depth >= 0; depth--)
        {
            var bucket = _buckets[depth];
            if (bucket is null)
            {
                continue;
            }

            for (var i = 0; i < bucket.Count;)
            {
                var gone = bucket[i];
                if (gone.IsStale(now) || gone.MissedPings >= 2)
                {
                    bucket.RemoveAt(i);
                    _perIp.Remove(gone.Ip, gone.Id, gone.Secure);
                    Count--;
                }
                else
                {
                    i++;
                }
            }

            foreach (ref var e in CollectionsMarshal.AsSpan(bucket))
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
    /// <remarks>
    /// Every server reply runs this, so it reads as few buckets as it can. Bucket d holds the ids that first differ
    /// from ours at bit d (counting from the least significant, 1-based), so their distance to the target agrees
    /// with D = our id XOR target above that bit and has it flipped: the buckets cover disjoint ranges of distance.
    /// The buckets where D has the bit set (the target's own bucket is the highest of them) come first, highest
    /// bit first; then those where it is clear, lowest bit first. In that order each bucket is entirely farther
    /// than the ones before; the best <paramref name="count"/> read so far are kept in a sorted list, and once it
    /// holds <paramref name="count"/> secure nodes no later bucket can place a node before them (a secure one is
    /// farther, a non-secure one ranks after every secure one), so the walk stops.
    /// </remarks>
    public CompactNodes Closest(NodeId target, int count = Limits.K)
    {
        if (count <= 0)
        {
            return CompactNodes.Empty;
        }

        var nodes = new byte[count * Compact.NodeSize];
        return new CompactNodes(new ArraySegment<byte>(nodes, 0, WriteClosest(target, nodes)));
    }

    /// <summary>Writes the closest nodes to <paramref name="target"/> (as <see cref="Closest"/>, as many as fit) into
    /// <paramref name="destination"/>, in compact form; returns the bytes written.</summary>
    public int WriteClosest(NodeId target, Span<byte> destination)
    {
        var count = destination.Length / Compact.NodeSize;
        if (count <= 0)
        {
            return 0;
        }

        // Every reply to a find_node or get runs this: the working list is the thread's, reused (no call nests).
        var best = t_best ??= [];
        best.Clear();
        var nearest = FarthestBucket - _buckets.Length + 1;
        for (var d = FarthestBucket; d >= nearest && !Full(best, count); d--)
        {
            if (DistanceBit(target, d))
            {
                Keep(best, FarthestBucket - d, count, target);
            }
        }

        for (var d = nearest; d <= FarthestBucket && !Full(best, count); d++)
        {
            if (!DistanceBit(target, d))
            {
                Keep(best, FarthestBucket - d, count, target);
            }
        }

        for (var i = 0; i < best.Count; i++)
        {
            CollectionsMarshal.AsSpan(_buckets[best[i].Depth])[best[i].Index].WriteCompact(destination[(i * Compact.NodeSize)..]);
        }

        var written = best.Count * Compact.NodeSize;
        best.Clear(); // holds no entry past the call
        return written;

        static bool Full(List<(DistanceKey Key, int Depth, int Index)> best, int count) => best.Count == count && !best[^1].Key.NotSecure;
    }

    /// <summary>Bit <paramref name="d"/> (1 = least significant, 160 = most) of our id XOR <paramref name="target"/>.</summary>
    private bool DistanceBit(NodeId target, int d)
    {
        var fromTop = FarthestBucket - d;
        var mask = 0x80 >> (fromTop & 7);
        return ((Id.Bytes[fromTop >> 3] ^ target.Bytes[fromTop >> 3]) & mask) != 0;
    }

    /// <summary>Merges the bucket at <paramref name="depth"/> into <paramref name="best"/>, the best
    /// <paramref name="count"/> so far, each kept as its sort key and its place in the buckets.</summary>
    private void Keep(List<(DistanceKey Key, int Depth, int Index)> best, int depth, int count, NodeId target)
    {
        if (depth >= _buckets.Length)
        {
            return;
        }

        var bucket = CollectionsMarshal.AsSpan(_buckets[depth]);
        for (var i = 0; i < bucket.Length; i++)
        {
            var key = DistanceKey.Of(target, bucket[i].Id, bucket[i].Secure);
            if (best.Count == count && key.CompareTo(best[^1].Key) >= 0)
            {
                continue;
            }

            var at = best.Count;
            while (at > 0 && key.CompareTo(best[at - 1].Key) < 0)
            {
                at--;
            }

            best.Insert(at, (key, depth, i));
            if (best.Count > count)
            {
                best.RemoveAt(count);
            }
        }
    }

    /// <summary>The "edk" store set of §9.1 among our entries for <paramref name="target"/>: where a lookup starts.
    /// The entries in the order of a lookup's candidate list (<see cref="ClosestNodes"/>: ranked secure first, then
    /// by distance), without building one; the table's entries already keep the per-IP rule among themselves.</summary>
    public List<DhtNode> StoreSet(NodeId target, double sizeEstimate, double averageSubnets)
    {
        // Sorted by where each entry lies (bucket depth, index), not by copies of the entries.
        var keys = new DistanceKey[Count];
        var at = new (int Depth, int Index)[Count];
        var i = 0;
        for (var depth = _buckets.Length - 1; depth >= 0; depth--)
        {
            var bucket = CollectionsMarshal.AsSpan(_buckets[depth]);
            for (var j = 0; j < bucket.Length; j++)
            {
                keys[i] = DistanceKey.Of(target, bucket[j].Id, bucket[j].RanksSecure);
                at[i++] = (depth, j);
            }
        }

        Array.Sort(keys, at);
        var entries = new EntriesAt(_buckets, at);
        var take = ClosestNodes.StoreSetCount(target, entries, static e => e.Id, static e => e.Subnet, sizeEstimate, averageSubnets);
        var nodes = new List<DhtNode>(take);
        for (var k = 0; k < take; k++)
        {
            nodes.Add(entries[k].Node);
        }

        return nodes;
    }

    /// <summary>The entries at the given places of the buckets, as a list (copies on read).</summary>
    private sealed class EntriesAt(List<RoutingEntry>?[] buckets, (int Depth, int Index)[] at) : IReadOnlyList<RoutingEntry>
    {
        public RoutingEntry this[int index] => buckets[at[index].Depth]![at[index].Index];

        public int Count => at.Length;

        public IEnumerator<RoutingEntry> GetEnumerator()
        {
            for (var i = 0; i < at.Length; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Non-stale nodes for persisting and reuse as bootstrap.</summary>
    public List<DhtNode> Export(long now) => [.. Entries.Where(e => !e.IsStale(now)).Select(e => e.Node)];
}
