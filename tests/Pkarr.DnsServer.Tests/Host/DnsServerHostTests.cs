// The host as a whole (DnsServer.StartAsync): what only the wiring decides. The bootstrap host names of the DHT
// resolve through the upstreams (spec §9.6: the system resolver may be this very server), /metrics and /healthz sit
// beside DoH, options that cannot work are refused before anything listens, and disposal frees the ports.

using System.Net;
using System.Net.Sockets;
using Mainline;
using Pkarr.Client;
using Pkarr.Dns;
using Pkarr.DnsServer.Tests.Forwarding;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Tests.Host;

public sealed class DnsServerHostTests
{
    /// <summary>A name under the reserved .invalid TLD (RFC 6761): no system resolver can answer it, only the upstream.</summary>
    private const string BootstrapHost = "router.pkarr-test.invalid";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Bootstrap_host_names_resolve_through_the_upstream_and_the_dht_answers_pkarr_names()
    {
        using var deadline = new CancellationTokenSource(Deadline);
        await using var testnet = await Testnet.CreateAsync(5, seeded: true, deadline.Token);
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.Build(q, Replies.NoError,
            q.Question.Type == RecordType.A ? [Replies.A(q.Question.Name.ToString(), 300, "127.0.0.1")] : [])];

        var signer = Keypair.Random();
        var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.7"), 300).Sign(signer);
        await PublishAsync(testnet, packet, deadline.Token);

        await using var server = await DnsServer.StartAsync(new DnsServerOptions
        {
            General = { Listen = new IPEndPoint(IPAddress.Loopback, 0), Forward = [upstream.EndPoint] },
            Dns = { QueryRateLimit = 0 },
            Dht =
            {
                UseRelays = false,
                DhtQueryRateLimit = 0,
                Bootstrap = [$"{BootstrapHost}:{testnet.Bootstrap[0].Port}"],
            },
        }, deadline.Token);

        Assert.Contains(upstream.Queries, q => q.Question.Name.ToString().TrimEnd('.') == BootstrapHost && q.Question.Type == RecordType.A);
        var reply = await AskUntilAnsweredAsync(server.UdpEndPoint, $"{signer.PublicKey.ToZ32()}.key", deadline.Token);
        var answer = Assert.Single(reply.Answers);
        Assert.Equal(IPAddress.Parse("192.0.2.7"), Assert.IsType<AData>(answer.Data).Address);
    }

    [Fact]
    public async Task Metrics_and_health_are_served_on_the_doh_listener()
    {
        using var deadline = new CancellationTokenSource(Deadline);
        await using var server = await DnsServer.StartAsync(TestnetOptions(doh: true), deadline.Token);
        Assert.NotNull(server.DohUrl);
        Assert.NotNull(server.MetricsUrl);

        // A refused query (no upstream) is counted like any other.
        var refused = await UdpAsync(server.UdpEndPoint, Query("example.test", RecordType.A), deadline.Token);
        Assert.Equal(5, refused.Flags & 0xF);

        using var http = new HttpClient();
        string metrics = await http.GetStringAsync(server.MetricsUrl, deadline.Token);
        Assert.Contains("pkarr_dns_queries_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("rcode=\"REFUSED\"", metrics, StringComparison.Ordinal);
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri(server.DohUrl!, "/healthz"), deadline.Token));
    }

    [Fact]
    public async Task Options_that_cannot_work_are_refused_before_anything_listens()
    {
        var noNetwork = TestnetOptions(doh: false);
        noNetwork.Dht.UseDht = false;
        await Assert.ThrowsAsync<ArgumentException>(() => DnsServer.StartAsync(noNetwork));

        var tlsWithoutDoh = TestnetOptions(doh: false);
        tlsWithoutDoh.General.TlsCertificatePath = "cert.pem";
        tlsWithoutDoh.General.TlsKeyPath = "key.pem";
        await Assert.ThrowsAsync<ArgumentException>(() => DnsServer.StartAsync(tlsWithoutDoh));

        var ttls = TestnetOptions(doh: false);
        ttls.Dns.MinTtl = 600;
        ttls.Dns.MaxTtl = 60;
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => DnsServer.StartAsync(ttls));

        // The good side: the same options with the mistakes undone start.
        await using var server = await DnsServer.StartAsync(TestnetOptions(doh: false));
        Assert.NotEqual(0, server.UdpEndPoint.Port);
        Assert.Equal(server.UdpEndPoint.Port, server.TcpEndPoint.Port);
    }

    [Fact]
    public async Task Disposing_frees_the_udp_and_tcp_port()
    {
        var server = await DnsServer.StartAsync(TestnetOptions(doh: false));
        var endPoint = server.UdpEndPoint;
        using (var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            Assert.Throws<SocketException>(() => taken.Bind(endPoint));
        }

        await server.DisposeAsync();
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(endPoint);
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        tcp.Bind(endPoint);
    }

    private static DnsServerOptions TestnetOptions(bool doh) => new()
    {
        Testnet = true,
        General =
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Forward = [],
            DohListen = doh ? new IPEndPoint(IPAddress.Loopback, 0) : null,
        },
        Dht = { UseRelays = false },
    };

    private static async Task PublishAsync(Testnet testnet, SignedPacket packet, CancellationToken cancellationToken)
    {
        await using var client = await PkarrClient.CreateAsync(new PkarrClientOptions
        {
            UseRelays = false,
            Bootstrap = [.. testnet.Bootstrap.Select(e => e.ToString())],
            DhtBindAddress = IPAddress.Loopback,
            DhtPort = 0,
            DhtMode = DhtMode.Client,
            CacheSize = 0,
        }, cancellationToken);
        var published = await client.PublishAsync(packet, cancellationToken: cancellationToken);
        Assert.True(published.Succeeded, $"publishing on the testnet failed: {published.Error}");
    }

    /// <summary>Asks until the answer is NOERROR: the server's DHT node may still be joining the testnet (a lookup it
    /// cannot make answers SERVFAIL and backs off), bounded by the test's deadline.</summary>
    private static async Task<DnsMessage> AskUntilAnsweredAsync(IPEndPoint server, string name, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var reply = await UdpAsync(server, Query(name, RecordType.A), cancellationToken);
            if ((reply.Flags & 0xF) == 0 && reply.Answers.Count > 0)
            {
                return reply;
            }

            Assert.True(attempt < 60, $"{name} is still unanswered (RCODE {reply.Flags & 0xF})");
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    private static byte[] Query(string name, RecordType type) => new DnsMessage
    {
        Id = (ushort)Random.Shared.Next(ushort.MaxValue),
        Flags = 0x0100,
        Questions = [new DnsQuestion(DnsName.Parse(name), type, DnsClass.IN)],
    }.Encode();

    private static async Task<DnsMessage> UdpAsync(IPEndPoint server, byte[] query, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(server, cancellationToken);
        await socket.SendAsync(query, cancellationToken);
        var buffer = new byte[65535];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        int received = await socket.ReceiveAsync(buffer, timeout.Token);
        return DnsMessage.Parse(buffer.AsSpan(0, received));
    }
}
