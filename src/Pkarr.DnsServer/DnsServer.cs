using System.Net;

namespace Pkarr.DnsServer;

/// <summary>A running Pkarr DNS server: UDP and TCP listeners, optionally DNS-over-HTTPS and /metrics.</summary>
public sealed class DnsServer : IAsyncDisposable
{
    private DnsServer()
    {
    }

    /// <summary>The bound UDP endpoint.</summary>
    public IPEndPoint UdpEndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The bound TCP endpoint (same port as UDP).</summary>
    public IPEndPoint TcpEndPoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>The DoH URL (…/dns-query); null without a DoH listener.</summary>
    public Uri? DohUrl { get; private set; }

    /// <summary>The nodes of the in-process testnet (<see cref="DnsServerOptions.Testnet"/>); empty otherwise.</summary>
    public IReadOnlyList<IPEndPoint> TestnetBootstrap { get; private set; } = [];

    /// <summary>Starts a server.</summary>
    public static Task<DnsServer> StartAsync(DnsServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(new DnsServer());
    }

    /// <summary>Stops the listeners, then the client.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
