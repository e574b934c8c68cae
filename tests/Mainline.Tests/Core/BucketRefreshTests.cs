using System.Net;
using Mainline.Krpc;
using Mainline.Routing;
using Mainline.Rpc;

namespace Mainline.Tests.Core;

/// <summary>250 in-memory cores joined one by one through the first, then a refresh interval later: built once.</summary>
public sealed class RefreshedNetwork
{
    public RefreshedNetwork() => Net = BucketRefreshTests.Joined(refresh: true, waitRefreshTick: true);

    internal CoreNetwork Net { get; }
}

/// <summary>BEP 5 bucket refresh (NodeCore.Refresh.cs) and query senders entering the table (NodeCore.Server.cs).</summary>
public sealed class BucketRefreshTests(RefreshedNetwork refreshed) : IClassFixture<RefreshedNetwork>
{
    private const int Nodes = 250;

    /// <summary>One join every 200 ms: the pings confirming query senders are rate limited per second.</summary>
    private const long JoinIntervalMs = 200;

    private static readonly IPEndPoint Nowhere = new(IPAddress.Loopback, 9);

    private static DhtOptions Options(bool refresh, bool probeSenders = true)
    {
        var options = CoreNetwork.Options();
        options.BucketRefresh = refresh;
        options.ProbeQuerySenders = probeSenders;
        return options;
    }

    /// <summary>Cores join one after another through the first, each running its self-lookup and the refresh pass
    /// that follows to the end; then, optionally, a refresh interval passes (every core's refresh tick).</summary>
    internal static CoreNetwork Joined(bool refresh, bool probeSenders = true, bool waitRefreshTick = false, int nodes = Nodes)
    {
        var net = new CoreNetwork();
        var options = Options(refresh, probeSenders);
        var first = net.Add(8000, seed: 1, options: options);
        for (var i = 1; i < nodes; i++)
        {
            var core = net.Add(8000 + i, seed: 1 + (ulong)i, [first.LocalEndPoint], options: options);
            var join = net.Run(core, c => c.StartSelfLookup());
            net.RunUntil(() => join.Done && core.RefreshLookup is null);
            net.AdvanceTo(i * JoinIntervalMs);
        }

        if (waitRefreshTick)
        {
            var tick = net.Now + (long)options.RefreshInterval.TotalMilliseconds;
            net.RunUntil(
                () => net.Now >= tick && net.Cores.All(c => c.RefreshLookup is null && c.PendingCount == 0),
                maxMs: 2 * tick, maxDatagrams: 1_000_000);
        }

        return net;
    }

    /// <summary>Buckets from the farthest down to the closest neighbour's that hold no node while another core of
    /// the network lies in their range.</summary>
    private static int MissingBuckets(NodeCore core, CoreNetwork net)
    {
        var inNetwork = new bool[RoutingTable.FarthestBucket + 1];
        foreach (var other in net.Cores.Where(c => c != core))
        {
            inNetwork[core.Id.BucketDistance(other.Id)] = true;
        }

        var closest = core.Table.ClosestBucket();
        var missing = 0;
        for (var d = RoutingTable.FarthestBucket; d >= closest && closest > 0; d--)
        {
            missing += inNetwork[d] && core.Table.BucketCount(d) == 0 ? 1 : 0;
        }

        return missing;
    }

    private static int WithoutMissingBuckets(CoreNetwork net) => net.Cores.Skip(1).Count(c => MissingBuckets(c, net) == 0);

    [Fact]
    public void After_the_join_and_a_refresh_tick_every_bucket_with_nodes_in_range_holds_one_in_nearly_every_node()
    {
        // Measured: 249 of 249 joined cores with refresh, 146 without (123 as the reference, which also keeps
        // query senders out).
        Assert.InRange(WithoutMissingBuckets(refreshed.Net), 237, Nodes - 1);
        Assert.True(refreshed.Net.Cores.Sum(c => c.RefreshesStarted) > Nodes);

        var unrefreshed = Joined(refresh: false, waitRefreshTick: true);
        Assert.InRange(WithoutMissingBuckets(unrefreshed), 0, 200);
        Assert.True(unrefreshed.Cores.All(c => c.RefreshesStarted == 0));
    }

