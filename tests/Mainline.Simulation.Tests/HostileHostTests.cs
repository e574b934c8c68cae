using System.Buffers.Binary;
using Mainline.Krpc;
using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

/// <summary>Each hostile behaviour, seen on the wire by a raw KRPC client (the honest node's view is in
/// HostileScenarioTests).</summary>
public class HostileHostTests
{
    private sealed class Client(Simulation simulation, uint address) : Host(simulation, address, new NodeId(new byte[20]))
    {
        public List<(byte[] Raw, Message? Message)> Replies { get; } = [];

        public List<Message> Queries { get; } = [];

        public override void Receive(byte[] datagram, Host from)
        {
            var status = KrpcCodec.TryDecode(datagram, out var message);
            if (status == DecodeStatus.Ok && message!.Kind == MessageKind.Query)
            {
                Queries.Add(message);
                var reply = new Response { Id = Id, Token = [1, 2, 3] };
                Simulation.Send(this, KrpcCodec.EncodeResponse(message.TransactionId, reply, [], from.EndPoint), from.EndPoint);
                return;
            }

            Replies.Add((datagram, status == DecodeStatus.Ok ? message : null));
        }

        public void Ask(Query query, Host to)
        {
            var tid = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(tid, (uint)Replies.Count);
            Simulation.Send(this, KrpcCodec.EncodeQuery(tid, query, [], readOnly: false), to.EndPoint);
        }
    }

    private static readonly byte[] Secret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly MutableItem Old = MutableItem.Sign(Secret, "old"u8, 1);
    private static readonly MutableItem Current = MutableItem.Sign(Secret, "current"u8, 2);

    private static (Simulation Sim, Client Client, HostileHost Hostile) Setup(HostileBehaviour behaviour)
    {
        var sim = new Simulation(3, new NetworkOptions { Loss = 0, Unresponsive = 0 });
        var client = sim.Add(new Client(sim, sim.Addresses.Next()));
        var grind = new SimRandom(5);
        var (address, id) = HostileHost.GrindIdentity(Current.Target, 0, sim.Addresses, grind);
        var hostile = sim.Add(new HostileHost(sim, address, id, behaviour)
        {
            Stale = Old,
            Current = Current,
            Forged = MutableItem.Sign(new byte[32], "forged"u8, 99),
        });
        hostile.Listed.Add(Accomplice(sim, grind));
        return (sim, client, hostile);
    }

    /// <summary>The second hostile of the target (index 1), listed by the first.</summary>
    private static DhtNode Accomplice(Simulation sim, SimRandom grind)
    {
        var (address, id) = HostileHost.GrindIdentity(Current.Target, 1, sim.Addresses, grind);
        return new DhtNode(id, new System.Net.IPEndPoint(Addresses.ToIPAddress(address), Addresses.Port));
    }

    private static int SharedBits(NodeId a, NodeId b) => 160 - a.BucketDistance(b);

    private static Response GetReply(HostileBehaviour behaviour)
    {
        var (sim, client, hostile) = Setup(behaviour);
        client.Ask(new GetQuery(client.Id, Current.Target, null), hostile);
        sim.RunUntil(10_000);
        var reply = Assert.Single(client.Replies);
        return reply.Message!.Response!;
    }

    [Fact]
    public void Ground_ids_are_secure_for_their_address_and_share_the_matched_prefix_with_the_target()
    {
        var addresses = new Addresses(new SimRandom(7));
        var grind = new SimRandom(8);
        var targets = new SimRandom(9);
        var ids = new HashSet<NodeId>();
        var used = new HashSet<uint>();
        Span<byte> target = stackalloc byte[NodeId.Size];
        for (var t = 0; t < 4; t++)
        {
            targets.Fill(target);
            var key = new NodeId(target);
            for (var i = 0; i < 8; i++)
            {
                var (address, id) = HostileHost.GrindIdentity(key, i, addresses, grind);
                var ip = Addresses.ToIPAddress(address);
                Assert.True(Addresses.IsPublic(address));
                Assert.True(used.Add(address));
                Assert.False(addresses.IsFree(address)); // claimed: no later host gets it
                Assert.True(id.IsValidFor(ip));
                Assert.InRange(SharedBits(key, id), HostileHost.MatchedPrefixBits, 159);
                Assert.True(ids.Add(id));

                // The validity check is not vacuous: a constrained bit flipped, or another address, fails it.
                var flipped = id.ToArray();
                flipped[2] ^= 0x08;
                Assert.False(new NodeId(flipped).IsValidFor(ip));
                Assert.False(id.IsValidFor(Addresses.ToIPAddress(addresses.Next())));
            }
        }
    }

