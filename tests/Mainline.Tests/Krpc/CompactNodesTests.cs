using System.Net;
using Mainline.Krpc;

namespace Mainline.Tests.Krpc;

public sealed class CompactNodesTests
{
    private static byte[] Node(NodeId id, string address, ushort port)
    {
        var b = new byte[Compact.NodeSize];
        Compact.WriteNode(id, new IPEndPoint(IPAddress.Parse(address), port), b);
        return b;
    }

    [Fact]
    public void Reading_keeps_the_nodes_with_a_port_in_order_and_refuses_a_partial_node()
    {
        var (a, b) = (NodeId.Random(), NodeId.Random());
        byte[] wire = [.. Node(a, "203.0.113.1", 6881), .. Node(NodeId.Random(), "203.0.113.2", 0), .. Node(b, "198.51.100.9", 1)];

        var nodes = Compact.TryReadNodes(wire);

        Assert.NotNull(nodes);
        Assert.Equal(
            [new DhtNode(a, new IPEndPoint(IPAddress.Parse("203.0.113.1"), 6881)), new DhtNode(b, new IPEndPoint(IPAddress.Parse("198.51.100.9"), 1))],
            nodes);
        Assert.Equal(b, nodes.IdAt(1));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.51.100.9"), 1), nodes.EndPointAt(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => nodes[2]);
        Assert.Null(Compact.TryReadNodes(wire.AsMemory(0, wire.Length - 1)));
        Assert.Empty(Compact.TryReadNodes(ReadOnlyMemory<byte>.Empty)!);
        Assert.Throws<ArgumentException>(() => new CompactNodes(new byte[Compact.NodeSize + 1]));
    }

    [Fact]
    public void Nodes_that_are_all_kept_are_read_in_place_and_the_others_are_copied()
    {
        byte[] whole = [.. Node(NodeId.Random(), "203.0.113.1", 6881), .. Node(NodeId.Random(), "203.0.113.2", 6882)];
        byte[] withPortZero = [.. whole, .. Node(NodeId.Random(), "203.0.113.3", 0)];

        var inPlace = Compact.TryReadNodes(whole)!;
        var copied = Compact.TryReadNodes(withPortZero)!;
        whole[0] ^= 0xFF;
        withPortZero[0] ^= 0xFF;

        // A reply's nodes are read while its datagram is handled: no copy of the datagram's bytes.
        Assert.Equal(whole[..NodeId.Size], inPlace.IdAt(0).Bytes.ToArray());
        Assert.Equal(2, copied.Count);
        Assert.NotEqual(withPortZero[..NodeId.Size], copied.IdAt(0).Bytes.ToArray());
    }

    [Fact]
    public void Writing_copies_compact_nodes_as_they_are_and_encodes_any_list_alike()
    {
        var list = new List<DhtNode>
        {
            new(NodeId.Random(), new IPEndPoint(IPAddress.Parse("203.0.113.1"), 6881)),
            new(NodeId.Random(), new IPEndPoint(IPAddress.Parse("203.0.113.1").MapToIPv6(), 7)), // written as its IPv4
        };
        var fromList = new byte[2 * Compact.NodeSize];
        Compact.WriteNodes(list, fromList);
        var compact = new CompactNodes(fromList);
        var fromCompact = new byte[2 * Compact.NodeSize];
        Compact.WriteNodes(compact, fromCompact);

        Assert.Equal(fromList, fromCompact);
        Assert.Equal(list[0], compact[0]);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.1"), 7), compact[1].EndPoint);
        Assert.Same(compact, compact.Take(2));
        Assert.Equal([compact[0]], compact.Take(1));
        Assert.Empty(compact.Take(0));
    }
}
