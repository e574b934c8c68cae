// The options of `pkarr dns` and how they become DnsServerOptions: the config file first (only the one --config
// names: a server's settings should be where its command line says, not in a file found by chance), then --testnet's
// settings, then each flag, so what is typed wins over what is written down.
using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Pkarr.Cli.Commands.Dht;
using Pkarr.DnsServer;
using Pkarr.DnsServer.Configuration;

namespace Pkarr.Cli.Commands;

internal sealed class DnsArguments
{
    /// <summary>The port of <c>--testnet</c>: high, so no root is needed, and clear of mDNS's 5353.</summary>
    internal const int TestnetPort = 15353;

    /// <summary>Where <c>--testnet</c> listens unless <c>--listen</c> says otherwise.</summary>
    internal static readonly IPEndPoint TestnetListen = new(IPAddress.Loopback, TestnetPort);

    internal Option<string?> Config { get; } = new("--config", "-c")
    {
        Description = "A TOML configuration file: [general], [dns] and [dht], pkdns's keys (its config.toml or pkdns.toml "
            + "load as they are) plus ours; see deploy/pkarr-dns.toml. No file is read unless given. The flags below override it.",
        HelpName = "FILE",
    };

    internal Option<string?> Listen { get; } = new("--listen", "-l")
    {
        Description = "The UDP and TCP listener, ADDR:PORT (IPv6 as [::]:53; port 0: any free port). "
            + $"Default 0.0.0.0:53 ({TestnetListen} with --testnet); over [general] socket.",
        HelpName = "ADDR:PORT",
    };

    internal Option<string[]> Forward { get; } = new("--forward", "-f")
    {
        Description = "An upstream resolver for names that are not Pkarr names, ADDR[:PORT] (port 53 by default); repeat "
            + "for more, tried in order. Default 8.8.8.8:53 then 1.1.1.1:53; over [general] forward.",
        HelpName = "ADDR:PORT",
    };

    internal Option<string?> DohListen { get; } = new("--doh-listen")
    {
        Description = "Also serve DNS-over-HTTPS at /dns-query (and /metrics) on ADDR:PORT; plain HTTP unless the file "
            + "sets tls_certificate and tls_key. Over [general] dns_over_http_socket.",
        HelpName = "ADDR:PORT",
    };

    internal Option<string[]> Bootstrap { get; } = new("--bootstrap", "-b")
    {
        Description = "A DHT node to join through, HOST:PORT; repeat for more (default: the public bootstrap nodes); "
            + "host names resolve through the upstream resolvers. Over [dht] bootstrap.",
        HelpName = "HOST:PORT",
    };

    internal Option<string[]> Relays { get; } = new("--relay", "-r")
    {
        Description = "A relay's base URL (http or https); repeat for more (default: the public relays). Over [dht] relays.",
        HelpName = "URL",
    };

    internal Option<bool> NoDht { get; } = new("--no-dht") { Description = "Do not look packets up on the Mainline DHT, only on relays." };

    internal Option<bool> NoRelays { get; } = new("--no-relays") { Description = "Do not look packets up on relays, only on the Mainline DHT." };

    internal Option<bool> Testnet { get; } = new("--testnet")
    {
        Description = $"Resolve from a private 10-node DHT on 127.0.0.1 run in this process (no relays), listening on {TestnetListen} "
            + "unless --listen says otherwise; names that are not Pkarr names are still forwarded.",
    };

    internal Option<bool> Verbose { get; } = new("--verbose", "-v") { Description = "Debug logs (on standard error); over [general] verbose." };

