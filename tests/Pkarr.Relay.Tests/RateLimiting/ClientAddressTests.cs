using System.Net;
using Microsoft.AspNetCore.Http;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay.Tests.RateLimiting;

public sealed class ClientAddressTests
{
    private static readonly IPAddress Peer = IPAddress.Parse("192.0.2.200");

    private static IPAddress Resolve(bool behindProxy, params (string Name, string[] Values)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, values) in headers)
        {
            dictionary[name] = values;
        }

        return ClientAddress.Resolve(dictionary, Peer, behindProxy);
    }

    private static (string, string[]) H(string name, params string[] values) => (name, values);

    [Fact]
    public void Without_behind_proxy_the_headers_are_ignored()
    {
        var headers = new[] { H("X-Forwarded-For", "203.0.113.7"), H("X-Real-IP", "203.0.113.8"), H("Forwarded", "for=203.0.113.9") };
        Assert.Equal(Peer, Resolve(false, headers));
        Assert.Equal(IPAddress.Parse("203.0.113.7"), Resolve(true, headers));
    }

    [Fact]
    public void The_peer_is_the_fallback_and_ipv4_mapped_peers_become_ipv4()
    {
        Assert.Equal(Peer, Resolve(true));
        Assert.Equal(Peer, ClientAddress.Resolve(new HeaderDictionary(), Peer.MapToIPv6(), behindProxy: false));
        Assert.Equal(ClientAddress.Unknown, ClientAddress.Resolve(new HeaderDictionary(), null, behindProxy: false));
        Assert.Equal(IPAddress.Parse("fe80::1"), ClientAddress.Resolve(new HeaderDictionary(), IPAddress.Parse("fe80::1%2"), behindProxy: false));
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("203.0.113.7, 10.0.0.1, 10.0.0.2", "203.0.113.7")]
    [InlineData("unknown, 203.0.113.7", "203.0.113.7")]
    [InlineData(" , garbage,127.1, 010.0.0.1, 1.2.3.4:80, 256.0.0.1, [2001:db8::1], 2001:db8::1", "2001:db8::1")]
    [InlineData("::ffff:198.51.100.4", "198.51.100.4")]
    public void X_forwarded_for_gives_its_first_entry_that_parses(string header, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), Resolve(true, H("X-Forwarded-For", header)));

    [Fact]
    public void X_forwarded_for_reads_every_header_line_in_order() =>
        Assert.Equal(IPAddress.Parse("198.51.100.2"), Resolve(true, H("X-Forwarded-For", "bad", "198.51.100.2", "198.51.100.3")));

    [Fact]
    public void X_real_ip_comes_after_x_forwarded_for()
    {
        Assert.Equal(IPAddress.Parse("198.51.100.9"), Resolve(true, H("X-Forwarded-For", "unknown, nope"), H("X-Real-IP", " 198.51.100.9 ")));
        Assert.Equal(IPAddress.Parse("198.51.100.9"), Resolve(true, H("X-Real-IP", "198.51.100.9"), H("Forwarded", "for=203.0.113.9")));
        Assert.Equal(IPAddress.Parse("203.0.113.9"), Resolve(true, H("X-Real-IP", "not-an-ip"), H("Forwarded", "for=203.0.113.9")));
    }

    [Theory]
    [InlineData("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60")]
    [InlineData("proto=http;For=\"192.0.2.61:8080\"", "192.0.2.61")]
    [InlineData("for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17")]
    [InlineData("for=\"[2001:db8:cafe::18]\"", "2001:db8:cafe::18")]
    [InlineData("for=_hidden, for=unknown, for=\"[bad]\", for=192.0.2.62", "192.0.2.62")]
    [InlineData("by=192.0.2.1;proto=https, for = 192.0.2.63", "192.0.2.63")]
    public void Forwarded_gives_its_first_for_that_names_an_ip(string header, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), Resolve(true, H("Forwarded", header)));

    [Theory]
    [InlineData("for=_hidden")]
    [InlineData("for=unknown")]
    [InlineData("by=192.0.2.1;proto=https")]
    [InlineData("for=\"[2001:db8::1\"")]
    [InlineData("for=\"[192.0.2.1]\"")]
    public void Forwarded_without_a_usable_for_falls_back_to_the_peer(string header) =>
        Assert.Equal(Peer, Resolve(true, H("Forwarded", header)));

    [Theory]
    [InlineData("1.2.3.4", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("::ffff:1.2.3.4", true)]
    [InlineData("", false)]
    [InlineData("1", false)]
    [InlineData("127.1", false)]
    [InlineData("1.2.3", false)]
    [InlineData("1.2.3.4.5", false)]
    [InlineData("01.2.3.4", false)]
    [InlineData("1.2.3.256", false)]
    [InlineData("1.2.3.-4", false)]
    [InlineData("0x7f.0.0.1", false)]
    [InlineData("1.2.3.4:80", false)]
    [InlineData("[::1]", false)]
    [InlineData("[::1]:80", false)]
    [InlineData("fe80::1%eth0", false)]
    [InlineData("2001:db8::/32", false)]
    [InlineData("1::2::3", false)]
    [InlineData("example.com", false)]
    public void Addresses_parse_strictly(string text, bool valid)
    {
        Assert.Equal(valid, ClientAddress.TryParse(text, out var address));
        Assert.Equal(valid, address is not null);
    }
}
