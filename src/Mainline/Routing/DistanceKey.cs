// The sort key of the node lists (shared spec §8.2): secure nodes first, then ascending XOR distance to a target.
// Computed once per node and compared as integers, because lookups and replies order every node they see.
using System.Buffers.Binary;

namespace Mainline.Routing;

/// <summary>Where a node sorts around a target: secure first, then the whole 160-bit XOR distance.</summary>
internal readonly record struct DistanceKey(bool NotSecure, UInt128 High, uint Low) : IComparable<DistanceKey>
{
    public static DistanceKey Of(NodeId target, NodeId id, bool secure)
    {
        var low = BinaryPrimitives.ReadUInt32BigEndian(id.Bytes[16..]) ^ BinaryPrimitives.ReadUInt32BigEndian(target.Bytes[16..]);
        return new DistanceKey(!secure, target.Distance128(id), low);
    }

    public int CompareTo(DistanceKey other) =>
        NotSecure != other.NotSecure ? (NotSecure ? 1 : -1)
        : High != other.High ? High.CompareTo(other.High)
        : Low.CompareTo(other.Low);
}