    internal void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(Listen);
        command.Options.Add(Forward);
        command.Options.Add(DohListen);
        command.Options.Add(Bootstrap);
        command.Options.Add(Relays);
        command.Options.Add(NoDht);
        command.Options.Add(NoRelays);
        command.Options.Add(Testnet);
        command.Options.Add(Verbose);
    }

    /// <summary>The server's settings: the file, then <c>--testnet</c>, then the flags.</summary>
    /// <exception cref="DnsConfigurationException">The config file is missing or wrong.</exception>
    /// <exception cref="ArgumentException">Flags contradict each other.</exception>
    /// <exception cref="FormatException">A flag's value is not what it takes.</exception>
    internal DnsServerOptions ToOptions(ParseResult result)
    {
        var options = DnsConfiguration.Load(result.GetValue(Config));
        bool testnet = result.GetValue(Testnet);
        bool noDht = result.GetValue(NoDht);
        bool noRelays = result.GetValue(NoRelays);
        string[] bootstrap = result.GetValue(Bootstrap) ?? [];
        string[] relays = result.GetValue(Relays) ?? [];
        if (testnet)
        {
            // The testnet is the only place packets come from; each of these would be silently ignored.
            foreach (var (given, option) in new[] { (bootstrap.Length > 0, "--bootstrap"), (relays.Length > 0, "--relay"), (noDht, "--no-dht") })
            {
                if (given)
                {
                    throw DhtErrors.OneOf(option, "--testnet");
                }
            }

            ApplyTestnet(options);
        }

        if (relays.Length > 0 && noRelays)
        {
            throw DhtErrors.OneOf("--relay", "--no-relays");
        }

        if (bootstrap.Length > 0 && noDht)
        {
            throw DhtErrors.OneOf("--bootstrap", "--no-dht");
        }

        if (result.GetValue(Listen) is { } listen)
        {
            options.General.Listen = EndPoint("--listen", listen, allowAnyPort: true);
        }

        if (result.GetValue(Forward) is { Length: > 0 } forward)
        {
            options.General.Forward = [.. forward.Select(f => EndPoint("--forward", f, allowAnyPort: false))];
        }

        if (result.GetValue(DohListen) is { } doh)
        {
            options.General.DohListen = EndPoint("--doh-listen", doh, allowAnyPort: true);
        }

        if (bootstrap.Length > 0)
        {
            DhtArguments.Bootstrap(bootstrap);
            options.Dht.Bootstrap = [.. bootstrap];
            options.Dht.UseDht = true;
        }

        if (relays.Length > 0)
        {
            options.Dht.Relays = [.. relays.Select(Relay)];
            options.Dht.UseRelays = true;
        }

        if (noDht)
        {
            options.Dht.UseDht = false;
            options.Dht.Bootstrap = null;
        }

        if (noRelays)
        {
            options.Dht.UseRelays = false;
            options.Dht.Relays = null;
        }

        if (!options.Dht.UseDht && !options.Dht.UseRelays)
        {
            throw CliErrors.NoNetwork();
        }

        if (options.General.TlsCertificatePath is not null && options.General.DohListen is null)
        {
            // Only the DoH listener speaks TLS; a certificate without it means DoH was expected and is not there.
            throw new ArgumentException("the config file sets tls_certificate and tls_key but there is no DoH listener: "
                + "set dns_over_http_socket in [general] or give --doh-listen ADDR:PORT");
        }

        if (result.GetValue(Verbose))
        {
            options.General.Verbose = true;
        }

        return options;
    }

    /// <summary>The least important log lines written: debug with <c>--verbose</c> (or <c>verbose = true</c>).</summary>
    internal static LogLevel Level(DnsServerOptions options) => options.General.Verbose ? LogLevel.Debug : LogLevel.Information;

    /// <summary>What <c>--testnet</c> sets over a config file: the in-process testnet instead of the public DHT and
    /// the relays, on a loopback high port. Forwarding stays as written, so <c>--forward</c> still matters.</summary>
    internal static void ApplyTestnet(DnsServerOptions options)
    {
        options.Testnet = true;
        options.General.Listen = TestnetListen;
        options.Dht.UseDht = true;
        options.Dht.Bootstrap = null;
        options.Dht.UseRelays = false;
        options.Dht.Relays = null;
    }

    private static IPEndPoint EndPoint(string option, string text, bool allowAnyPort) =>
        DnsSettingValues.TryParseEndPoint(text, GeneralSettings.DefaultPort, allowAnyPort, out var endPoint)
            ? endPoint
            : throw new FormatException(string.Create(CultureInfo.InvariantCulture,
                $"{option} '{text}' is not ADDR:PORT: an IPv4 address or an IPv6 address in brackets, and a port from {(allowAnyPort ? 0 : 1)} to 65535 (for example 127.0.0.1:{TestnetPort} or [::1]:53)"));

    private static Uri Relay(string text) =>
        DnsSettingValues.TryParseRelay(text, out var url) ? url : throw CliErrors.BadRelay(text);
}
