using System.Net;
using System.Text;

namespace Mainline.Tests;

public sealed class NodeIdTests
{
    [Fact]
    public void Crc32c_check_value() => Assert.Equal(0xE3069283u, NodeId.Crc32C(Encoding.ASCII.GetBytes("123456789")));

    [Theory]
    [InlineData("124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401")]
    [InlineData("21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256")]
    [InlineData("65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616")]
    [InlineData("84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41")]
    [InlineData("43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a")]
    public void Bep42_vectors(string ip, int r, string validId)
    {
        var address = IPAddress.Parse(ip);
        var id = NodeId.Parse(validId);
        Assert.Equal(r, id.Bytes[19]);
        Assert.True(id.IsValidFor(address));
        var crc = NodeId.Bep42Crc(address, (byte)r);
        Assert.Equal(id.Bytes[0], (byte)(crc >> 24));
        Assert.Equal(id.Bytes[1], (byte)(crc >> 16));
        Assert.Equal(id.Bytes[2] & 0xF8, (int)((crc >> 8) & 0xF8));

        // Flipping a bit among the first 21 breaks validity; generated ids are valid.
        var bytes = id.ToArray();
        bytes[2] ^= 0x08;
        Assert.False(new NodeId(bytes).IsValidFor(address));
        for (var i = 0; i < 20; i++)
        {
            Assert.True(NodeId.CreateSecure(address).IsValidFor(address));
        }
    }

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.1")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.3.3")]
    [InlineData("127.0.0.1")]
    public void Private_and_loopback_addresses_are_exempt(string ip) =>
        Assert.True(NodeId.Random().IsValidFor(IPAddress.Parse(ip)));

    [Fact]
    public void Public_addresses_are_not_exempt()
    {
        Assert.False(NodeId.IsExempt(IPAddress.Parse("172.32.0.1")));
        Assert.False(NodeId.IsExempt(IPAddress.Parse("8.8.8.8")));
    }

    [Fact]
    public void Bucket_distance()
    {
        var a = NodeId.Parse("0639a1e24fbb8ab277df033476ab0de10fad3a0b");
        var b = NodeId.Parse("035b1aebdd2ad2c4e8e9e8d19c3c79bb0aa18e23");
        Assert.Equal(155, a.BucketDistance(b));
        Assert.Equal(0, a.BucketDistance(a));
        var c = a.ToArray();
        c[0] ^= 0x80;
        Assert.Equal(160, a.BucketDistance(new NodeId(c)));
        c = a.ToArray();
        c[19] ^= 0x01;
        Assert.Equal(1, a.BucketDistance(new NodeId(c)));
    }

    [Fact]
    public void Distance_ordering_and_hex()
    {
        var target = NodeId.Parse(new string('0', 40));
        var near = NodeId.Parse("00" + new string('f', 38));
        var far = NodeId.Parse("01" + new string('0', 38));
        Assert.True(target.CompareDistance(near, far) < 0);
        Assert.True(target.CompareDistance(far, near) > 0);
        Assert.Equal(0, target.CompareDistance(far, far));
        Assert.False(NodeId.TryParse("zz", null, out _));
        Assert.False(NodeId.TryParse(new string('g', 40), null, out _));
        Assert.Equal("00" + new string('f', 38), near.ToString());
    }

    [Fact]
    public void Distance_compares_as_the_big_endian_xor_in_every_byte()
    {
        var random = new Random(7);
        var bytes = new byte[3][];
        for (var round = 0; round < 3000; round++)
        {
            for (var i = 0; i < 3; i++)
            {
                bytes[i] = new byte[NodeId.Size];
                random.NextBytes(bytes[i]);
            }

            // Make a and b agree with each other up to a random byte, so that every word decides some comparisons.
            var same = random.Next(NodeId.Size + 1);
            bytes[1].AsSpan(0, same).CopyTo(bytes[2]);
            var (target, a, b) = (new NodeId(bytes[0]), new NodeId(bytes[1]), new NodeId(bytes[2]));
            var expected = Xor(bytes[1], bytes[0]).CompareTo(Xor(bytes[2], bytes[0]));
            Assert.Equal(Math.Sign(expected), Math.Sign(target.CompareDistance(a, b)));
            Assert.Equal(-Math.Sign(expected), Math.Sign(target.CompareDistance(b, a)));
        }

        static System.Numerics.BigInteger Xor(byte[] x, byte[] t) =>
            new(x.Zip(t, (p, q) => (byte)(p ^ q)).ToArray(), isUnsigned: true, isBigEndian: true);
    }
}
