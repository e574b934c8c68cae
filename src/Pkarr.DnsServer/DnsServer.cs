// The DNS server (spec pkarr.md §9): the parts, wired once, owned here and stopped in the reverse order.
//
//   UDP/TCP (DnsListener) ─┐
//   DoH /dns-query (Kestrel)┴▶ DnsQueryHandler ─▶ Pkarr name? ─▶ PkarrPacketSource ─▶ PkarrClient (DHT, relays)
//                                               │                 (last good packet per key, stale-while-revalidate)
//                                               └▶ other names ─▶ UpstreamForwarder (UDP, TCP on TC, response cache)
//
// The DHT bootstrap host names resolve through the upstreams before the client starts (spec §9.6): the system
// resolver may be this very server, which is not listening yet.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Mainline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry.Metrics;
using Pkarr.Client;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Http;
using Pkarr.DnsServer.Listeners;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.Query;
using Pkarr.DnsServer.RateLimiting;

namespace Pkarr.DnsServer;

/// <summary>
/// A running Pkarr DNS server: UDP and TCP listeners on one port, optionally DNS-over-HTTPS (with <c>/metrics</c>).
/// Pkarr names are answered from signed packets found on the DHT and relays; other names go to the upstreams.
/// Start one with <see cref="StartAsync"/>; <see cref="DisposeAsync"/> stops it.
/// </summary>
public sealed partial class DnsServer : IAsyncDisposable
{
    /// <summary>The path of the Prometheus scrape endpoint on the DoH listener.</summary>
    public const string MetricsPath = "/metrics";

    private readonly Parts _parts;
    private readonly ILogger _logger;
    private int _stopped;

