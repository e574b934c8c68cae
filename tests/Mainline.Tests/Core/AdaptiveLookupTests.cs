using System.Net;
using Mainline.Krpc;
using Mainline.Rpc;

namespace Mainline.Tests.Core;

/// <summary>Round-trip estimates, soft timeouts and α (NodeCore.Rtt.cs, NodeCore.Lookups.cs), driven by hand: the
/// test decides when each reply arrives.</summary>
public sealed class AdaptiveLookupTests
{
    private static readonly byte[] PeerVersion = "LT\u0002\u0008"u8.ToArray();

    private static DhtNode Peer(int n, NodeId? id = null) =>
        new(id ?? NodeId.Random(), new IPEndPoint(IPAddress.Parse($"127.0.0.{n + 1}"), 6881));

    /// <summary>The queries the core queued, by destination.</summary>
    private static Dictionary<IPEndPoint, Outgoing> Sent(NodeCore core)
    {
        var sent = new Dictionary<IPEndPoint, Outgoing>();
        while (core.TryTakeOutgoing(out var outgoing))
        {
            Assert.True(outgoing.IsQuery);
            sent.Add(outgoing.To, outgoing);
        }

        return sent;
    }

    /// <summary><paramref name="from"/> answers <paramref name="query"/> at <paramref name="now"/>, listing
    /// <paramref name="nodes"/>.</summary>
    private static void Answer(NodeCore core, Outgoing query, DhtNode from, long now, params DhtNode[] nodes)
    {
        Assert.Equal(DecodeStatus.Ok, KrpcCodec.TryDecode(query.Datagram, out var message));
        var reply = KrpcCodec.EncodeResponse(message!.TransactionId, new Response { Id = from.Id, Nodes = nodes }, PeerVersion, core.LocalEndPoint);
        core.Receive(reply, from.EndPoint, now);
    }

    private static NodeCore Core(bool adaptive = true, int parallelism = 0, bool preferFast = true)
    {
        var options = CoreNetwork.Options();
        options.AdaptiveTimeouts = adaptive;
        options.LookupParallelism = parallelism;
        options.PreferFastNodes = preferFast;
        return new CoreNetwork().Add(7001, seed: 1, options: options);
    }

    private static Lookup FindNode(NodeCore core, NodeId target, params DhtNode[] seeds) =>
        core.StartLookup(new LookupKey(target, LookupKind.FindNode, null), null, seeds);

    [Fact]
    public void A_purge_pass_gives_back_the_room_of_a_burst_of_requests()
    {
        var core = Core(parallelism: 0);
        var peers = Enumerable.Range(0, 200).Select(i => Peer(i)).ToArray();
        for (var l = 0; l < 10; l++)
        {
            FindNode(core, NodeId.Random(), peers);
        }

        Assert.True(core.PendingCount >= 100, $"{core.PendingCount} requests in flight");
        var burst = core.PendingCapacity;
        for (var now = 1_000; now <= 120_000 && core.PendingCount > 0; now += 1_000)
        {
            core.Tick(now); // nobody answers: every request times out, every lookup ends
        }

        Assert.Equal(0, core.PendingCount);
        Assert.Equal(burst, core.PendingCapacity); // no purge pass yet

        core.Tick(5 * 60_000 + 1);
        Assert.True(core.PendingCapacity < 10, $"room for {core.PendingCapacity} requests after the purge pass");
    }

    [Fact]
    public void The_estimator_follows_rfc_6298()
    {
        var rtt = new RttEstimator();
        Assert.Equal(1000, rtt.Timeout(initial: 1000));
        rtt.Add(100);
        Assert.Equal(100, rtt.Smoothed);
        Assert.Equal(300, rtt.Timeout(1000)); // SRTT 100 + 4 × RTTVAR 50
        rtt.Add(200);
        Assert.Equal(112, rtt.Smoothed); // 7/8 × 100 + 1/8 × 200 = 112.5
        Assert.Equal(362, rtt.Timeout(1000)); // RTTVAR = 3/4 × 50 + 1/4 × 100 = 62.5
        rtt.Add(-5); // a clock that went back counts as 0, never as a negative round trip
        Assert.True(rtt.Smoothed >= 0);
        Assert.Equal(3, rtt.Samples);
    }

