using System.Net;
using CsCheck;
using Mainline.Routing;

namespace Mainline.Tests.Routing;

public sealed class IpIndexTests
{
    // A node with one of three IPv4 addresses or two others (IPv6, IPv4-mapped) and one of four 21-bit prefixes (the
    // first three id bytes), so that sequences often hit the same IP and prefix.
    private static readonly string[] Ips = ["8.8.8.1", "8.8.8.2", "8.8.8.3", "2001:db8::1", "::ffff:8.8.8.1"];

    private static readonly Gen<DhtNode> GenNode = Gen.Select(Gen.Int[0, Ips.Length - 1], Gen.Int[0, 3], Gen.Byte).Select((ip, prefix, rest) =>
    {
        var id = new byte[NodeId.Size];
        id[0] = (byte)(prefix * 64);
        id[19] = rest;
        return new DhtNode(new NodeId(id), new IPEndPoint(IPAddress.Parse(Ips[ip]), 6881));
    });

    [Fact]
    public void Violates_matches_the_per_ip_rule_over_any_sequence_of_adds_and_removes()
    {
        Gen.Select(GenNode, Gen.Bool, Gen.Bool).Array[1, 60].Sample(ops =>
        {
            var index = new IpIndex();
            var held = new List<(DhtNode Node, bool Secure)>();
            foreach (var (node, secure, add) in ops)
            {
                var expected = held.Any(h => h.Node.EndPoint.Address.Equals(node.EndPoint.Address)
                    && (!secure || !h.Secure || h.Node.Prefix21 == node.Prefix21));
                Assert.Equal(expected, index.Violates(node, secure));
                if (add)
                {
                    index.Add(node, secure);
                    held.Add((node, secure));
                }
                else
                {
                    index.Remove(node, secure);
                    var at = held.FindIndex(h => h.Secure == secure && h.Node.EndPoint.Address.Equals(node.EndPoint.Address)
                        && (!secure || h.Node.Prefix21 == node.Prefix21));
                    if (at >= 0)
                    {
                        held.RemoveAt(at);
                    }
                }
            }
        }, iter: 2000);
    }

    [Fact]
    public void Secure_nodes_share_an_ip_under_different_prefixes_and_an_emptied_prefix_frees_its_slot()
    {
        var index = new IpIndex();
        var a = Node(prefix: 0);
        var b = Node(prefix: 1);
        var c = Node(prefix: 2);
        index.Add(a, secure: true);
        Assert.False(index.Violates(b, secure: true));
        Assert.True(index.Violates(Node(prefix: 0), secure: true));
        Assert.True(index.Violates(b, secure: false));
        index.Add(b, secure: true);
        index.Add(c, secure: true);

        index.Remove(a, secure: true);   // the inline prefix empties while others are listed
        Assert.False(index.Violates(a, secure: true));
        Assert.True(index.Violates(b, secure: true));
        Assert.True(index.Violates(c, secure: true));
        index.Remove(b, secure: true);
        index.Remove(c, secure: true);
        Assert.False(index.Violates(c, secure: false));   // the IP is free again, even for a non-secure node

        static DhtNode Node(int prefix)
        {
            var id = new byte[NodeId.Size];
            id[0] = (byte)(prefix * 64);
            return new DhtNode(new NodeId(id), new IPEndPoint(IPAddress.Parse("8.8.8.8"), 6881));
        }
    }
}