    private DnsServer(Parts parts, DnsServerOptions options, ILogger logger)
    {
        _parts = parts;
        _logger = logger;
        Options = options;
        UdpEndPoint = parts.Listener!.UdpEndPoint;
        TcpEndPoint = parts.Listener.TcpEndPoint;
        if (parts.Web is not null)
        {
            string address = parts.Web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var root = new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal));
            DohUrl = new Uri(root, DohEndpoint.Path);
            MetricsUrl = new Uri(root, MetricsPath);
        }
    }

    /// <summary>The settings the server runs with.</summary>
    public DnsServerOptions Options { get; }

    /// <summary>The bound UDP endpoint.</summary>
    public IPEndPoint UdpEndPoint { get; }

    /// <summary>The bound TCP endpoint (the same port as UDP).</summary>
    public IPEndPoint TcpEndPoint { get; }

    /// <summary>The DoH URL (<c>…/dns-query</c>, 127.0.0.1 when bound to every interface); null without a DoH listener.</summary>
    public Uri? DohUrl { get; }

    /// <summary>The Prometheus scrape URL on the DoH listener; null without one.</summary>
    public Uri? MetricsUrl { get; }

    /// <summary>The nodes of the in-process testnet (<see cref="DnsServerOptions.Testnet"/>), for publishers to
    /// bootstrap from; empty otherwise.</summary>
    public IReadOnlyList<IPEndPoint> TestnetBootstrap => _parts.Testnet?.Bootstrap ?? [];

    /// <summary>The Pkarr client the server resolves keys with.</summary>
    public PkarrClient Client => _parts.Client!;

    /// <summary>Starts a server: the testnet if asked for, the forwarder, the Pkarr client (bootstrap names resolved
    /// through the upstreams), then the UDP/TCP listeners and the DoH listener.</summary>
    /// <exception cref="SocketException">A listening port is taken or needs privileges (port 53).</exception>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public static async Task<DnsServer> StartAsync(DnsServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = loggers.CreateLogger<DnsServer>();
        var time = options.TimeProvider;
        var parts = new Parts();
        try
        {
            parts.Metrics = new DnsMetrics();
            parts.Limits = new DnsRateLimits(
                options.Dns.QueryRateLimit, options.Dns.QueryRateLimitBurst,
                options.Dht.DhtQueryRateLimit, options.Dht.DhtQueryRateLimitBurst, time);
            if (options.Testnet)
            {
                parts.Testnet = await Mainline.Testnet.CreateAsync(10, seeded: true, time, cancellationToken).ConfigureAwait(false);
            }

            parts.Forwarder = new UpstreamForwarder(
                new ForwarderOptions
                {
                    Upstreams = [.. options.General.Forward],
                    Timeout = options.Dns.ForwardTimeout,
                    CacheBytes = (long)options.Dns.IcannCacheMb << 20,
                    MinTtl = options.Dns.MinTtl,
                    MaxTtl = options.Dns.MaxTtl,
                },
                parts.Metrics, time, loggers.CreateLogger<UpstreamForwarder>());

            var clientOptions = await ClientOptionsAsync(options, parts, loggers, logger, cancellationToken).ConfigureAwait(false);
            parts.Client = await PkarrClient.CreateAsync(clientOptions, cancellationToken).ConfigureAwait(false);
            var client = parts.Client;
            parts.Packets = new PkarrPacketSource(
                (key, token) => client.ResolveAsync(key, ResolvePolicy.NetworkOnly, token),
                new PacketSourceOptions
                {
                    MinTtl = options.Dns.MinTtl,
                    MaxTtl = options.Dns.MaxTtl,
                    NegativeTtl = options.Dns.NegativeTtl,
                    ServeStaleTtl = options.Dns.ServeStaleTtl,
                    CacheBytes = (long)options.Dht.DhtCacheMb << 20,
                    LookupTimeout = options.Dht.LookupTimeout,
                },
                parts.Limits, parts.Metrics, time, loggers.CreateLogger<PkarrPacketSource>());

            var matcher = new PkarrNameMatcher(new PkarrNameOptions
            {
                TopLevelDomain = options.Dht.TopLevelDomain,
                Origins = [.. options.Dht.Origins],
                MatchSearchSuffixes = options.Dht.MatchSearchSuffixes,
            });
            var answerer = new PacketAnswerer(new AnsweringOptions
            {
                MinimumTtl = options.Dns.MinTtl,
                MaximumTtl = options.Dns.MaxTtl,
                NegativeTtl = options.Dns.NegativeTtl,
                AnyAsHinfo = options.Dns.AnyQueries == AnyQueryMode.Hinfo,
            });
            var handler = new DnsQueryHandler(
                new QueryHandlerOptions
                {
                    MaxUdpPayload = options.Dns.MaxUdpPayload,
                    MaxRecursionDepth = options.Dns.MaxRecursionDepth,
                    AnyQueries = options.Dns.AnyQueries,
                    DelegationPort = 53,
                    DelegateToPrivateAddresses = options.Dns.DelegateToPrivateAddresses,
                },
                matcher, answerer, parts.Packets, parts.Forwarder, parts.Limits, parts.Metrics, time,
                loggers.CreateLogger<DnsQueryHandler>());

            parts.Listener = await DnsListener.StartAsync(
                options.General.Listen,
                handler,
                new ListenerOptions
                {
                    MaxTcpConnections = options.Dns.MaxTcpConnections,
                    MaxTcpConnectionsPerIp = options.Dns.MaxTcpConnectionsPerIp,
                    TcpIdleTimeout = options.Dns.TcpIdleTimeout,
                    Time = time,
                },
                parts.Metrics, loggers.CreateLogger<DnsListener>(), cancellationToken).ConfigureAwait(false);

            if (options.General.DohListen is { } doh)
            {
                parts.Web = BuildWeb(options, doh, handler, loggers);
                await parts.Web.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            var server = new DnsServer(parts, options, logger);
            string dohUrl = server.DohUrl?.ToString() ?? "off";
            string upstreams = Upstreams(options);
            LogStarted(logger, server.UdpEndPoint, server.TcpEndPoint, dohUrl, upstreams);
            return server;
        }
        catch
        {
            await parts.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops listening, lets queries in flight end, then stops the client, the forwarder and the testnet.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        LogStopping(_logger);
        await _parts.DisposeAsync().ConfigureAwait(false);
        LogStopped(_logger);
    }

    private static void Validate(DnsServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options.General.Listen, "General.Listen");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Dns.MinTtl, options.Dns.MaxTtl, "Dns.MinTtl");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Dns.MaxUdpPayload, 512, "Dns.MaxUdpPayload");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Dns.MaxRecursionDepth, "Dns.MaxRecursionDepth");
        ArgumentOutOfRangeException.ThrowIfNegative(options.Dns.IcannCacheMb, "Dns.IcannCacheMb");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Dht.DhtCacheMb, "Dht.DhtCacheMb");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Dns.ForwardTimeout, TimeSpan.Zero, "Dns.ForwardTimeout");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Dht.LookupTimeout, TimeSpan.Zero, "Dht.LookupTimeout");
        if (!options.Dht.UseDht && (!options.Dht.UseRelays || options.Testnet))
        {
            throw new ArgumentException("Neither the DHT nor relays are enabled: Pkarr names could never be resolved. Enable one of them.", nameof(options));
        }

        if ((options.General.TlsCertificatePath is null) != (options.General.TlsKeyPath is null))
        {
            throw new ArgumentException("TLS needs both a certificate (tls_certificate) and its key (tls_key).", nameof(options));
        }

        if (options.General.TlsCertificatePath is not null && options.General.DohListen is null)
        {
            throw new ArgumentException("A TLS certificate is set but there is no DoH listener (dns_over_http_socket) to use it.", nameof(options));
        }
    }

    /// <summary>The Pkarr client's options: no cache of its own (the packet source keeps the last good packet of every
    /// key), bootstrap host names already resolved to addresses through the upstreams.</summary>
    private static async Task<PkarrClientOptions> ClientOptionsAsync(DnsServerOptions options, Parts parts, ILoggerFactory loggers, ILogger logger, CancellationToken cancellationToken)
    {
        var client = new PkarrClientOptions
        {
            UseDht = options.Dht.UseDht,
            UseRelays = options.Dht.UseRelays && !options.Testnet,
            Relays = options.Dht.Relays is { } relays ? [.. relays] : null,
            CacheSize = 0,
            MinimumTtl = options.Dns.MinTtl,
            MaximumTtl = options.Dns.MaxTtl,
            TimeProvider = options.TimeProvider,
            LoggerFactory = loggers,
        };
        if (parts.Testnet is { } testnet)
        {
            client.Bootstrap = [.. testnet.Bootstrap.Select(node => node.ToString())];
            client.DhtBindAddress = IPAddress.Loopback;
            client.DhtPort = 0;
            client.DhtMode = DhtMode.Client;
        }
        else if (options.Dht.UseDht)
        {
            IEnumerable<EndPoint> configured = options.Dht.Bootstrap is { } list
                ? list.Select(DhtEndPoint.Parse)
                : DhtOptions.DefaultBootstrap;
            client.Bootstrap = await ResolveBootstrapAsync(configured, parts.Forwarder!, logger, cancellationToken).ConfigureAwait(false);
        }

        return client;
    }

    /// <summary>Bootstrap endpoints as "address:port": host names resolved through the upstreams (IPv4, as Mainline
    /// speaks IPv4 only). A name no upstream resolves stays a name, for the system resolver to try.</summary>
    private static async Task<List<string>> ResolveBootstrapAsync(IEnumerable<EndPoint> endPoints, UpstreamForwarder forwarder, ILogger logger, CancellationToken cancellationToken)
    {
        var resolved = new List<string>();
        foreach (var endPoint in endPoints)
        {
            if (endPoint is not DnsEndPoint { Host: var host, Port: var port })
            {
                resolved.Add(endPoint.ToString()!);
                continue;
            }

            var addresses = forwarder.HasUpstreams
                ? await forwarder.ResolveAddressesAsync(host, cancellationToken).ConfigureAwait(false)
                : [];
            int before = resolved.Count;
            foreach (var address in addresses)
            {
                if (address.AddressFamily == AddressFamily.InterNetwork)
                {
                    resolved.Add(new IPEndPoint(address, port).ToString());
                }
            }

            if (resolved.Count == before)
            {
                LogBootstrapUnresolved(logger, host);
                resolved.Add(string.Create(CultureInfo.InvariantCulture, $"{host}:{port}"));
            }
        }

        return resolved;
    }

    private static WebApplication BuildWeb(DnsServerOptions options, IPEndPoint endPoint, IDnsQueryHandler handler, ILoggerFactory loggers)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(DnsServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(endPoint, listen =>
            {
                if (options.General.TlsCertificatePath is { } certificate)
                {
                    listen.UseHttps(X509Certificate2.CreateFromPemFile(certificate, options.General.TlsKeyPath));
                }
            });
        });
        builder.Services.AddRouting();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(DnsMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());

        var app = builder.Build();
        app.UseRouting();
        DohEndpoint.Map(app, handler, options.General.BehindProxy);
        app.MapPrometheusScrapingEndpoint(MetricsPath).DisableHttpMetrics();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        return app;
    }

    private static string Upstreams(DnsServerOptions options) =>
        options.General.Forward.Count == 0 ? "none" : string.Join(", ", options.General.Forward);

    /// <summary>Everything the server owns, disposed in the reverse order of creation (also after a failed start).</summary>
    private sealed class Parts : IAsyncDisposable
    {
        public DnsMetrics? Metrics { get; set; }

        public DnsRateLimits? Limits { get; set; }

        public Testnet? Testnet { get; set; }

        public UpstreamForwarder? Forwarder { get; set; }

        public PkarrClient? Client { get; set; }

        public PkarrPacketSource? Packets { get; set; }

        public DnsListener? Listener { get; set; }

        public WebApplication? Web { get; set; }

        public async ValueTask DisposeAsync()
        {
            if (Web is not null)
            {
                await Web.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await Web.DisposeAsync().ConfigureAwait(false);
            }

            if (Listener is not null)
            {
                await Listener.DisposeAsync().ConfigureAwait(false);
            }

            Packets?.Dispose();
            if (Client is not null)
            {
                await Client.DisposeAsync().ConfigureAwait(false);
            }

            Forwarder?.Dispose();
            if (Testnet is not null)
            {
                await Testnet.DisposeAsync().ConfigureAwait(false);
            }

            Limits?.Dispose();
            Metrics?.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "DNS server listening on UDP {Udp} and TCP {Tcp}; DoH {Doh}; forwarding to {Upstreams}")]
    private static partial void LogStarted(ILogger logger, IPEndPoint udp, IPEndPoint tcp, string doh, string upstreams);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No upstream resolved the DHT bootstrap host {Host}: the system resolver will try it")]
    private static partial void LogBootstrapUnresolved(ILogger logger, string host);

    [LoggerMessage(Level = LogLevel.Information, Message = "DNS server stopping")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "DNS server stopped")]
    private static partial void LogStopped(ILogger logger);
}
