using System.Net;
using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

public class AddressesTests
{
    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("127.0.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("172.20.0.1")]
    [InlineData("169.254.3.3")]
    [InlineData("100.64.0.1")]
    [InlineData("0.1.2.3")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("192.0.2.7")]
    [InlineData("198.51.100.7")]
    [InlineData("203.0.113.7")]
    public void Reserved_addresses_are_never_handed_out(string address)
    {
        Assert.True(Addresses.TryToUInt32(IPAddress.Parse(address), out var a));
        Assert.False(Addresses.IsPublic(a));
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("93.184.216.34")]
    [InlineData("172.32.0.1")]
    public void Public_addresses_are(string address)
    {
        Assert.True(Addresses.TryToUInt32(IPAddress.Parse(address), out var a));
        Assert.True(Addresses.IsPublic(a));
        Assert.Equal(IPAddress.Parse(address), Addresses.ToIPAddress(a));
    }

    [Fact]
    public void Addresses_are_unique_and_ids_secure_and_reproducible()
    {
        var pool = new Addresses(new SimRandom(9));
        var again = new Addresses(new SimRandom(9));
        var ids = new SimRandom(10);
        var idsAgain = new SimRandom(10);
        var seen = new HashSet<uint>();
        for (var i = 0; i < 5000; i++)
        {
            var a = pool.Next();
            Assert.Equal(a, again.Next());
            Assert.True(seen.Add(a));
            Assert.True(Addresses.IsPublic(a));
            var ip = Addresses.ToIPAddress(a);
            var id = Addresses.SecureId(ip, ids);
            Assert.True(id.IsValidFor(ip));
            Assert.Equal(id, Addresses.SecureId(ip, idsAgain));
            Assert.False(id.IsValidFor(Addresses.ToIPAddress(a ^ 0x01000000u)) && id.IsValidFor(Addresses.ToIPAddress(a ^ 0x00010000u)));
        }
    }
}
