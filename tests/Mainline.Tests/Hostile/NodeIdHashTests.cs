using System.Security.Cryptography;

namespace Mainline.Tests.Hostile;

/// <summary>Issue 9, Low: ids are chosen by peers, so their hash codes must not be a function the peer controls.</summary>
public sealed class NodeIdHashTests
{
    /// <summary><paramref name="count"/> random ids that share their first <paramref name="prefix"/> bytes.</summary>
    private static List<NodeId> SharingPrefix(int count, int prefix)
    {
        var ids = new List<NodeId>(count);
        Span<byte> bytes = stackalloc byte[NodeId.Size];
        for (var i = 0; i < count; i++)
        {
            RandomNumberGenerator.Fill(bytes);
            bytes[..prefix].Fill(0xAB);
            ids.Add(new NodeId(bytes));
        }

        return ids;
    }

    [Theory]
    [InlineData(4)] // what the old hash read
    [InlineData(16)] // all but the last four bytes
    public void Ids_sharing_a_prefix_do_not_share_hash_codes(int prefix)
    {
        var ids = SharingPrefix(2000, prefix);
        Assert.Equal(ids.Count, ids.Distinct().Count());

        // A 32-bit hash gives 2000 random ids ~5e-4 expected collisions; allow a few, never a bucket of them.
        var distinctHashes = ids.Select(id => id.GetHashCode()).Distinct().Count();
        Assert.True(distinctHashes >= ids.Count - 3, $"{distinctHashes} distinct hash codes for {ids.Count} ids");

        // The low bits pick the bucket of a hash set: they are spread too.
        var buckets = ids.GroupBy(id => id.GetHashCode() & 1023).Max(g => g.Count());
        Assert.True(buckets <= 12, $"{buckets} of {ids.Count} ids in one of 1024 buckets");
    }

    [Fact]
    public void Equality_and_hash_agree()
    {
        var id = NodeId.Random();
        var copy = new NodeId(id.ToArray());
        Assert.Equal(id, copy);
        Assert.True(id == copy);
        Assert.Equal(id.GetHashCode(), copy.GetHashCode());

        for (var i = 0; i < NodeId.Size; i++)
        {
            var bytes = id.ToArray();
            bytes[i] ^= 1;
            var other = new NodeId(bytes);
            Assert.NotEqual(id, other);
            Assert.True(id != other);
        }

        var set = new HashSet<NodeId>(SharingPrefix(500, 4)) { id };
        Assert.Contains(copy, set);
        Assert.Equal(501, set.Count);
    }
}
