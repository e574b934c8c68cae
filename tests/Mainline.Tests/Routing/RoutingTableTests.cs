using System.Net;
using CsCheck;
using Mainline.Routing;
using Mainline.Rpc;

namespace Mainline.Tests.Routing;

public sealed class RoutingTableTests
{
    private static IPEndPoint Local(int port) => new(IPAddress.Loopback, port);

    private static DhtNode Node(IPEndPoint ep) => new(NodeId.Random(), ep);

    [Fact]
    public void Refuses_own_id_and_keeps_at_most_k_per_bucket()
    {
        var own = NodeId.Random();
        var table = new RoutingTable(own);
        Assert.False(table.Add(new DhtNode(own, Local(1)), 0));
        for (var port = 1; port < 2000; port++)
        {
            table.Add(Node(Local(port)), 0);
        }

        Assert.All(table.Entries.GroupBy(e => own.BucketDistance(e.Node.Id)), g => Assert.True(g.Count() <= Limits.K));
        // Roughly half of random ids fall in the farthest bucket, which fills up.
        Assert.Equal(Limits.K, table.Entries.Count(e => own.BucketDistance(e.Node.Id) == 160));
        Assert.Equal(table.Count, table.Entries.Count());
    }

    [Fact]
    public void Full_bucket_replaces_only_a_stale_oldest()
    {
        var own = NodeId.Parse(new string('0', 40));
        var table = new RoutingTable(own);
        DhtNode Far(int port)
        {
            var b = NodeId.Random().ToArray();
            b[0] |= 0x80;
            return new DhtNode(new NodeId(b), Local(port));
        }

        for (var i = 1; i <= Limits.K; i++)
        {
            Assert.True(table.Add(Far(i), 0));
        }

        Assert.False(table.Add(Far(100), 1000));
        Assert.True(table.Add(Far(101), RoutingTable.StaleAfterMs + 1));
        Assert.Equal(Limits.K, table.Count);
    }

    [Fact]
    public void A_held_id_at_another_endpoint_is_refused_and_replaced_only_through_Replace()
    {
        var table = new RoutingTable(NodeId.Random());
        var id = NodeId.Random();
        var holder = new DhtNode(id, Local(1));
        var claimant = new DhtNode(id, Local(2));
        Assert.True(claimant.IsSecure); // loopback counts as secure: the case the old table replaced at once
        Assert.True(table.WouldAdd(holder, 0));
        Assert.True(table.Add(holder, 0));
        Assert.False(table.WouldAdd(holder, 0)); // held: a refresh, not a new entry
        Assert.False(table.WouldAdd(claimant, 0));
        Assert.False(table.Add(claimant, 0));
        Assert.Equal(Local(1), table.Find(id)!.Value.Node.EndPoint);

        Assert.False(table.Replace(new DhtNode(id, Local(3)), claimant, 0)); // not the current holder
        Assert.False(table.Replace(holder, new DhtNode(NodeId.Random(), Local(2)), 0)); // not the same id
        Assert.True(table.Replace(holder, claimant, 5));
        Assert.Equal(Local(2), table.Find(id)!.Value.Node.EndPoint);
        Assert.Equal(1, table.Count);
        Assert.False(table.Replace(holder, claimant, 6)); // the holder is gone already
    }

    [Fact]
    public void Per_ip_rule_one_non_secure_node_per_public_ip()
    {
        var table = new RoutingTable(NodeId.Random());
        var ip = IPAddress.Parse("8.8.8.8");
        Assert.True(table.Add(new DhtNode(NodeId.Random(), new IPEndPoint(ip, 1)), 0));
        Assert.False(table.Add(new DhtNode(NodeId.Random(), new IPEndPoint(ip, 2)), 0));
        // Secure ids for one IP: up to eight distinct 21-bit prefixes.
        var ip2 = IPAddress.Parse("124.31.75.21");
        var added = 0;
        for (var i = 0; i < 200; i++)
        {
            if (table.Add(new DhtNode(NodeId.CreateSecure(ip2), new IPEndPoint(ip2, 1000 + i)), 0))
            {
                added++;
            }
        }

        Assert.Equal(8, added);
    }