    [Fact]
    public void A_silent_node_holds_a_lookup_until_its_soft_timeout_and_its_request_lives_until_the_request_timeout()
    {
        var core = Core();
        var (talker, silent) = (Peer(1), Peer(2));
        var lookup = FindNode(core, NodeId.Random(), talker, silent);
        var sent = Sent(core);
        Answer(core, sent[talker.EndPoint], talker, now: 50);
        Assert.False(lookup.Done);

        // Sent before any round trip was measured: the silent node's query is waited for up to the initial timeout.
        Assert.Equal(NodeCore.InitialSoftTimeoutMs, core.NextDeadline);
        core.Tick(NodeCore.InitialSoftTimeoutMs - 1);
        Assert.False(lookup.Done);
        core.Tick(NodeCore.InitialSoftTimeoutMs);
        Assert.True(lookup.Done);
        Assert.Equal(2, lookup.Diagnostics.Queried);
        Assert.Contains(silent.EndPoint, core.PendingEndPoints()); // a reply would still count until the request timeout

        // It answers after all, before the request timeout: the node notes the round trip, the ended lookup takes
        // nothing from it.
        var candidates = lookup.Candidates.Count;
        Answer(core, sent[silent.EndPoint], silent, now: 1500, Peer(6));
        Assert.DoesNotContain(silent.EndPoint, core.PendingEndPoints());
        Assert.Equal(candidates, lookup.Candidates.Count);
        Assert.False(lookup.Replied.ContainsKey(silent.EndPoint));
        Assert.Equal(2, core.Rtt.Samples);

        // A fresh core whose one round trip was 50 ms: SRTT 50 + 4 × 25 for a node we know nothing of; the talker,
        // in the table since it answered, gets twice its own 50 ms.
        core = Core();
        lookup = FindNode(core, NodeId.Random(), talker);
        Answer(core, Sent(core)[talker.EndPoint], talker, now: 50);
        Assert.True(lookup.Done);
        Assert.Equal(150, core.Rtt.Timeout(NodeCore.InitialSoftTimeoutMs));
        Sent(core);
        var start = core.Now;
        var next = FindNode(core, NodeId.Random(), Peer(3));
        Assert.Equal(2, Sent(core).Count); // the new seed and the table's talker
        core.Tick(start + 99);
        Assert.Empty(next.Slow);
        core.Tick(start + 100);
        Assert.Equal([talker.EndPoint], next.Slow);
        core.Tick(start + 149);
        Assert.False(next.Done);
        core.Tick(start + 150);
        Assert.True(next.Done);
    }

    [Fact]
    public void Without_adaptive_timeouts_a_silent_node_holds_the_lookup_until_the_request_timeout()
    {
        var core = Core(adaptive: false);
        var timeout = (long)CoreNetwork.Options().RequestTimeout.TotalMilliseconds;
        var lookup = FindNode(core, NodeId.Random(), Peer(1));
        Assert.Equal(timeout, core.NextDeadline);
        core.Tick(timeout - 1);
        Assert.False(lookup.Done);
        core.Tick(timeout);
        Assert.True(lookup.Done);
        Assert.Equal(0, core.PendingCount);
    }

    [Fact]
    public void A_late_reply_brings_a_slow_node_back_while_the_lookup_runs()
    {
        var core = Core();
        var target = NodeId.Random();
        var (quick, late) = (Peer(1), Peer(2));
        var near = Peer(3, target); // listed by the quick node: the next hop
        var lookup = FindNode(core, target, quick, late);
        var sent = Sent(core);

        Answer(core, sent[quick.EndPoint], quick, now: 900, near);
        var hop = Sent(core);
        Assert.Equal([near.EndPoint], hop.Keys);

        core.Tick(NodeCore.InitialSoftTimeoutMs); // the late node's query is past its soft timeout; the near one's is not
        Assert.Contains(late.EndPoint, lookup.Slow);
        Assert.False(lookup.Done);

        Answer(core, sent[late.EndPoint], late, now: 1500);
        Assert.Empty(lookup.Slow);
        Assert.True(lookup.Replied.ContainsKey(late.EndPoint));
        Assert.Contains(lookup.Candidates.Nodes, c => c.Node.Id == late.Id);
        Assert.False(lookup.Done);

        Answer(core, hop[near.EndPoint], near, now: 1600);
        Assert.True(lookup.Done);
        Assert.Equal(3, lookup.Diagnostics.Queried);
        Assert.Equal(2, lookup.Diagnostics.Rounds); // the near node was one hop past the seeds
        Assert.Equal(target, lookup.ResultNodes[0].Node.Id);
    }

