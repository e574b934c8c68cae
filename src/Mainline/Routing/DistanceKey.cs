// The sort key of the node lists (shared spec §8.2): secure nodes first, then ascending XOR distance to a target.
// Computed once per node and compared as integers, because lookups and replies order every node they see; 24 bytes,
// as every lookup keeps one per candidate.
using System.Buffers.Binary;

namespace Mainline.Routing;

/// <summary>Where a node sorts around a target: secure first, then the whole 160-bit XOR distance, big-endian in
/// three words.</summary>
internal readonly record struct DistanceKey(ulong High, ulong Middle, uint Low, bool NotSecure) : IComparable<DistanceKey>
{
    public static DistanceKey Of(NodeId target, NodeId id, bool secure)
    {
        ReadOnlySpan<byte> t = target.Bytes, x = id.Bytes;
        return new DistanceKey(
            BinaryPrimitives.ReadUInt64BigEndian(t) ^ BinaryPrimitives.ReadUInt64BigEndian(x),
            BinaryPrimitives.ReadUInt64BigEndian(t[8..]) ^ BinaryPrimitives.ReadUInt64BigEndian(x[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(t[16..]) ^ BinaryPrimitives.ReadUInt32BigEndian(x[16..]),
            !secure);
    }

    public int CompareTo(DistanceKey other) =>
        NotSecure != other.NotSecure ? (NotSecure ? 1 : -1)
        : High != other.High ? High.CompareTo(other.High)
        : Middle != other.Middle ? Middle.CompareTo(other.Middle)
        : Low.CompareTo(other.Low);
}
