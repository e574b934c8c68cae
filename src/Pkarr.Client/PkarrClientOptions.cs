// The client's settings (shared spec pkarr.md §5.1), bindable from configuration ("Pkarr" section by default):
//
//   "Pkarr": { "Relays": ["https://relay.example"], "UseDht": true, "Bootstrap": ["127.0.0.1:6881"],
//              "CacheSize": 1000, "MinimumTtl": 300, "MaximumTtl": 86400, "RequestTimeout": "00:00:02" }

using System.Net;
using Mainline;
using Microsoft.Extensions.Logging;
using Pkarr.Client.Caching;

namespace Pkarr.Client;

/// <summary>Settings of a <c>PkarrClient</c>. Defaults are the reference client's (spec §5.1).</summary>
public sealed class PkarrClientOptions
{
    /// <summary>The public relays the reference client uses by default.</summary>
    public static IReadOnlyList<Uri> DefaultRelays { get; } =
        [new Uri("https://pkarr.pubky.app"), new Uri("https://pkarr.pubky.org")];

    /// <summary>Whether the client runs a Mainline DHT node. Default true.</summary>
    public bool UseDht { get; set; } = true;

    /// <summary>DHT bootstrap nodes as <c>host:port</c> (see <see cref="DhtEndPoint.Parse"/>); null for the Mainline
    /// defaults; empty for a private network that others join through this node.</summary>
    public IList<string>? Bootstrap { get; set; }

    /// <summary>Nodes added to the bootstrap list (the defaults or <see cref="Bootstrap"/>), as <c>host:port</c>.</summary>
    public IList<string> ExtraBootstrap { get; set; } = [];

    /// <summary>The DHT node's UDP port; null for 6881 when free, else a random one (as the reference).</summary>
    public int? DhtPort { get; set; }

    /// <summary>The address the DHT node binds; default any IPv4 address.</summary>
    public IPAddress DhtBindAddress { get; set; } = IPAddress.Any;

    /// <summary>The DHT node's mode. Default <see cref="DhtMode.Adaptive"/>: a server once it is reachable.</summary>
    public DhtMode DhtMode { get; set; } = DhtMode.Adaptive;

    /// <summary>Changes the DHT node's options after the ones above are applied (rate limits, server quotas…).</summary>
    public Action<DhtOptions>? ConfigureDht { get; set; }

    /// <summary>Whether the client uses HTTP relays. Default true.</summary>
    public bool UseRelays { get; set; } = true;

    /// <summary>The relays' base URLs (http or https); null for <see cref="DefaultRelays"/>.</summary>
    public IList<Uri>? Relays { get; set; }

    /// <summary>Relays added to <see cref="Relays"/> (or the defaults) when not already listed.</summary>
    public IList<Uri> ExtraRelays { get; set; } = [];

    /// <summary>Packets kept in the in-memory cache. Default 1000, as the reference; 0 disables the cache.</summary>
    public int CacheSize { get; set; } = 1000;

    /// <summary>The lowest TTL a packet is trusted for, in seconds, whatever its records say. Default 300 (5 min).
    /// Setting it raises <see cref="MaximumTtl"/> to at least this value, as the reference's builder does.</summary>
    public uint MinimumTtl
    {
        get;
        set
        {
            field = value;
            MaximumTtl = Math.Max(MaximumTtl, value);
        }
    } = Packets.SignedPacket.DefaultMinimumTtl;

    /// <summary>The highest TTL, in seconds. Default 86400 (a day); 0 makes every cached packet stale, so that every
    /// resolve asks the network. Setting it lowers <see cref="MinimumTtl"/> to at most this value.</summary>
    public uint MaximumTtl
    {
        get;
        set
        {
            field = value;
            if (MinimumTtl > value)
            {
                MinimumTtl = value;
            }
        }
    } = Packets.SignedPacket.DefaultMaximumTtl;

    /// <summary>The timeout of each DHT request and each relay HTTP request. Default 2 s, as the reference.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many packets an endpoint resolution follows through aliases (spec §7). Default 7.</summary>
    public int MaxRecursionDepth { get; set; } = 7;

    /// <summary>How many times <c>PkarrClient.UpdateAsync</c> retries after a conflict. Default 5.</summary>
    public int UpdateRetries { get; set; } = 5;

    /// <summary>The clock for cache ages, timestamps and timeouts. Default the system's; tests give a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the client and its DHT node log; null for no logs.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>A cache to use instead of an in-memory one of <see cref="CacheSize"/> packets (for example a
    /// <c>SqlitePkarrCache</c> that survives restarts). The client does not dispose it.</summary>
    public IPkarrCache? Cache { get; set; }

    /// <summary>The HTTP client for relays; null for one the client creates. The client does not dispose it, and
    /// applies <see cref="RequestTimeout"/> to each request whatever the HTTP client's own timeout.</summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>A running DHT node to share (a relay's own node, say) instead of starting one; the client does not
    /// dispose it. The DHT settings above are then ignored.</summary>
    public Dht? Dht { get; set; }
}