    [Fact]
    public void A_lookup_for_a_random_target_reaches_the_true_20_closest_live_nodes()
    {
        var net = refreshed.Net;
        var joined = net.Cores.Skip(1).ToList();
        var reached = new List<int>();
        var random = new SeededEntropy(7);
        Span<byte> bytes = stackalloc byte[NodeId.Size];
        for (var i = 0; i < 20; i++)
        {
            var from = joined[(i * 13) % joined.Count];
            random.Fill(bytes);
            var target = new NodeId(bytes);
            var lookup = net.Run(from, c => c.StartLookup(new LookupKey(target, LookupKind.FindNode, null), null));
            net.RunUntil(() => lookup.Done);
            var truth = net.Cores.Where(c => c != from).Select(c => c.Id)
                .Order(Comparer<NodeId>.Create(target.CompareDistance)).Take(Limits.K).ToHashSet();
            reached.Add(lookup.ResultNodes.Count(n => truth.Contains(n.Node.Id)));
        }

        // Measured: all 20 in every lookup (7 on average with the reference's tables, which keep query senders out).
        Assert.True(reached.Min() >= 18, $"reached {string.Join(", ", reached)}");
        Assert.True(reached.Average() >= 19.5, $"reached {string.Join(", ", reached)}");
    }

    [Fact]
    public void Refresh_lookups_follow_the_join_one_at_a_time_farthest_bucket_first()
    {
        // Around a newcomer X: the bootstrap node and 12 nodes in X's bucket 150, 3 in each bucket from 151 to 160
        // (none refreshing, none probing query senders). X's self-lookup meets the nodes near it and few far ones.
        var random = new SeededEntropy(3);
        var bytes = new byte[NodeId.Size];
        random.Fill(bytes);
        var around = new RoutingTable(new NodeId(bytes));
        NodeId In(int distance)
        {
            random.Fill(bytes);
            return around.RandomIdIn(distance, bytes);
        }

        var net = new CoreNetwork();
        var others = Options(refresh: false, probeSenders: false);
        var bootstrap = net.Add(8000, seed: 1, id: In(150), options: others);
        var ids = Enumerable.Range(0, 12).Select(_ => In(150))
            .Concat(Enumerable.Range(151, 10).SelectMany(d => Enumerable.Range(0, 3).Select(_ => In(d)))).ToList();
        for (var i = 0; i < ids.Count; i++)
        {
            var other = net.Add(8001 + i, seed: 2 + (ulong)i, [bootstrap.LocalEndPoint], ids[i], others);
            var otherJoin = net.Run(other, c => c.StartSelfLookup());
            net.RunUntil(() => otherJoin.Done);
            net.AdvanceTo(net.Now + JoinIntervalMs);
        }

        var core = net.Add(8999, seed: 999, [bootstrap.LocalEndPoint], around.Id, Options(refresh: true));
        var from = net.Log.Count;
        var join = net.Run(core, c => c.StartSelfLookup());
        net.RunUntil(() => join.Done && core.RefreshLookup is null && core.RefreshCursor == 0);

        // The find_nodes the new core sent, in order: its own id first, then one block per refreshed bucket.
        var targets = net.Log.Skip(from).Where(d => d.From.Equals(core.LocalEndPoint))
            .Select(d => KrpcCodec.TryDecode(d.Datagram, out var m) == DecodeStatus.Ok && m!.Query is FindNodeQuery f ? f.Target : (NodeId?)null)
            .OfType<NodeId>().ToList();
        var blocks = new List<NodeId>();
        foreach (var target in targets)
        {
            if (blocks.Count == 0 || blocks[^1] != target)
            {
                Assert.DoesNotContain(target, blocks); // a lookup never sends again once the next one started
                blocks.Add(target);
            }
        }

        Assert.Equal(core.Id, blocks[0]);
        var distances = blocks.Skip(1).Select(core.Id.BucketDistance).ToList();
        Assert.Equal(core.RefreshesStarted, distances.Count);
        Assert.True(distances.Count >= 2, $"refreshed buckets {string.Join(", ", distances)}");
        Assert.Equal(distances.OrderDescending(), distances); // farthest first
        Assert.Equal(RoutingTable.FarthestBucket, distances[0]);
        Assert.All(distances, d => Assert.InRange(d, 151, RoutingTable.FarthestBucket));

        // Each refreshed bucket found the nodes in its range.
        Assert.All(Enumerable.Range(150, 11), d => Assert.InRange(core.Table.BucketCount(d), 1, Limits.K));
    }

