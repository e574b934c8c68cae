// The running server the proof tests point dig, kdig, dnspython and curl at: unbound as the local upstream, our
// DnsServer in-process on its own testnet (UDP+TCP and DoH on 127.0.0.1, free ports), the packets of ProofZones
// published on that testnet and already fetched once, so each test starts from a warm server.

using System.Net;
using Mainline;
using Pkarr.Client;
using Pkarr.Dns;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Tests.Tools;

public sealed class ToolsFixture : IAsyncLifetime
{
    private UnboundServer? _unbound;
    private DnsServer? _server;

    internal ProofZones Zones { get; } = new();

    internal UnboundServer Unbound => _unbound ?? throw new InvalidOperationException("not started");

    public DnsServer Server => _server ?? throw new InvalidOperationException("not started");

    public IPEndPoint Dns => Server.UdpEndPoint;

    public string Port => Server.UdpEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public async Task InitializeAsync()
    {
        _unbound = await UnboundServer.StartAsync();
        _server = await StartServerAsync(_unbound.EndPoint, _ => { });
        await PublishAsync(_server, Zones.Packets());
        await RawDns.UntilAnsweredAsync(Dns, Zones.K1, RecordType.A);
        await RawDns.UntilAnsweredAsync(Dns, Zones.K2, RecordType.A);
        await RawDns.UntilAnsweredAsync(Dns, $"long.{Zones.K3}", RecordType.TXT);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _unbound?.Dispose();
    }

    /// <summary>A server on its own testnet, listening on 127.0.0.1 (DoH too), forwarding to <paramref name="upstream"/>
    /// (none: nothing forwarded), without rate limits unless <paramref name="configure"/> sets them.</summary>
    internal static async Task<DnsServer> StartServerAsync(IPEndPoint? upstream, Action<DnsServerOptions> configure)
    {
        var options = new DnsServerOptions
        {
            Testnet = true,
            General =
            {
                Listen = new IPEndPoint(IPAddress.Loopback, 0),
                Forward = upstream is null ? [] : [upstream],
                DohListen = new IPEndPoint(IPAddress.Loopback, 0),
            },
            Dns =
            {
                // The proofs send thousands of queries from 127.0.0.1: no query limit unless a test is about it.
                QueryRateLimit = 0,
                ForwardTimeout = TimeSpan.FromSeconds(1),
            },
            Dht =
            {
                UseRelays = false,
                DhtQueryRateLimit = 0,
            },
        };
        configure(options);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await DnsServer.StartAsync(options, timeout.Token);
    }

    /// <summary>Publishes <paramref name="packets"/> on <paramref name="server"/>'s testnet with a client of its own.</summary>
    internal static async Task PublishAsync(DnsServer server, IEnumerable<SignedPacket> packets)
    {
        Assert.NotEmpty(server.TestnetBootstrap);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = await PkarrClient.CreateAsync(new PkarrClientOptions
        {
            UseRelays = false,
            Bootstrap = [.. server.TestnetBootstrap.Select(e => e.ToString())],
            DhtBindAddress = IPAddress.Loopback,
            DhtPort = 0,
            DhtMode = DhtMode.Client,
            CacheSize = 0,
        }, timeout.Token);
        foreach (var packet in packets)
        {
            var published = await client.PublishAsync(packet, cancellationToken: timeout.Token);
            Assert.True(published.Succeeded, $"publishing {packet.PublicKey} on the testnet failed: {published.Error}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ToolsCollection : ICollectionFixture<ToolsFixture>
{
    // One collection: the proofs run one after another against one warm server and never load it in parallel.
    public const string Name = "dns-tools";
}
