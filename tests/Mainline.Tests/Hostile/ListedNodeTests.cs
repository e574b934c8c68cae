using System.Net;
using Mainline.Rpc;

namespace Mainline.Tests.Hostile;

/// <summary>
/// Issue 9, High 2: what a lookup takes from one reply's node list: at most 16 new nodes, the closest first;
/// never unusable endpoints; private ones only on a private network.
/// </summary>
public sealed class ListedNodeTests
{
    private static readonly NodeId Self = NodeId.Random();

    private static Lookup NewLookup() => new(new LookupKey(NodeId.Random(), LookupKind.Get, null), null, 0);

    private static DhtNode At(string endPoint, NodeId? id = null) => new(id ?? NodeId.Random(), IPEndPoint.Parse(endPoint));

    [Fact]
    public void One_reply_adds_at_most_sixteen_new_nodes_the_closest_first()
    {
        var lookup = NewLookup();
        var listed = Enumerable.Range(0, 24).Reverse().Select(i => At($"198.51.100.{10 + i}:6881", RawPeer.Near(lookup.Target, i))).ToList();
        lookup.AddListed(listed, Self, privateNetwork: false);

        Assert.Equal(Lookup.MaxNewNodesPerReply, lookup.Candidates.Count);
        Assert.All(lookup.Candidates.Nodes, c => Assert.InRange(c.Node.EndPoint.Address.GetAddressBytes()[3], 10, 10 + Lookup.MaxNewNodesPerReply - 1));

        // Nodes the lookup already holds do not count: a second listing of all 24 adds the 8 left out.
        lookup.AddListed(listed, Self, privateNetwork: false);
        Assert.Equal(24, lookup.Candidates.Count);
    }

    [Theory]
    [InlineData(true, 3)] // a private network takes loopback and private nodes
    [InlineData(false, 1)] // a public node only the public one
    public void Unusable_endpoints_never_join_and_private_ones_only_on_a_private_network(bool privateNetwork, int expected)
    {
        var lookup = NewLookup();
        string[] listed = ["0.0.0.0:6881", "198.51.100.7:0", "224.0.0.251:5353", "255.255.255.255:6881", "127.0.0.9:6881", "192.168.1.9:6881", "198.51.100.7:6881"];
        lookup.AddListed([.. listed.Select(e => At(e)), At("198.51.100.8:6881", Self)], Self, privateNetwork);

        Assert.Equal(expected, lookup.Candidates.Count);
        Assert.Contains(lookup.Candidates.Nodes, c => c.Node.EndPoint.Equals(IPEndPoint.Parse("198.51.100.7:6881")));
    }

    [Fact]
    public void A_timed_out_endpoint_leaves_and_stays_out_and_a_replied_one_keeps_only_its_own_id()
    {
        // On loopback (a private network), where one IP may hold several ids.
        var lookup = NewLookup();
        var silent = At("127.0.0.21:6881", RawPeer.Near(lookup.Target, 0));
        var honest = At("127.0.0.22:6881");
        lookup.AddListed([silent, honest, At("127.0.0.22:6881", RawPeer.Near(lookup.Target, 1))], Self, privateNetwork: true);
        Assert.Equal(3, lookup.Candidates.Count);

        lookup.TimedOut(silent.EndPoint);
        lookup.RepliedWith(honest, Self);
        Assert.Equal([honest], lookup.Candidates.Nodes.Select(c => c.Node));

        // Listed again, neither the silent node nor another id at the honest node's endpoint comes back.
        lookup.AddListed([silent, At("127.0.0.22:6881", RawPeer.Near(lookup.Target, 2))], Self, privateNetwork: true);
        Assert.Equal([honest], lookup.Candidates.Nodes.Select(c => c.Node));
    }

    [Fact]
    public void Exempt_addresses_do_not_rank_as_secure()
    {
        var lookup = NewLookup();
        var ip = IPAddress.Parse("198.51.100.77");
        var secure = new DhtNode(NodeId.CreateSecure(ip), new IPEndPoint(ip, 6881));
        var loopbackNextToTarget = At("127.0.0.5:6881", RawPeer.Near(lookup.Target, 0));
        Assert.True(secure.IsSecure && loopbackNextToTarget.IsSecure);
        lookup.AddListed([loopbackNextToTarget, secure], Self, privateNetwork: true);

        // The proven node ranks first although the loopback one is next to the target.
        Assert.Equal(secure, lookup.Candidates.Nodes[0].Node);
    }
}
