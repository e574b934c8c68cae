using System.Net;
using System.Net.Sockets;
using Mainline.Krpc;
using Mainline.Routing;
using static Mainline.Tests.Hostile.ServerAttack;

namespace Mainline.Tests.Hostile;

/// <summary>Issue 9, medium 3 (our part) and medium 7: the routing table only takes contacts that answered our
/// own queries. A claim of a known id from another endpoint is checked by pinging the holder first; a query
/// sender is pinged before it enters the table of a node with no bootstrap list.</summary>
public sealed class RoutingPoisonTests
{
    private static Task<RoutingEntry?> HeldAsync(Dht node, NodeId id) => node.Node.InvokeAsync(() => node.Node.Core.Table.Find(id), Ct());

    /// <summary>Waits (bounded) until the node has no confirming ping in flight.</summary>
    private static async Task ProbesSettledAsync(Dht node)
    {
        for (var i = 0; i < 400; i++)
        {
            if (await node.Node.InvokeAsync(() => node.Node.Core.ProbesInFlight, Ct()) == 0)
            {
                return;
            }

            await Task.Delay(5, Ct());
        }

        Assert.Fail("the confirming pings did not settle");
    }

    /// <summary>Reads queries on <paramref name="udp"/> and answers each with <paramref name="id"/>, until cancelled.</summary>
    private static async Task AnswerAsAsync(UdpClient udp, NodeId id, CancellationToken cancellationToken)
    {
        try
        {
            for (var i = 0; i < 1000; i++)
            {
                var query = await udp.ReceiveAsync(cancellationToken);
                if (KrpcCodec.TryDecode(query.Buffer, out var m) == DecodeStatus.Ok && m!.Kind == MessageKind.Query)
                {
                    var reply = KrpcCodec.EncodeResponse(m.TransactionId, new Response { Id = id, Nodes = [] }, default, query.RemoteEndPoint);
                    await udp.SendAsync(reply, query.RemoteEndPoint, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [Fact]
    public async Task A_forged_claim_for_the_id_of_a_live_node_does_not_evict_it()
    {
        var clock = new Clock();
        await using var node = await ServerAsync(clock);
        await using var live = await ServerAsync(clock);
        var liveNode = new DhtNode(await live.Node.InvokeAsync(() => live.Node.Core.Id, Ct()), live.LocalEndPoint);
        using var forger = Socket("127.0.14.1");
        Assert.True(await node.Node.InvokeAsync(
            () => node.Node.Core.Table.Add(liveNode, node.Node.Now) && node.Node.Core.Table.Add(new DhtNode(NodeId.Random(), forger.EndPoint()), node.Node.Now),
            Ct()));

        // The forger answers the node's lookup query in the live node's name, from its own endpoint.
        using var stop = new CancellationTokenSource();
        var forging = AnswerAsAsync(forger, liveNode.Id, stop.Token);
        await node.FindNodeAsync(NodeId.Random(), Ct());
        await ProbesSettledAsync(node);
        await clock.AdvanceAsync(TimeSpan.FromSeconds(3), Ct(), node); // past any confirming ping's timeout
        await stop.CancelAsync();
        await forging;

        Assert.Equal(live.LocalEndPoint, (await HeldAsync(node, liveNode.Id))?.Node.EndPoint);
    }

    [Fact]
    public async Task A_node_that_moved_replaces_its_dead_entry_once_the_ping_to_the_old_endpoint_times_out()
    {
        var clock = new Clock();
        await using var node = await ServerAsync(clock);
        using var dead = Socket("127.0.15.1"); // bound but silent: the node's old endpoint
        using var moved = Socket("127.0.16.1");
        var id = NodeId.Random();
        Assert.True(await node.Node.InvokeAsync(
            () => node.Node.Core.Table.Add(new DhtNode(id, dead.EndPoint()), node.Node.Now) && node.Node.Core.Table.Add(new DhtNode(NodeId.Random(), moved.EndPoint()), node.Node.Now),
            Ct()));

        using var stop = new CancellationTokenSource();
        var answering = AnswerAsAsync(moved, id, stop.Token);
        var find = node.FindNodeAsync(NodeId.Random(), Ct());

        // The old endpoint gets the lookup's find_node, then the confirming ping.
        var pinged = false;
        for (var i = 0; i < 4 && !pinged; i++)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct());
            wait.CancelAfter(5000);
            try
            {
                var query = await dead.ReceiveAsync(wait.Token);
                pinged = KrpcCodec.TryDecode(query.Buffer, out var m) == DecodeStatus.Ok && m!.Query is PingQuery;
            }
            catch (OperationCanceledException) when (wait.IsCancellationRequested)
            {
                break;
            }
        }

        Assert.True(pinged, "the holder of the id was pinged before being replaced");
        Assert.Equal(dead.EndPoint(), (await HeldAsync(node, id))?.Node.EndPoint);
        await clock.AdvanceAsync(TimeSpan.FromSeconds(1.5), Ct(), node);
        Assert.Equal(dead.EndPoint(), (await HeldAsync(node, id))?.Node.EndPoint);
        await clock.AdvanceAsync(TimeSpan.FromSeconds(1), Ct(), node);
        Assert.Equal(moved.EndPoint(), (await HeldAsync(node, id))?.Node.EndPoint);
        await find.WaitAsync(Ct());
        await stop.CancelAsync();
        await answering;
    }

    [Fact]
    public async Task Query_senders_that_never_answer_a_ping_stay_out_of_the_table_and_real_ones_get_in()
    {
        var clock = new Clock();
        await using var node = await ServerAsync(clock); // no bootstrap list: it learns nodes from their queries
        var to = node.LocalEndPoint;
        using var spoofed = Socket("127.0.17.1");
        var fake = NodeId.Random();
        for (var i = 0; i < 3; i++) // re-spoofing neither adds nor refreshes
        {
            Send(spoofed, to, new FindNodeQuery(fake, NodeId.Random()));
        }

        var received = (await ReceiveUntilQuietAsync(spoofed, r => r.Count >= 4)) // 3 answers and the confirming ping
            .Select(d => KrpcCodec.TryDecode(d, out var m) == DecodeStatus.Ok ? m : null).ToList();
        Assert.Equal(3, received.Count(m => m?.Response is not null)); // every find_node is answered
        Assert.Null(await HeldAsync(node, fake));
        Assert.Single(received, m => m?.Query is PingQuery); // one confirming ping per contact, however often it asks
        await clock.AdvanceAsync(TimeSpan.FromSeconds(3), Ct(), node);
        Assert.Null(await HeldAsync(node, fake));
        Assert.Equal(0, await node.Node.InvokeAsync(() => node.Node.Core.Table.Count, Ct()));

        // A real node answers the confirming ping and is added.
        using var real = Socket("127.0.18.1");
        var realId = NodeId.Random();
        using var stop = new CancellationTokenSource();
        var answering = AnswerAsAsync(real, realId, stop.Token);
        Send(real, to, new FindNodeQuery(realId, NodeId.Random()));
        await ProbesSettledAsync(node);
        Assert.Equal(real.EndPoint(), (await HeldAsync(node, realId))?.Node.EndPoint);
        await stop.CancelAsync();
        await answering;
    }
}