    [Fact]
    public void Ground_ids_set_their_free_bits_to_the_target_but_for_the_index()
    {
        var addresses = new Addresses(new SimRandom(7));
        var (_, first) = HostileHost.GrindIdentity(Current.Target, 0, addresses, new SimRandom(8));
        var (_, second) = HostileHost.GrindIdentity(Current.Target, 1, addresses, new SimRandom(8));
        var target = Current.Target.Bytes;

        // Bits 21..151 are the target's, but the index (+ 1) in the lowest of them; byte 19's top five bits likewise.
        Assert.Equal(target[2] & 0x07, first.Bytes[2] & 0x07);
        Assert.True(target[3..17].SequenceEqual(first.Bytes[3..17]));
        Assert.Equal(target[18], first.Bytes[18]);
        Assert.Equal((target[19] & 0xF8) ^ (1 << 3), first.Bytes[19] & 0xF8);
        Assert.Equal((target[19] & 0xF8) ^ (2 << 3), second.Bytes[19] & 0xF8);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Grinding_is_reproducible_from_its_seed()
    {
        static List<(uint, NodeId)> Grind(ulong seed)
        {
            var addresses = new Addresses(new SimRandom(7));
            var grind = new SimRandom(seed);
            return [.. Enumerable.Range(0, 4).Select(i => HostileHost.GrindIdentity(Current.Target, i, addresses, grind))];
        }

        Assert.Equal(Grind(8), Grind(8));
        Assert.NotEqual(Grind(8), Grind(11));
    }

    [Fact]
    public void A_scenario_places_secure_hostiles_next_to_the_target_on_free_addresses()
    {
        var scenario = new Scenario(new ScenarioOptions { Nodes = 1, Lookups = 0, Seed = 6, ChurnPerHour = 0 });
        scenario.Items.Add(Current);
        var hostiles = scenario.AddHostiles(0, Old, 8, HostileBehaviour.Eclipse);
        Assert.Equal(8, hostiles.Select(h => h.Id).Distinct().Count());
        Assert.Equal(9, scenario.Simulation.HostCount); // the bootstrap node and the hostiles, each at its own address
        Assert.All(hostiles, h =>
        {
            Assert.True(h.Id.IsValidFor(h.EndPoint.Address));
            Assert.True(SharedBits(Current.Target, h.Id) >= HostileHost.MatchedPrefixBits);
            Assert.Same(h, scenario.Simulation.Find(h.Address));
        });

        // The same seed places the same hostiles.
        var again = new Scenario(new ScenarioOptions { Nodes = 1, Lookups = 0, Seed = 6, ChurnPerHour = 0 });
        again.Items.Add(Current);
        Assert.Equal(hostiles.Select(h => (h.Address, h.Id)), again.AddHostiles(0, Old, 8, HostileBehaviour.Eclipse).Select(h => (h.Address, h.Id)));
    }

    [Fact]
    public void A_wrong_value_verifies_under_its_own_key_but_not_for_the_target()
    {
        var r = GetReply(HostileBehaviour.WrongValue);
        Assert.True(MutableItem.TryFromEncoded(r.Key!, null, r.Seq!.Value, r.EncodedValue!, r.Signature!, out var item));
        Assert.NotEqual(Current.Target, item.Target);
    }

    [Fact]
    public void A_stale_value_is_the_older_item_validly_signed()
    {
        var r = GetReply(HostileBehaviour.StaleValue);
        Assert.Equal(1, r.Seq);
        Assert.True(MutableItem.TryFromEncoded(r.Key!, null, r.Seq!.Value, r.EncodedValue!, r.Signature!, out var item));
        Assert.Equal(Current.Target, item.Target);
        Assert.True(Current.IsMoreRecentThan(item));
    }

    [Fact]
    public void A_bad_signature_claims_a_higher_seq_and_does_not_verify()
    {
        var r = GetReply(HostileBehaviour.BadSignature);
        Assert.Equal(3, r.Seq);
        Assert.Equal(Current.KeyArray, r.Key);
        Assert.False(MutableItem.TryFromEncoded(r.Key!, null, r.Seq!.Value, r.EncodedValue!, r.Signature!, out _));
    }

    [Fact]
    public void An_oversized_reply_is_longer_than_the_receive_cap()
    {
        var (sim, client, hostile) = Setup(HostileBehaviour.Oversized);
        client.Ask(new PingQuery(client.Id), hostile);
        sim.RunUntil(10_000);
        Assert.True(Assert.Single(client.Replies).Raw.Length > Limits.MaxDatagramLength);
    }

    [Fact]
    public void An_eclipse_node_gives_a_token_lists_its_accomplices_and_holds_no_value()
    {
        var (sim, client, hostile) = Setup(HostileBehaviour.Eclipse);
        client.Ask(new GetQuery(client.Id, Current.Target, null), hostile);
        sim.RunUntil(10_000);
        var r = Assert.Single(client.Replies).Message!.Response!;
        Assert.NotNull(r.Token);
        Assert.Null(r.EncodedValue);
        var accomplice = Assert.Single(hostile.Listed);
        Assert.NotEqual(hostile.Id, accomplice.Id);
        Assert.Equal(accomplice.Id, Assert.Single(r.Nodes!).Id);
    }

    [Fact]
    public void A_rollback_node_replays_the_older_item_with_the_token_it_was_given()
    {
        var (sim, client, hostile) = Setup(HostileBehaviour.SeqRollback);
        hostile.AttackHolders([client.EndPoint], Current.Target);
        sim.RunUntil(10_000);
        Assert.Equal(2, client.Queries.Count);
        Assert.IsType<GetQuery>(client.Queries[0].Query);
        var put = Assert.IsType<PutMutableQuery>(client.Queries[1].Query);
        Assert.Equal(1, put.Seq);
        Assert.Equal([1, 2, 3], put.Token);
        Assert.Equal(1, hostile.RollbackPuts);
    }
}