    [Fact]
    public void Replies_refresh_and_purge_drops_stale()
    {
        var table = new RoutingTable(NodeId.Random());
        var a = Node(Local(1));
        var b = Node(Local(2));
        table.Add(a, 0);
        table.Add(b, 0);
        Assert.True(table.Add(a, RoutingTable.StaleAfterMs)); // refresh
        var toPing = table.Purge(RoutingTable.StaleAfterMs + 5);
        Assert.Equal(1, table.Count);
        Assert.Empty(toPing);
        Assert.Single(table.Export(RoutingTable.StaleAfterMs + 5));
        // Two missed pings evict.
        table.Purge(RoutingTable.StaleAfterMs + 20_000);
        table.Purge(RoutingTable.StaleAfterMs + 40_000);
        table.Purge(RoutingTable.StaleAfterMs + 60_000);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Closest_is_sorted_secure_first()
    {
        var target = NodeId.Random();
        var table = new RoutingTable(NodeId.Random());
        for (var i = 1; i <= 300; i++)
        {
            table.Add(Node(Local(i)), 0);
        }

        var publicIp = IPAddress.Parse("8.8.4.4");
        var insecure = new DhtNode(target, new IPEndPoint(publicIp, 9)); // the closest possible id, but not BEP 42-valid
        Assert.False(insecure.IsSecure);
        table.Add(insecure, 0);
        var closest = table.Closest(target);
        Assert.Equal(Limits.K, closest.Count);
        Assert.DoesNotContain(insecure, closest);
        for (var i = 1; i < closest.Count; i++)
        {
            Assert.True(target.CompareDistance(closest[i - 1].Id, closest[i].Id) < 0);
        }
    }

    [Fact]
    public void Closest_reads_buckets_in_distance_order_and_gives_what_a_full_sort_gives()
    {
        var random = new SeededEntropy(42);
        var bits = new byte[NodeId.Size];
        NodeId InBucket(RoutingTable table, int d)
        {
            random.Fill(bits);
            return table.RandomIdIn(d, bits);
        }

        for (var round = 0; round < 200; round++)
        {
            var table = new RoutingTable(NodeId.Random());

            // Every bucket distance from 135 to 160, a few nodes each, loopback (secure) and public without a valid
            // id (non-secure), so that every group of buckets and both ranks are in play.
            var port = 1;
            for (var d = 135; d <= RoutingTable.FarthestBucket; d++)
            {
                for (var i = 0; i < 1 + random.Next(4); i++)
                {
                    var endPoint = random.Next(4) == 0
                        ? new IPEndPoint(IPAddress.Parse($"8.8.{random.Next(250)}.{random.Next(250)}"), port++)
                        : Local(port++);
                    table.Add(new DhtNode(InBucket(table, d), endPoint), 0);
                }
            }

            // Targets inside the table's span, past it, and our own id.
            var target = round % 10 == 0 ? table.Id : InBucket(table, 130 + random.Next(31));
            var count = 1 + random.Next(Limits.K);
            List<DhtNode> expected =
            [
                .. table.Entries
                    .OrderBy(e => e.Secure ? 0 : 1)
                    .ThenBy(e => e.Node.Id, Comparer<NodeId>.Create(target.CompareDistance))
                    .Take(count)
                    .Select(e => e.Node),
            ];
            Assert.Equal(expected, table.Closest(target, count));
        }
    }

    [Fact]
    public void A_random_id_in_a_bucket_lies_in_that_bucket_and_varies_below_its_leading_bits()
    {
        var table = new RoutingTable(NodeId.Random());
        var random = new byte[NodeId.Size];
        for (var d = 1; d <= RoutingTable.FarthestBucket; d++)
        {
            Array.Fill(random, (byte)0xFF);
            Assert.Equal(d, table.Id.BucketDistance(table.RandomIdIn(d, random)));
            Array.Fill(random, (byte)0x00);
            Assert.Equal(d, table.Id.BucketDistance(table.RandomIdIn(d, random)));
        }

        // The bits after the flipped one come from the random bytes.
        Array.Fill(random, (byte)0x00);
        var low = table.RandomIdIn(RoutingTable.FarthestBucket, random);
        Array.Fill(random, (byte)0xFF);
        var high = table.RandomIdIn(RoutingTable.FarthestBucket, random);
        Assert.Equal(0x00, low.Bytes[0] & 0x7F);
        Assert.Equal(0x7F, high.Bytes[0] & 0x7F);
        Assert.True(low.Bytes[1..].SequenceEqual(new byte[NodeId.Size - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.RandomIdIn(0, random));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.RandomIdIn(RoutingTable.FarthestBucket + 1, random));
    }

    [Fact]
    public void A_bucket_changes_when_a_node_is_added_or_answers_and_not_on_a_refused_add()
    {
        var table = new RoutingTable(NodeId.Random());
        var random = new byte[NodeId.Size];
        Assert.Equal(RoutingTable.Never, table.LastChanged(RoutingTable.FarthestBucket));
        Assert.Equal(0, table.ClosestBucket());

        var far = new DhtNode(table.RandomIdIn(RoutingTable.FarthestBucket, random), Local(1));
        Assert.True(table.Add(far, 100));
        Assert.Equal(100, table.LastChanged(RoutingTable.FarthestBucket));
        Assert.Equal(RoutingTable.Never, table.LastChanged(RoutingTable.FarthestBucket - 1));
        Assert.Equal(RoutingTable.FarthestBucket, table.ClosestBucket());

        table.Seen(far.Id, Local(2), 200); // another endpoint: not the entry
        Assert.Equal(100, table.LastChanged(RoutingTable.FarthestBucket));
        table.Seen(far.Id, Local(1), 300);
        Assert.Equal(300, table.LastChanged(RoutingTable.FarthestBucket));
        Assert.False(table.Add(new DhtNode(far.Id, Local(3)), 400)); // its id at another endpoint is refused
        Assert.Equal(300, table.LastChanged(RoutingTable.FarthestBucket));

        var near = new DhtNode(table.RandomIdIn(150, random), Local(4));
        Assert.True(table.Add(near, 500));
        Assert.Equal(500, table.LastChanged(150));
        Assert.Equal(150, table.ClosestBucket());
        Assert.Equal(1, table.BucketCount(150));
        Assert.Equal(1, table.BucketCount(RoutingTable.FarthestBucket));
    }

    [Fact]
    public void An_entry_is_at_exactly_the_endpoint_it_was_added_with()
    {
        var v4 = new IPEndPoint(IPAddress.Parse("203.0.113.7"), 6881);
        var entry = new RoutingEntry(new DhtNode(NodeId.Random(), v4), 0);
        Assert.True(entry.IsAt(new IPEndPoint(IPAddress.Parse("203.0.113.7"), 6881)));
        Assert.Equal(v4, entry.EndPoint);
        Assert.Equal(new DhtNode(entry.Id, v4), entry.Node);
        Assert.Equal(IpKey.Of(v4.Address), entry.Ip);

        // As IPEndPoint.Equals has it: another port or address, or the same IPv4 address mapped into IPv6, is not it.
        Assert.False(entry.IsAt(new IPEndPoint(IPAddress.Parse("203.0.113.7"), 6882)));
        Assert.False(entry.IsAt(new IPEndPoint(IPAddress.Parse("203.0.113.8"), 6881)));
        Assert.False(entry.IsAt(new IPEndPoint(IPAddress.Parse("203.0.113.7").MapToIPv6(), 6881)));
        Assert.NotEqual(IpKey.Of(IPAddress.Parse("203.0.113.7").MapToIPv6()), entry.Ip);

        // An endpoint that is not plain IPv4 is kept as given.
        var mapped = new IPEndPoint(IPAddress.Parse("203.0.113.7").MapToIPv6(), 6881);
        var other = new RoutingEntry(new DhtNode(NodeId.Random(), mapped), 0);
        Assert.True(other.IsAt(new IPEndPoint(IPAddress.Parse("::ffff:203.0.113.7"), 6881)));
        Assert.False(other.IsAt(v4));
        Assert.Equal(mapped, other.EndPoint);
    }

    [Fact]
    public void The_table_store_set_is_the_lookup_list_store_set_of_its_entries()
    {
        var random = new Random(7);
        for (var round = 0; round < 20; round++)
        {
            var table = new RoutingTable(NodeId.Random());
            for (var i = 0; i < 300; i++)
            {
                // Public addresses (secure ids on some, so both ranks occur) and private ones, which never rank secure.
                var address = new IPAddress([(byte)(random.Next(2) == 0 ? 10 : 1 + random.Next(200)), (byte)random.Next(256), (byte)random.Next(256), 1]);
                var id = random.Next(3) == 0 ? NodeId.CreateSecure(address) : NodeId.Random();
                table.Add(new DhtNode(id, new IPEndPoint(address, 1 + i)), 0);
            }

            var target = NodeId.Random();
            var list = new ClosestNodes(target);
            foreach (var entry in table.Entries)
            {
                Assert.True(list.Add(entry.Node)); // the table keeps the per-IP rule already
            }

            var (size, subnets) = (Math.Pow(10, random.Next(1, 7)), random.Next(1, 25));
            Assert.Equal(list.StoreSet(size, subnets).Select(c => c.Node), table.StoreSet(target, size, subnets));
        }
    }

    [Fact]
    public void Entries_come_nearest_bucket_first()
    {
        var table = new RoutingTable(NodeId.Random());
        var random = new byte[NodeId.Size];
        var distances = new[] { 160, 150, 158, 155 };
        for (var i = 0; i < distances.Length; i++)
        {
            Assert.True(table.Add(new DhtNode(table.RandomIdIn(distances[i], random), Local(i + 1)), 0));
        }

        Assert.Equal([150, 155, 158, 160], table.Entries.Select(e => table.Id.BucketDistance(e.Id)));
        Assert.Equal(150, table.ClosestBucket());
        Assert.Equal(RoutingTable.Never, table.LastChanged(140)); // deeper than any bucket opened
        Assert.Equal(0, table.BucketCount(1));
        Assert.True(table.Remove(table.Entries.First().Id));
        Assert.Equal(155, table.ClosestBucket());
    }
}

public sealed class ClosestNodesTests
{
    private static IPAddress Private(int i) => new([10, (byte)(i >> 8), (byte)i, 1]);

    // Few addresses (public, private, an IPv4-mapped IPv6 one) and few ids, secure at their address or not, so that
    // random sequences keep meeting the same id, the same IP and the same 21-bit prefix.
    private static readonly IPAddress[] Addresses =
        [IPAddress.Parse("8.8.8.1"), IPAddress.Parse("8.8.8.2"), IPAddress.Parse("9.9.9.9"), Private(1), IPAddress.Parse("::ffff:8.8.8.1")];

    private static readonly Gen<DhtNode> GenNode = Gen.Select(Gen.Int[0, Addresses.Length - 1], Gen.Int[0, 2], Gen.Bool, Gen.Byte[0, 7]).Select((a, port, secure, r) =>
    {
        var address = Addresses[a];
        var random = new byte[NodeId.Size];
        random[19] = r; // the 3 bits BEP 42 takes from the random byte: the secure id's 21-bit prefix
        random[1] = (byte)(r * 16);
        var id = secure ? NodeId.CreateSecure(address, random) : new NodeId(random);
        return new DhtNode(id, new IPEndPoint(address, 6881 + port));
    });

    [Fact]
    public void Adds_and_removes_exactly_as_a_list_kept_by_scanning()
    {
        // The model: sorted by rank and distance, an id once, the per-IP rule checked against every node, capped.
        Gen.Select(GenNode, Gen.Int[0, 4]).Array[1, 80].Sample(ops =>
        {
            var target = new NodeId(new byte[NodeId.Size]);
            var list = new ClosestNodes(target, capacity: 8);
            var model = new List<Candidate>();
            foreach (var (node, op) in ops)
            {
                if (op <= 1)
                {
                    // A timeout (no exception) or a reply from the node (its own id stays).
                    NodeId? except = op == 0 ? null : node.Id;
                    list.RemoveAt(node.EndPoint, except);
                    model.RemoveAll(c => c.Node.EndPoint.Equals(node.EndPoint) && c.Node.Id != except);
                }
                else
                {
                    var candidate = new Candidate(node, null, 0);
                    var key = DistanceKey.Of(target, node.Id, candidate.RanksSecure);
                    var index = model.Count(c => DistanceKey.Of(target, c.Node.Id, c.RanksSecure).CompareTo(key) < 0);
                    var refused = model.Any(c => c.Node.Id == node.Id)
                        || model.Any(c => c.Node.EndPoint.Address.Equals(node.EndPoint.Address)
                            && (!candidate.Secure || !c.Secure || c.Node.Prefix21 == node.Prefix21))
                        || index >= 8;
                    Assert.Equal(!refused, list.Add(candidate));
                    if (!refused)
                    {
                        model.Insert(index, candidate);
                        if (model.Count > 8)
                        {
                            model.RemoveAt(8);
                        }
                    }
                }

                Assert.Equal(model.Select(c => c.Node), list.Nodes.Select(c => c.Node));
                Assert.True(model.All(c => list.Contains(c.Node.Id)));
                Assert.Equal(model.Any(c => c.Node.Id == node.Id), list.Contains(node.Id));
            }
        }, iter: 3000);
    }

    [Fact]
    public void A_node_removed_or_pushed_out_frees_its_ip()
    {
        var target = new NodeId(new byte[NodeId.Size]);
        var list = new ClosestNodes(target, capacity: 1);
        var ip = IPAddress.Parse("8.8.8.8");
        var far = new DhtNode(new NodeId([0xFF, .. new byte[NodeId.Size - 1]]), new IPEndPoint(ip, 1));
        var near = new DhtNode(new NodeId([0x01, .. new byte[NodeId.Size - 1]]), new IPEndPoint(IPAddress.Parse("8.8.4.4"), 1));
        var again = new DhtNode(new NodeId([0xFE, .. new byte[NodeId.Size - 1]]), new IPEndPoint(ip, 2));
        Assert.True(list.Add(far));
        Assert.False(list.Add(again)); // one non-secure node per IP
        Assert.True(list.Add(near)); // pushes the far one out of the capped list
        Assert.False(list.Contains(far.Id));
        list.RemoveAt(near.EndPoint, except: null);
        Assert.Equal(0, list.Count);
        Assert.True(list.Add(again)); // 8.8.8.8 is free again
        Assert.True(list.Contains(again.Id));
    }

    [Fact]
    public void Dedups_ids_and_orders()
    {
        var target = NodeId.Random();
        var list = new ClosestNodes(target);
        var n = new DhtNode(NodeId.Random(), new IPEndPoint(IPAddress.Loopback, 1));
        Assert.True(list.Add(n));
        Assert.False(list.Add(n with { EndPoint = new IPEndPoint(IPAddress.Loopback, 2) }));
        for (var i = 0; i < 50; i++)
        {
            list.Add(new DhtNode(NodeId.Random(), new IPEndPoint(IPAddress.Loopback, 10 + i)));
        }

        for (var i = 1; i < list.Count; i++)
        {
            Assert.True(target.CompareDistance(list.Nodes[i - 1].Node.Id, list.Nodes[i].Node.Id) < 0);
        }
    }

    [Fact]
    public void Capped_list_keeps_the_closest()
    {
        var target = NodeId.Random();
        var list = new ClosestNodes(target, 50);
        // Distinct private IPs: on one IP the per-IP rule would refuse ids sharing their first 21 bits.
        var all = Enumerable.Range(0, 2000).Select(i => new DhtNode(NodeId.Random(), new IPEndPoint(Private(i), 1 + i))).ToList();
        foreach (var n in all)
        {
            list.Add(n);
        }

        Assert.Equal(50, list.Count);
        var best = all.Order(Comparer<DhtNode>.Create((a, b) => target.CompareDistance(a.Id, b.Id))).Take(50).Select(n => n.Id);
        Assert.Equal(best, list.Nodes.Select(c => c.Node.Id));
    }

    [Fact]
    public void Size_estimate_of_a_uniform_network_is_close()
    {
        // 2500 uniformly random ids; estimate from the 20 closest to several targets averages near 2500.
        var ids = Enumerable.Range(0, 2500).Select(_ => NodeId.Random()).ToArray();
        double sum = 0;
        const int lookups = 16;
        for (var l = 0; l < lookups; l++)
        {
            var target = NodeId.Random();
            var closest = ids.Order(Comparer<NodeId>.Create(target.CompareDistance)).Take(20);
            sum += ClosestNodes.EstimateSize(target, closest);
        }

        var mean = sum / lookups;
        Assert.InRange(mean, 2500 * 0.75, 2500 * 1.25);
    }

    [Fact]
    public void Store_set_has_at_least_k_and_stops_at_edk()
    {
        var target = NodeId.Random();
        var list = new ClosestNodes(target);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(list.Add(new DhtNode(NodeId.Random(), new IPEndPoint(Private(i), 1 + i))));
        }

        Assert.Equal(Limits.K, list.StoreSet(1_000_000, 1).Count);
        // All in 10/8: one /6 subnet never reaches an average of 20, so the set spans every responder.
        Assert.Equal(100, list.StoreSet(1_000_000, 20).Count);
        // A tiny estimated network: every node is "closer than expected", the set covers them all.
        Assert.Equal(100, list.StoreSet(1, 1).Count);
    }
}
