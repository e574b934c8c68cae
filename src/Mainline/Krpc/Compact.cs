// Compact node info (BEP 5): 20-byte id + 4-byte IPv4 + 2-byte big-endian port = 26 bytes.
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Mainline.Krpc;

/// <summary>Compact encodings of BEP 5 (shared spec §3.1).</summary>
internal static class Compact
{
    public const int AddressSize = 6;
    public const int NodeSize = NodeId.Size + AddressSize;

    public static bool TryReadAddress(ReadOnlySpan<byte> b, out IPEndPoint endPoint)
    {
        if (b.Length != AddressSize)
        {
            endPoint = null!;
            return false;
        }

        endPoint = new IPEndPoint(new IPAddress(b[..4]), BinaryPrimitives.ReadUInt16BigEndian(b[4..]));
        return true;
    }

    public static byte[] WriteAddress(IPEndPoint endPoint)
    {
        var b = new byte[AddressSize];
        WriteAddress(endPoint, b);
        return b;
    }

    public static void WriteAddress(IPEndPoint endPoint, Span<byte> b)
    {
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        if (address.AddressFamily != AddressFamily.InterNetwork || !address.TryWriteBytes(b[..4], out _))
        {
            b[..4].Clear();
        }

        BinaryPrimitives.WriteUInt16BigEndian(b[4..], (ushort)endPoint.Port);
    }

    /// <summary>Reads a <c>nodes</c> string; null when its length is not a multiple of 26.</summary>
    public static List<DhtNode>? TryReadNodes(ReadOnlySpan<byte> b)
    {
        if (b.Length % NodeSize != 0)
        {
            return null;
        }

        var nodes = new List<DhtNode>(b.Length / NodeSize);
        for (var i = 0; i < b.Length; i += NodeSize)
        {
            TryReadAddress(b.Slice(i + NodeId.Size, AddressSize), out var ep);
            if (ep.Port != 0)
            {
                nodes.Add(new DhtNode(new NodeId(b.Slice(i, NodeId.Size)), ep));
            }
        }

        return nodes;
    }

    /// <summary>Writes <paramref name="nodes"/> into the first 26 · n bytes of <paramref name="b"/>.</summary>
    public static void WriteNodes(IReadOnlyList<DhtNode> nodes, Span<byte> b)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            nodes[i].Id.Bytes.CopyTo(b[(i * NodeSize)..]);
            WriteAddress(nodes[i].EndPoint, b.Slice((i * NodeSize) + NodeId.Size, AddressSize));
        }
    }
}
