using System.Net;
using Mainline.Krpc;
using Mainline.Rpc;

namespace Mainline.Tests.Hostile;

/// <summary>
/// Issue 9, Medium 5: a few voters cannot move our external address (and with it our BEP 42 id), and an id
/// change keeps the routing table.
/// </summary>
public sealed class AddressVoteTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Theory]
    [InlineData("203.0.113.66:6881")]
    [InlineData("127.0.9.9:6881")]
    public async Task Hostile_voters_from_two_networks_cannot_move_our_address_or_id(string claim)
    {
        var ct = Ct();
        var claimed = IPEndPoint.Parse(claim);
        var clock = new Clock();
        await using var node = await Dht.CreateAsync(
            new DhtOptions { Bootstrap = [], Port = 0, BindAddress = IPAddress.Loopback, Mode = DhtMode.Server, TimeProvider = clock.Time }, ct);
        var id = await node.Node.InvokeAsync(() => node.Node.Core.Id, ct);

        // Six liars in two /24 networks (127.0.0.0/24 and 127.0.1.0/24), all claiming the same address for us.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var voters = new List<RawPeer>();
        try
        {
            foreach (var network in new[] { "127.0.0.2", "127.0.1.2" })
            {
                for (var i = 0; i < 3; i++)
                {
                    var voter = new RawPeer(NodeId.Random(), IPAddress.Parse(network));
                    voters.Add(voter);
                    _ = voter.AnswerAllAsync(_ => new Response { Id = voter.Id, Nodes = [] }, stop.Token, claimed);
                }
            }

            // The node treats itself as a public one (as if bound to a public address), then runs several lookups.
            await node.Node.InvokeAsync(
                () =>
                {
                    node.Node.Core.PrivateNetwork = false;
                    foreach (var v in voters)
                    {
                        node.Node.Core.Table.Add(v.Node, node.Node.Now);
                    }

                    return true;
                }, ct);
            for (var round = 0; round < 3; round++)
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await node.Node.InvokeAsync(() => { node.Node.Core.StartSelfLookup().OnCompleted(_ => done.TrySetResult()); return true; }, ct);
                await done.Task.WaitAsync(ct);
            }

            Assert.Null(await node.Node.InvokeAsync(() => node.Node.Core.PublicEndPoint, ct));

            // Even a ping spoofed from the claimed address (the check that our address works) changes nothing.
            node.Node.Inject(KrpcCodec.EncodeQuery([1, 2, 3, 4], new PingQuery(NodeId.Random()), [], readOnly: false), claimed);
            Assert.Equal(id, await node.Node.InvokeAsync(() => node.Node.Core.Id, ct));
            Assert.Null(await node.Node.InvokeAsync(() => node.Node.Core.PublicEndPoint, ct));
        }
        finally
        {
            await stop.CancelAsync();
            voters.ForEach(v => v.Dispose());
        }
    }

    [Fact]
    public async Task An_id_change_keeps_the_routing_table()
    {
        var ct = Ct();
        var clock = new Clock();
        await using var node = await Dht.CreateAsync(
            new DhtOptions { Bootstrap = [], Port = 0, BindAddress = IPAddress.Loopback, Mode = DhtMode.Server, TimeProvider = clock.Time }, ct);
        var known = Enumerable.Range(0, Limits.K).Select(i => new DhtNode(NodeId.Random(), new IPEndPoint(IPAddress.Loopback, 20_000 + i))).ToList();
        var (before, after, kept) = await node.Node.InvokeAsync(
            () =>
            {
                foreach (var n in known)
                {
                    node.Node.Core.Table.Add(n, node.Node.Now);
                }

                var before = node.Node.Core.Table.Count;
                node.Node.Core.OnOwnPingReturned(IPEndPoint.Parse("203.0.113.7:6881"));
                return (before, node.Node.Core.Table.Count, known.Count(n => node.Node.Core.Table.Find(n.Id) is not null));
            }, ct);

        Assert.Equal(Limits.K, before);
        Assert.True(NodeId.IsExempt(IPAddress.Loopback));
        Assert.True(await node.Node.InvokeAsync(() => node.Node.Core.Id.IsValidFor(IPAddress.Parse("203.0.113.7")), ct));
        Assert.Equal(Limits.K, kept); // 20 nodes fit in any bucket layout
        Assert.Equal(Limits.K, after);
    }
}
