using System.Net;
using Mainline.Krpc;
using Mainline.Rpc;

namespace Mainline.Tests.Core;

/// <summary>Senders of queries enter the table once they answer our ping (NodeCore.Server.cs), rate limited.</summary>
public sealed class QuerySenderTests
{
    private static readonly IPEndPoint Nowhere = new(IPAddress.Loopback, 9);

    /// <summary>Has <paramref name="sender"/> send a find_node to <paramref name="to"/> and delivers what follows.</summary>
    private static void Query(CoreNetwork net, NodeCore sender, NodeCore to)
    {
        net.Run(sender, c => c.StartLookup(new LookupKey(NodeId.Random(), LookupKind.FindNode, null), null, [new DhtNode(to.Id, to.LocalEndPoint)]));
        net.Pump();
    }

    private static int PingsFrom(CoreNetwork net, NodeCore core) =>
        net.Log.Count(d => d.From.Equals(core.LocalEndPoint) && KrpcCodec.TryDecode(d.Datagram, out var m) == DecodeStatus.Ok && m!.Query is PingQuery);

    [Fact]
    public void A_sender_that_answers_the_ping_is_added_five_a_second_at_most_and_read_only_ones_never()
    {
        var net = new CoreNetwork();
        var node = net.Add(7000, seed: 1, [Nowhere]); // has a bootstrap list: not the first node of a network
        var senders = Enumerable.Range(1, 7).Select(i => net.Add(7000 + i, seed: 1 + (ulong)i)).ToList();
        var readOnly = net.Add(7100, seed: 100, options: CoreNetwork.Options(DhtMode.Client));

        Query(net, readOnly, node);
        Assert.Equal(0, PingsFrom(net, node));
        Assert.Null(node.Table.Find(readOnly.Id));

        foreach (var sender in senders.Take(6))
        {
            Query(net, sender, node);
        }

        Assert.Equal(NodeCore.QuerySenderProbesPerSecond, node.QuerySenderProbes);
        Assert.Equal(NodeCore.QuerySenderProbesPerSecond, PingsFrom(net, node));
        Assert.All(senders.Take(5), s => Assert.Equal(s.LocalEndPoint, node.Table.Find(s.Id)?.Node.EndPoint));
        Assert.Null(node.Table.Find(senders[5].Id)); // over the rate: asks again on its next lookup

        Query(net, senders[5], node); // asking again within the same second changes nothing
        Assert.Equal(NodeCore.QuerySenderProbesPerSecond, node.QuerySenderProbes);

        net.AdvanceTo(1000);
        Query(net, senders[5], node);
        Query(net, senders[0], node);
        Assert.Equal(NodeCore.QuerySenderProbesPerSecond + 1, node.QuerySenderProbes);
        Assert.NotNull(node.Table.Find(senders[5].Id));
    }

    [Fact]
    public void A_sender_that_never_answers_stays_out_and_the_switch_turns_it_all_off()
    {
        var net = new CoreNetwork();
        var node = net.Add(7000, seed: 1, [Nowhere]);
        var silent = new DhtNode(NodeId.Random(), Nowhere);
        var query = KrpcCodec.EncodeQuery([1, 2, 3, 4], new FindNodeQuery(silent.Id, NodeId.Random()), default, false);
        node.Receive(query, Nowhere, 0);
        Assert.Equal(1, node.QuerySenderProbes);
        node.Tick(node.NextDeadline); // the ping times out (and the join, due at 0, starts)
        node.Tick(node.NextDeadline);
        Assert.Null(node.Table.Find(silent.Id));

        var options = CoreNetwork.Options();
        options.ProbeQuerySenders = false;
        var off = new CoreNetwork();
        var quiet = off.Add(7000, seed: 1, [Nowhere], options: options);
        var sender = off.Add(7001, seed: 2);
        Query(off, sender, quiet);
        Assert.Equal(0, quiet.QuerySenderProbes);
        Assert.Null(quiet.Table.Find(sender.Id));
    }
}
