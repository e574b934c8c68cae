// Proof of forwarding against real upstreams on 127.0.0.1 (never a public resolver): unbound's answers pass through
// with the client's id; answers and NXDOMAIN (RFC 2308) are served from our cache once unbound is gone; an upstream
// that never answers is SERVFAIL, that SERVFAIL is not cached, and its late reply is ignored.

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Tests.Tools;

[Collection(ToolsCollection.Name)]
public sealed class ForwardingProofTests
{
    [Fact]
    public async Task Forwarded_answers_keep_the_client_id_and_outlive_the_upstream_while_cached()
    {
        using var unbound = await UnboundServer.StartAsync();
        await using var server = await ToolsFixture.StartServerAsync(unbound.EndPoint, _ => { });
        var dns = server.UdpEndPoint;

        // Through us as from unbound itself, each reply with the id the client chose (UDP and TCP).
        var direct = await RawDns.UdpRequiredAsync(unbound.EndPoint, RawDns.Query(1, $"www.{UnboundServer.Zone}", RecordType.A));
        foreach (ushort id in new ushort[] { 0, 1, 0x7777, 0xBEEF, 0xFFFF })
        {
            var reply = await RawDns.UdpRequiredAsync(dns, RawDns.Query(id, $"www.{UnboundServer.Zone}", RecordType.A));
            Assert.Equal(id, reply.Id);
            Assert.Equal(RawDns.NoError, RawDns.Rcode(reply));
            Assert.Equal(direct.Answers.Select(a => a.Data.ToString()), reply.Answers.Select(a => a.Data.ToString()));
        }

        var tcp = await RawDns.TcpAsync(dns, RawDns.Query(0x4242, $"www.{UnboundServer.Zone}", RecordType.AAAA));
        Assert.Equal(0x4242, tcp.Id);
        Assert.Equal(UnboundServer.WwwAaaa, Assert.Single(tcp.Answers).Data.ToString());

        var nx = await RawDns.UdpRequiredAsync(dns, RawDns.Query(2, $"gone.{UnboundServer.NxZone}", RecordType.A));
        Assert.Equal(RawDns.NxDomain, RawDns.Rcode(nx));
        Assert.Equal(RecordType.SOA, Assert.Single(nx.Authorities).Type);
        var dig = await ExternalTool.RunAsync(ExternalTool.Require(ExternalTool.Dig, "bind9-dnsutils"),
            ["@127.0.0.1", "-p", dns.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "+time=5", "+tries=1", $"long.{UnboundServer.Zone}", "TXT"],
            TimeSpan.FromSeconds(30));
        Assert.Equal($"\"{UnboundServer.LongText[..200]}\" \"{UnboundServer.LongText[200..]}\"", Assert.Single(DigOutput.Parse(dig.Output).Answer).Data);

        // The upstream goes away: what was asked within its TTL is still answered, positive and negative.
        unbound.Stop();
        var cached = await RawDns.UdpRequiredAsync(dns, RawDns.Query(3, $"www.{UnboundServer.Zone}", RecordType.A));
        Assert.Equal(RawDns.NoError, RawDns.Rcode(cached));
        Assert.Equal(UnboundServer.WwwA, Assert.Single(cached.Answers).Data.ToString());
        Assert.InRange(cached.Answers[0].Ttl, 1u, 300u);
        var cachedNx = await RawDns.UdpRequiredAsync(dns, RawDns.Query(4, $"gone.{UnboundServer.NxZone}", RecordType.A));
        Assert.Equal(RawDns.NxDomain, RawDns.Rcode(cachedNx));
        Assert.Equal(4, cachedNx.Id);

        // A question never asked cannot be: SERVFAIL once the upstream does not answer, with the client's id.
        var unanswerable = await RawDns.UdpRequiredAsync(dns, RawDns.Query(5, $"mail.{UnboundServer.Zone}", RecordType.A), TimeSpan.FromSeconds(15));
        Assert.Equal(RawDns.ServFail, RawDns.Rcode(unanswerable));
        Assert.Equal(5, unanswerable.Id);
    }

    [Fact]
    public async Task An_upstream_that_never_answers_is_servfail_not_cached_and_its_late_reply_is_ignored()
    {
        // The "upstream": a socket the test reads only when it chooses to.
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        upstream.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var upstreamEndPoint = (IPEndPoint)upstream.LocalEndPoint!;
        await using var server = await ToolsFixture.StartServerAsync(upstreamEndPoint, options => options.Dns.ForwardTimeout = TimeSpan.FromMilliseconds(500));
        string name = $"slow.{UnboundServer.Zone}";

        var started = DateTime.UtcNow;
        var reply = await RawDns.UdpRequiredAsync(server.UdpEndPoint, RawDns.Query(0x5151, name, RecordType.A), TimeSpan.FromSeconds(15));
        Assert.Equal(RawDns.ServFail, RawDns.Rcode(reply));
        Assert.Equal(0x5151, reply.Id);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "SERVFAIL took longer than the forward timeout allows");

        // Late replies to every query the server sent: they must neither crash it nor be cached as the answer.
        var queries = Drain(upstream);
        Assert.NotEmpty(queries);
        foreach (var (query, from) in queries)
        {
            await upstream.SendToAsync(Answer(query, IPAddress.Parse("203.0.113.66")), from);
        }

        // Now the upstream answers at once: the next query gets the fresh answer, not the late one nor a cached SERVFAIL.
        using var answering = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var responder = RespondAsync(upstream, IPAddress.Parse("198.51.100.7"), answering.Token);
        var again = await RawDns.UdpRequiredAsync(server.UdpEndPoint, RawDns.Query(0x5252, name, RecordType.A), TimeSpan.FromSeconds(15));
        await answering.CancelAsync();
        await responder;
        Assert.Equal(0x5252, again.Id);
        Assert.Equal(RawDns.NoError, RawDns.Rcode(again));
        Assert.Equal("198.51.100.7", Assert.Single(again.Answers).Data.ToString());

        // Our forwarded queries do not reveal the client's id (ids are chosen by the server).
        Assert.All(queries, q => Assert.NotEqual(0x5151, BinaryPrimitives.ReadUInt16BigEndian(q.Query)));
    }

    private static List<(byte[] Query, EndPoint From)> Drain(Socket socket)
    {
        var received = new List<(byte[], EndPoint)>();
        var buffer = new byte[65535];
        while (socket.Available > 0 && received.Count < 100)
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int length = socket.ReceiveFrom(buffer, ref from);
            received.Add((buffer[..length], from));
        }

        return received;
    }

    private static async Task RespondAsync(Socket socket, IPAddress address, CancellationToken cancellationToken)
    {
        var buffer = new byte[65535];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), cancellationToken);
                await socket.SendToAsync(Answer(buffer[..received.ReceivedBytes], address), received.RemoteEndPoint, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The test has its answer.
        }
    }

    /// <summary>The reply an upstream would give <paramref name="query"/>: same id and question, one A record.</summary>
    private static byte[] Answer(byte[] query, IPAddress address)
    {
        Assert.True(DnsMessage.TryParse(query, out var parsed, out var error), $"the server forwarded a query that does not parse: {error}");
        return new DnsMessage
        {
            Id = parsed.Id,
            Flags = (ushort)(0x8000 | (parsed.Flags & 0x0100) | 0x0080),
            Questions = parsed.Questions,
            Answers = [new ResourceRecord(parsed.Questions[0].Name, DnsClass.IN, 120, new AData(address))],
        }.Encode();
    }
}
