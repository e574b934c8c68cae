using System.Buffers.Binary;
using System.Net;
using Mainline.Krpc;
using Mainline.Rpc;

namespace Mainline.Tests.Core;

/// <summary>
/// The node's time-driven behaviour (expiry, token rotation, purges) on virtual time: cores exchange datagrams in
/// memory and the clock jumps from deadline to deadline, so hours pass in microseconds and nothing waits or polls.
/// </summary>
public sealed class VirtualTimeTests
{
    private const long Minute = 60_000;
    private const long Hour = 60 * Minute;
    private static readonly IPEndPoint Silent = new(IPAddress.Loopback, 9); // no core listens there

    /// <summary>A server and a client that joined it.</summary>
    private static (CoreNetwork Net, NodeCore Server, NodeCore Client) Pair()
    {
        var net = new CoreNetwork();
        var server = net.Add(7001, seed: 1);
        var client = net.Add(7002, seed: 2, [server.LocalEndPoint], options: CoreNetwork.Options(DhtMode.Client));
        var join = net.Run(client, core => core.StartSelfLookup());
        net.RunUntil(() => join.Done);
        return (net, server, client);
    }

    private static PutResult Put(CoreNetwork net, NodeCore from, PutOperation operation)
    {
        PutResult? result = null;
        net.Run(from, core =>
        {
            core.StartPut(operation, r => result = r);
            return true;
        });
        net.RunUntil(() => result is not null);
        return result!;
    }

    [Fact]
    public void Stored_items_expire_two_hours_after_their_last_put()
    {
        var (net, server, client) = Pair();
        var mutable = MutableItem.Sign(new byte[32], "expires"u8, 1);
        var value = KrpcCodec.EncodeString("expires too"u8);
        var immutableTarget = Bep44.ImmutableTarget(value);
        Assert.Equal(1, Put(net, client, new PutOperation(PutKind.Mutable, mutable.Target) { Item = mutable }).StoredOn);
        Assert.Equal(1, Put(net, client, new PutOperation(PutKind.Immutable, immutableTarget) { EncodedValue = value }).StoredOn);
        var putAt = net.Now;

        net.AdvanceTo(putAt + (2 * Hour) - 1000);
        Assert.NotNull(server.Storage.GetMutable(mutable.Target, net.Now));
        Assert.NotNull(server.Storage.GetImmutable(immutableTarget, net.Now));

        // A second put of the mutable item restarts its two hours; the immutable one is not put again.
        Assert.Equal(1, Put(net, client, new PutOperation(PutKind.Mutable, mutable.Target) { Item = mutable }).StoredOn);
        var again = net.Now;
        net.AdvanceTo(putAt + (2 * Hour) + 1000);
        Assert.NotNull(server.Storage.GetMutable(mutable.Target, net.Now));
        Assert.Null(server.Storage.GetImmutable(immutableTarget, net.Now));

        net.AdvanceTo(again + (2 * Hour) + 1000);
        Assert.Null(server.Storage.GetMutable(mutable.Target, net.Now));
    }

    [Fact]
    public void Announced_peers_expire_after_45_minutes()
    {
        var (net, server, client) = Pair();
        var hash = NodeId.Random();
        Assert.Equal(PutStatus.Stored, Put(net, client, new PutOperation(PutKind.Announce, hash) { AnnouncePort = 45678 }).Status);
        var announcedAt = net.Now;

        net.AdvanceTo(announcedAt + (45 * Minute) - 1000);
        var peer = Assert.Single(server.Storage.GetPeers(hash, net.Now));
        Assert.Equal(45678, peer.Port);
        net.AdvanceTo(announcedAt + (45 * Minute) + 1000);
        Assert.Empty(server.Storage.GetPeers(hash, net.Now));
    }

    [Fact]
    public void A_token_is_accepted_for_one_rotation_and_refused_after_two()
    {
        var net = new CoreNetwork();
        var server = net.Add(7001, seed: 1);
        var asker = new IPEndPoint(IPAddress.Loopback, 7100);
        var value = KrpcCodec.EncodeString("token test"u8);
        var target = Bep44.ImmutableTarget(value);
        var id = NodeId.Random();
        uint tid = 0;

        Message Ask(Query query)
        {
            Span<byte> t = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(t, ++tid);
            server.Receive(KrpcCodec.EncodeQuery(t, query, default, readOnly: false), asker, net.Now);
            while (server.TryTakeOutgoing(out var outgoing))
            {
                if (outgoing.To.Equals(asker) && !outgoing.IsQuery)
                {
                    Assert.Equal(DecodeStatus.Ok, KrpcCodec.TryDecode(outgoing.Datagram, out var reply));
                    return reply!;
                }
            }

            throw new Xunit.Sdk.XunitException("the server did not answer");
        }

        var token = Ask(new GetQuery(id, target, null)).Response!.Token!;

        // Secrets rotate every 5 minutes; a token of the previous secret still counts, one two rotations old does not.
        net.AdvanceTo(6 * Minute);
        Assert.Equal(MessageKind.Response, Ask(new PutImmutableQuery(id, token, value, target)).Kind);
        net.AdvanceTo(11 * Minute);
        Assert.Equal(203, Ask(new PutImmutableQuery(id, token, value, target)).Error!.Code);
    }

    [Fact]
    public void Purges_keep_answering_nodes_and_drop_a_node_after_two_missed_pings()
    {
        var net = new CoreNetwork();
        var node = net.Add(7001, seed: 1);
        var live = net.Add(7002, seed: 2);
        var liveNode = new DhtNode(live.Id, live.LocalEndPoint);
        var silentNode = new DhtNode(NodeId.Random(), Silent);
        Assert.True(node.Table.Add(liveNode, 0));
        Assert.True(node.Table.Add(silentNode, 0));

        // Every 5 minutes a purge pings the nodes not heard from lately; the live one answers at once.
        net.AdvanceTo(5 * Minute + 1);
        Assert.Equal(0, node.Table.Find(live.Id)!.Value.MissedPings);
        net.AdvanceTo(10 * Minute + 1);
        Assert.NotNull(node.Table.Find(silentNode.Id)); // one missed ping so far
        net.AdvanceTo(15 * Minute + 1);
        Assert.Null(node.Table.Find(silentNode.Id)); // two missed pings: dropped
        Assert.NotNull(node.Table.Find(live.Id));
        Assert.True(net.Lost >= 2); // the silent node's pings went nowhere
    }
}