    [Fact]
    public void A_node_with_a_known_round_trip_is_given_up_after_twice_it_but_never_under_the_floor()
    {
        var core = Core();
        var (fast, faster) = (Peer(1), Peer(2));
        Assert.True(core.Table.Add(fast, 0));
        Assert.True(core.Table.Add(faster, 0));
        core.Table.Measured(fast.Id, fast.EndPoint, 60);
        core.Table.Measured(faster.Id, faster.EndPoint, 10);
        core.Table.Measured(faster.Id, IPEndPoint.Parse("127.0.0.9:6881"), 5000); // not where it is held: ignored
        Assert.Equal(60, core.Table.Find(fast.Id)!.Value.RttMs);
        Assert.Equal(10, core.Table.Find(faster.Id)!.Value.RttMs);

        var unknown = Peer(3);
        var lookup = FindNode(core, NodeId.Random(), unknown); // the table's two nodes are seeds as well
        Assert.Equal(3, Sent(core).Count);

        core.Tick(NodeCore.MinSoftTimeoutMs - 1);
        Assert.Empty(lookup.Slow);
        core.Tick(NodeCore.MinSoftTimeoutMs); // 2 × 10 ms is under the floor
        Assert.Equal([faster.EndPoint], lookup.Slow);
        core.Tick(119);
        Assert.DoesNotContain(fast.EndPoint, lookup.Slow);
        core.Tick(120); // 2 × 60 ms
        Assert.Contains(fast.EndPoint, lookup.Slow);
        Assert.DoesNotContain(unknown.EndPoint, lookup.Slow); // no round trip known anywhere: the initial timeout
        Assert.False(lookup.Done);
    }

    [Fact]
    public void Alpha_bounds_the_queries_in_flight_and_a_slow_query_frees_its_slot()
    {
        var core = Core(parallelism: 3);
        var target = NodeId.Random();
        var seeds = Enumerable.Range(1, 10).Select(n => Peer(n)).ToArray();
        var lookup = FindNode(core, target, seeds);
        var first = Sent(core);
        Assert.Equal(3, first.Count);
        Assert.Equal(3, lookup.InFlight.Count);

        // The three closest seeds first.
        var closest = seeds.OrderBy(s => s.Id, Comparer<NodeId>.Create(target.CompareDistance)).Take(3).Select(s => s.EndPoint);
        Assert.True(closest.ToHashSet().SetEquals(first.Keys));

        var answering = seeds.Single(s => s.EndPoint.Equals(first.Keys.First()));
        Answer(core, first[answering.EndPoint], answering, now: 40);
        Assert.Single(Sent(core)); // one slot freed, one more query
        Assert.Equal(3, lookup.InFlight.Count);

        // The query sent at 40 ms, after one 40-ms round trip: slow at 40 + (40 + 4 × 20).
        core.Tick(159);
        Assert.Empty(lookup.Slow);
        core.Tick(160);
        Assert.Single(lookup.Slow);
        Assert.Single(Sent(core));
        // At the initial timeout the first two, sent before any round trip, are slow too, and so is the one sent at
        // 160 ms (due at 280): three slots free, three more queries. Never more than three wait at once; every other
        // query is slow or answered.
        core.Tick(NodeCore.InitialSoftTimeoutMs);
        Assert.Equal(3, Sent(core).Count);
        Assert.Equal(3, lookup.InFlight.Count);
        Assert.Equal(4, lookup.Slow.Count);
        Assert.Equal(8, lookup.Diagnostics.Queried);

        var unbounded = Core(parallelism: 0);
        FindNode(unbounded, target, seeds);
        Assert.Equal(10, Sent(unbounded).Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_free_slot_goes_to_the_faster_of_two_equally_close_nodes_only_when_preferring_fast_nodes(bool preferFast)
    {
        var target = NodeId.Random();

        // Two ids that first differ from the target at the same bit (equally close in Kademlia's terms), one of them
        // closer in the bits below it.
        NodeId SameClass(byte low)
        {
            var bytes = target.ToArray();
            bytes[0] ^= 0x01;
            bytes[1] = (byte)(target.Bytes[1] ^ low);
            return new NodeId(bytes);
        }

        var (nearer, faster) = (Peer(1, SameClass(0x01)), Peer(2, SameClass(0x80)));
        var core = Core(parallelism: 1, preferFast: preferFast);
        Assert.True(core.Table.Add(nearer, 0));
        Assert.True(core.Table.Add(faster, 0));
        core.Table.Measured(nearer.Id, nearer.EndPoint, 300);
        core.Table.Measured(faster.Id, faster.EndPoint, 20);

        FindNode(core, target);
        var first = Assert.Single(Sent(core));
        Assert.Equal(preferFast ? faster.EndPoint : nearer.EndPoint, first.Key);
    }
}