    /// <summary>A core without a bootstrap list whose table holds 20 nodes in bucket 160, one in 159, one in 155
    /// (added 14 minutes in) and one in 150, all at an address where nobody answers; purges far away.</summary>
    private static NodeCore HandMade()
    {
        var options = CoreNetwork.Options();
        options.PurgeInterval = TimeSpan.FromHours(2);
        var core = new CoreNetwork().Add(7001, seed: 5, options: options);
        var random = new SeededEntropy(11);
        var bytes = new byte[NodeId.Size];
        var port = 20_000;
        void Add(int distance, long at)
        {
            random.Fill(bytes);
            Assert.True(core.Table.Add(new DhtNode(core.Table.RandomIdIn(distance, bytes), new IPEndPoint(IPAddress.Loopback, port++)), at));
        }

        for (var i = 0; i < Limits.K; i++)
        {
            Add(RoutingTable.FarthestBucket, 0);
        }

        Add(159, 0);
        Add(155, 14 * 60_000);
        Add(150, 0);
        return core;
    }

    /// <summary>Ticks the core at each deadline until its refresh pass ends (bounded); returns the bucket of each
    /// find_node target it sent, in order.</summary>
    private static List<int> RunPass(NodeCore core, int maxTicks = 1000)
    {
        var sent = new List<int>();
        for (var i = 0; i < maxTicks && (i == 0 || core.RefreshLookup is not null); i++)
        {
            core.Tick(core.NextDeadline);
            while (core.TryTakeOutgoing(out var outgoing))
            {
                if (KrpcCodec.TryDecode(outgoing.Datagram, out var m) == DecodeStatus.Ok && m!.Query is FindNodeQuery f)
                {
                    sent.Add(core.Id.BucketDistance(f.Target));
                }
            }
        }

        return sent;
    }

    [Fact]
    public void A_full_bucket_and_a_recently_changed_one_are_not_refreshed_and_the_pass_ends_at_the_closest_neighbour()
    {
        var core = HandMade();
        var refreshMs = (long)CoreNetwork.Options().RefreshInterval.TotalMilliseconds;
        Assert.Equal(refreshMs, core.NextDeadline); // the refresh tick, exactly

        var buckets = RunPass(core).Distinct().ToList();

        int[] expected = [159, 158, 157, 156, 154, 153, 152, 151, 150]; // not 160 (full) nor 155 (changed at 14 min)
        Assert.Equal(expected, buckets);
        Assert.Equal(expected.Length, core.RefreshesStarted);
        Assert.Null(core.RefreshLookup);
        Assert.Equal(0, core.RefreshCursor);
        Assert.True(core.PendingCount > 0); // the last lookup stopped waiting at the soft timeout; its queries still may answer
        core.Tick(core.Now + (long)CoreNetwork.Options().RequestTimeout.TotalMilliseconds);
        Assert.Equal(0, core.PendingCount);
        Assert.Equal(2 * refreshMs, core.NextDeadline); // nothing left but the next refresh tick
    }

    [Fact]
    public void Shutdown_drops_the_pass_and_an_empty_table_is_not_refreshed()
    {
        var core = HandMade();
        core.Tick(core.NextDeadline);
        Assert.NotNull(core.RefreshLookup);
        Assert.Equal(1, core.RefreshesStarted);
        core.Shutdown();
        Assert.Null(core.RefreshLookup);
        Assert.Equal(0, core.RefreshCursor);
        Assert.Equal(long.MaxValue, core.NextDeadline);
        core.Tick(core.Now + 60_000);
        Assert.Equal(1, core.RefreshesStarted);

        var empty = new CoreNetwork().Add(7002, seed: 6);
        var tick = (long)CoreNetwork.Options().RefreshInterval.TotalMilliseconds;
        empty.Tick(tick);
        Assert.Equal(0, empty.RefreshesStarted);
        Assert.Equal(0, empty.LookupsStarted);
        Assert.False(empty.TryTakeOutgoing(out _));

        var joining = new CoreNetwork().Add(7003, seed: 7, [Nowhere]); // its join finds nobody
        joining.Tick(0);
        joining.Tick(joining.NextDeadline);
        Assert.Equal(1, joining.LookupsStarted);
        Assert.Equal(0, joining.RefreshesStarted);
    }
}
