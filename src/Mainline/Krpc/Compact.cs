// Compact node info (BEP 5): 20-byte id + 4-byte IPv4 + 2-byte big-endian port = 26 bytes.
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

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

    /// <summary>Reads a <c>nodes</c> string (entries with port 0 left out); null when its length is not a multiple
    /// of 26.</summary>
    /// <remarks>When every entry is kept (nearly always) and <paramref name="b"/> is an array's, the nodes point into
    /// it instead of a copy: a lookup reads the nodes of every reply once, while the datagram is being handled.</remarks>
    public static CompactNodes? TryReadNodes(ReadOnlyMemory<byte> b)
    {
        var span = b.Span;
        if (span.Length % NodeSize != 0)
        {
            return null;
        }

        var kept = 0;
        for (var i = 0; i < span.Length; i += NodeSize)
        {
            kept += PortAt(span, i) != 0 ? 1 : 0;
        }

        if (kept * NodeSize == span.Length && MemoryMarshal.TryGetArray(b, out var segment))
        {
            return new CompactNodes(segment);
        }

        var bytes = new byte[kept * NodeSize];
        var at = 0;
        for (var i = 0; i < span.Length; i += NodeSize)
        {
            if (PortAt(span, i) != 0)
            {
                span.Slice(i, NodeSize).CopyTo(bytes.AsSpan(at));
                at += NodeSize;
            }
        }

        return new CompactNodes(bytes);

        static int PortAt(ReadOnlySpan<byte> b, int node) => BinaryPrimitives.ReadUInt16BigEndian(b[(node + NodeSize - 2)..]);
    }

    /// <summary>Writes <paramref name="nodes"/> into the first 26 · n bytes of <paramref name="b"/>.</summary>
    public static void WriteNodes(IReadOnlyList<DhtNode> nodes, Span<byte> b)
    {
        if (nodes is CompactNodes compact)
        {
            compact.Bytes.CopyTo(b);
            return;
        }

        for (var i = 0; i < nodes.Count; i++)
        {
            WriteNode(nodes[i].Id, nodes[i].EndPoint, b[(i * NodeSize)..]);
        }
    }

    /// <summary>Writes one node (26 bytes) at the start of <paramref name="b"/>.</summary>
    public static void WriteNode(NodeId id, IPEndPoint endPoint, Span<byte> b)
    {
        id.Bytes.CopyTo(b);
        WriteAddress(endPoint, b.Slice(NodeId.Size, AddressSize));
    }
}

/// <summary>
/// Nodes in their compact form, 26 bytes each: the <c>nodes</c> of a reply as read from or written to the wire. A reply
/// lists up to 20 nodes and a lookup reads dozens of replies, most of whose nodes it already knows, so a node is built
/// (id, endpoint, address: three objects) only when an item is read; <see cref="IdAt"/> reads an id alone.
/// </summary>
internal sealed class CompactNodes : IReadOnlyList<DhtNode>
{
    private readonly ArraySegment<byte> _bytes;

    /// <summary>Wraps <paramref name="bytes"/> (26 · n bytes, not copied: the caller keeps them unchanged while the
    /// nodes are in use).</summary>
    public CompactNodes(ArraySegment<byte> bytes)
    {
        if (bytes.Count % Compact.NodeSize != 0)
        {
            throw new ArgumentException($"Compact nodes are {Compact.NodeSize} bytes each; got {bytes.Count} bytes.", nameof(bytes));
        }

        _bytes = bytes;
    }

    public static CompactNodes Empty { get; } = new(ArraySegment<byte>.Empty);

    public ReadOnlySpan<byte> Bytes => _bytes;

    public int Count => _bytes.Count / Compact.NodeSize;

    public DhtNode this[int index] => new(IdAt(index), EndPointAt(index));

    public NodeId IdAt(int index) => new(Node(index)[..NodeId.Size]);

    public IPEndPoint EndPointAt(int index)
    {
        Compact.TryReadAddress(Node(index)[NodeId.Size..], out var endPoint);
        return endPoint;
    }

    /// <summary>The first <paramref name="count"/> nodes (all when there are no more).</summary>
    public CompactNodes Take(int count) => count >= Count ? this : new(_bytes[..(Math.Max(0, count) * Compact.NodeSize)].ToArray());

    public IEnumerator<DhtNode> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private ReadOnlySpan<byte> Node(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _bytes.AsSpan(index * Compact.NodeSize, Compact.NodeSize);
    }
}
