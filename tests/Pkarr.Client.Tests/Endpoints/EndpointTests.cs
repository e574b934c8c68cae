using System.Net;
using Pkarr.Client.Endpoints;
using Pkarr.Dns;

namespace Pkarr.Client.Tests.Endpoints;

public sealed class EndpointTests
{
    private static readonly IPAddress V4 = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress V6 = IPAddress.Parse("2001:db8::7");

    [Fact]
    public async Task RootTargetIsThePacketWithItsDistinctApexAddresses()
    {
        var network = new FakeNetwork();
        var key = network.Add(b => b
            .Https("@", SvcbData.Https(1, DnsName.Root).WithPort(8443).WithAlpn("h2"))
            .A("@", V4)
            .Aaaa("@", V6)
            .A("@", V4)
            .A("www", IPAddress.Parse("198.51.100.1")));

        var endpoint = Assert.Single(await network.AllAsync(key.ToZ32()));

        Assert.Equal(".", endpoint.Target);
        Assert.Null(endpoint.Domain);
        Assert.Equal(8443, endpoint.Port);
        Assert.Equal(1, endpoint.Priority);
        Assert.Equal(key, endpoint.PublicKey);
        Assert.Equal([V4, V6], endpoint.Addresses);
        Assert.Equal([(ushort)SvcParamKey.Alpn, (ushort)SvcParamKey.Port], endpoint.Params.Select(p => p.Key));
        Assert.Equal([new IPEndPoint(V4, 8443), new IPEndPoint(V6, 8443)], endpoint.ToEndPoints(80));
    }

    [Fact]
    public async Task WithoutAPortTheDefaultPortIsUsedAndAZeroPortIsNone()
    {
        var network = new FakeNetwork();
        var key = network.Add(b => b.Https("@", SvcbData.Https(1, DnsName.Root).WithPort(0)).A("@", V4));

        var endpoint = Assert.Single(await network.AllAsync(key.ToZ32()));

        Assert.Null(endpoint.Port);
        Assert.Equal([new IPEndPoint(V4, 0)], endpoint.ToEndPoints());
        Assert.Equal([new IPEndPoint(V4, 8080)], endpoint.ToEndPoints(8080));
    }

    [Fact]
    public async Task IcannTargetIsADomainForTheSystemResolverWithoutAddresses()
    {
        var network = new FakeNetwork();
        var key = network.Add(b => b
            .Https("@", SvcbData.Https(1, DnsName.Parse("example.com")).WithPort(443))
            .Https("@", SvcbData.Https(2, DnsName.Parse("example.net")))
            .A("@", V4));

        var endpoints = await network.AllAsync(key.ToZ32());

        Assert.Equal(["example.com", "example.net"], endpoints.Select(e => e.Domain));
        Assert.Equal(["example.com", "example.net"], endpoints.Select(e => e.Target));
        Assert.All(endpoints, e => Assert.Empty(e.Addresses));
        Assert.Equal([new DnsEndPoint("example.com", 443)], endpoints[0].ToEndPoints(80));
        Assert.Equal([new DnsEndPoint("example.net", 80)], endpoints[1].ToEndPoints(80));
    }

    [Fact]
    public async Task OnlyRecordsOfTheRequestedTypeCount()
    {
        var network = new FakeNetwork();
        var key = network.Add(b => b
            .Https("@", SvcbData.Https(1, DnsName.Parse("https.example")))
            .Svcb("@", SvcbData.Svcb(1, DnsName.Parse("svcb.example"))));

        Assert.Equal(["https.example"], (await network.AllAsync(key.ToZ32(), https: true)).Select(e => e.Domain));
        Assert.Equal(["svcb.example"], (await network.AllAsync(key.ToZ32(), https: false)).Select(e => e.Domain));
    }
}
