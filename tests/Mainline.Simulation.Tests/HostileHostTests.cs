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
        var hostile = sim.Add(new HostileHost(sim, sim.Addresses.Next(), HostileHost.NextTo(Current.Target, 0), behaviour)
        {
            Stale = Old,
            Current = Current,
            Forged = MutableItem.Sign(new byte[32], "forged"u8, 99),
        });
        hostile.Listed.Add(new DhtNode(HostileHost.NextTo(Current.Target, 1), Addresses.ToIPAddress(sim.Addresses.Next()) is var ip ? new(ip, Addresses.Port) : null!));
        return (sim, client, hostile);
    }

    private static Response GetReply(HostileBehaviour behaviour)
    {
        var (sim, client, hostile) = Setup(behaviour);
        client.Ask(new GetQuery(client.Id, Current.Target, null), hostile);
        sim.RunUntil(10_000);
        var reply = Assert.Single(client.Replies);
        return reply.Message!.Response!;
    }

    [Fact]
    public void Ids_next_to_the_target_are_closer_than_any_honest_id()
    {
        var id = HostileHost.NextTo(Current.Target, 0);
        Assert.NotEqual(Current.Target, id);
        Assert.True(Current.Target.BucketDistance(id) <= 8);
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
        var r = GetReply(HostileBehaviour.Eclipse);
        Assert.NotNull(r.Token);
        Assert.Null(r.EncodedValue);
        Assert.Equal(HostileHost.NextTo(Current.Target, 1), Assert.Single(r.Nodes!).Id);
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
