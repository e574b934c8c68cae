using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Http;
using Pkarr.DnsServer.Query;
using Pkarr.DnsServer.RateLimiting;
using Pkarr.DnsServer.Tests.Http;
using static Pkarr.DnsServer.Tests.Listeners.ListenerFixture;

namespace Pkarr.DnsServer.Tests.Listeners;

/// <summary>The transport items of shared spec pkarr.md §9.5 (where pkdns falls short), each proved not to hold here.
/// Test names start with the §9.5 item.</summary>
public sealed class Pkdns95TransportTests
{
    [Fact]
    public async Task UdpSize_no_TCP_listener__queries_are_answered_over_TCP_on_the_UDP_port()
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler);
        using var tcp = await ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.UdpEndPoint.Port));

        await tcp.SendAsync(Frame(FakeQueryHandler.Query(1)));

        Assert.Equal(1, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
        Assert.Equal(DnsTransport.Tcp, Assert.Single(handler.Calls).Context.Transport);
    }

    [Fact]
    public async Task UdpSize_1024_byte_receive_buffer__a_4096_byte_datagram_arrives_whole()
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler);
        using var client = Udp();
        byte[] query = [.. FakeQueryHandler.Query(2), .. new byte[4096 - 24]];

        await client.SendToAsync(query, listener.UdpEndPoint);

        Assert.Equal(4096, (await ReceiveAsync(client)).Length);
        Assert.Equal(4096, Assert.Single(handler.Calls).Length);
    }

    [Theory]
    [InlineData("application/dns-message, */*")]
    [InlineData("*/*")]
    [InlineData("application/dns-message;q=0.9")]
    public async Task DoH_Accept_must_match_exactly__lists_wildcards_and_parameters_are_answered(string accept)
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, DohEndpoint.Path) { Content = DohEndpointTests.Message(FakeQueryHandler.Query(3)) };
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, FakeQueryHandler.IdOf(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task DoH_max_age_300_on_errors__failures_are_no_store_and_answers_follow_their_TTLs()
    {
        var handler = new FakeQueryHandler();
        handler.Canned[4] = DohEndpointTests.Response(4, rcode: 2);
        handler.Canned[5] = DohEndpointTests.Response(5, rcode: 5);
        handler.Canned[6] = DohEndpointTests.Response(6, rcode: 3, authorities:
            [new ResourceRecord(DnsName.Parse("test"), DnsClass.IN, 900,
                new SoaData(DnsName.Parse("ns.test"), DnsName.Parse("admin.test"), 1, 3600, 600, 86400, 60))]);
        await using var server = await DohServer.StartAsync(handler);

        Assert.Equal("no-store", await CacheControlAsync(server, 4));
        Assert.Equal("no-store", await CacheControlAsync(server, 5));
        Assert.Equal("max-age=60", await CacheControlAsync(server, 6));
    }

    [Fact]
    public async Task Limits_X_Forwarded_For_trusted_unconditionally__ignored_unless_behind_a_proxy()
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler, behindProxy: false);
        using var request = new HttpRequestMessage(HttpMethod.Post, DohEndpoint.Path) { Content = DohEndpointTests.Message(FakeQueryHandler.Query(7)) };
        request.Headers.Add("X-Forwarded-For", "198.51.100.9");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(IPAddress.Loopback, Assert.Single(handler.Calls).Context.Client);
    }

    [Fact]
    public async Task Limits_disable_any_queries_skips_DoH__DoH_queries_reach_the_query_pipeline_as_HTTPS()
    {
        // The pipeline refuses ANY per transport; DoH must hand its queries over like UDP and TCP, marked as HTTPS.
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);
        byte[] any = new DnsMessage
        {
            Id = 8,
            Flags = 0x0100,
            Questions = [new DnsQuestion(DnsName.Parse("a.test"), (RecordType)255, DnsClass.IN)],
        }.Encode();

        using var response = await server.Client.PostAsync(DohEndpoint.Path, DohEndpointTests.Message(any));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = Assert.Single(handler.Calls);
        Assert.Equal(DnsTransport.Https, call.Context.Transport);
        Assert.Equal(any.Length, call.Length);
    }

    [Fact]
    public void Limits_dual_stack_v4_mapped_clients_share_one_bucket__each_IPv4_client_has_its_own()
    {
        using var limits = new DnsRateLimits(1, 1, 0, 0, new FakeTimeProvider());
        var first = IPAddress.Parse("::ffff:192.0.2.1");
        var second = IPAddress.Parse("::ffff:192.0.2.2");

        Assert.True(limits.TryAcquireQuery(first));
        Assert.False(limits.TryAcquireQuery(first));
        Assert.False(limits.TryAcquireQuery(IPAddress.Parse("192.0.2.1")));
        Assert.True(limits.TryAcquireQuery(second));
        Assert.Equal(IPAddress.Parse("192.0.2.2"), DnsRateLimits.KeyOf(second));
    }

    [Fact]
    public async Task Limits_dual_stack_v4_mapped_clients_share_one_bucket__the_listener_reports_each_IPv4_client()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return; // No IPv6 on this machine: no dual-stack socket to prove it on.
        }

        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler, endPoint: new IPEndPoint(IPAddress.IPv6Any, 0));
        using var client = Udp();

        await client.SendToAsync(FakeQueryHandler.Query(9), new IPEndPoint(IPAddress.Loopback, listener.UdpEndPoint.Port));
        await ReceiveAsync(client);

        var reported = Assert.Single(handler.Calls).Context.Client;
        Assert.Equal(AddressFamily.InterNetworkV6, reported.AddressFamily);
        Assert.Equal(IPAddress.Loopback, DnsRateLimits.KeyOf(reported));
    }

    private static async Task<string?> CacheControlAsync(DohServer server, ushort id)
    {
        using var response = await server.Client.PostAsync(DohEndpoint.Path, DohEndpointTests.Message(FakeQueryHandler.Query(id)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.CacheControl?.ToString();
    }
}
