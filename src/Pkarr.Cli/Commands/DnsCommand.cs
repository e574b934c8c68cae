using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Pkarr.DnsServer;
using Pkarr.DnsServer.Configuration;
using DnsHost = Pkarr.DnsServer.DnsServer;

namespace Pkarr.Cli.Commands;

/// <summary>
/// <c>pkarr dns</c>: the Pkarr DNS server (src/Pkarr.DnsServer) in the foreground. It prints where it listens and
/// <c>dig</c> commands to paste, logs to standard error, and stops on Ctrl+C or SIGTERM, exiting 0.
/// </summary>
internal static class DnsCommand
{
    internal static Command Create(CliConsole console)
    {
        var arguments = new DnsArguments();
        var command = new Command(
            "dns",
            "Run a DNS server that answers Pkarr names (<key>, <key>.key) from their signed packets over UDP, TCP and "
            + "optionally DNS-over-HTTPS, and forwards every other name to upstream resolvers. --testnet runs it offline "
            + $"on 127.0.0.1:{DnsArguments.TestnetPort}. Stops on Ctrl+C or SIGTERM and exits 0.");
        arguments.AddTo(command);
        command.SetAction((result, interrupt) => RunAsync(console, arguments, result, interrupt));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, DnsArguments arguments, ParseResult result, CancellationToken interrupt)
    {
        DnsServerOptions? options = null;
        int exit = console.Run(() =>
        {
            try
            {
                options = arguments.ToOptions(result);
                return ExitCodes.Success;
            }
            catch (DnsConfigurationException error)
            {
                console.Fail(error.Message);
                return ExitCodes.BadInput;
            }
        });
        if (options is null)
        {
            return exit;
        }

        using var loggers = RelayCommand.CreateLoggers(DnsArguments.Level(options));
        options.LoggerFactory = loggers;
        DnsHost server;
        try
        {
            server = await DnsHost.StartAsync(options, interrupt).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (Exception error) when (StartFailure(error, options) is { } message)
        {
            console.Fail(message);
            return ExitCodes.BadInput;
        }

        await using (server.ConfigureAwait(false))
        {
            PrintStarted(console, options, server.UdpEndPoint, server.TcpEndPoint, server.DohUrl, server.TestnetBootstrap);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, interrupt).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: disposing the server below stops the listeners, then the client.
            }
        }

        console.Error.WriteLine("dns server stopped");
        return ExitCodes.Success;
    }

    /// <summary>Where the server is and commands to paste, on standard output (the logs go to standard error).</summary>
    internal static void PrintStarted(CliConsole console, DnsServerOptions options, IPEndPoint udp, IPEndPoint tcp, Uri? doh,
        IReadOnlyList<IPEndPoint> testnetBootstrap)
    {
        var output = console.Out;
        output.WriteLine("pkarr dns running; Ctrl+C stops it");
        output.WriteLine($"  udp      {udp}");
        output.WriteLine($"  tcp      {tcp}");
        if (doh is not null)
        {
            output.WriteLine($"  doh      {doh}");
            output.WriteLine($"  metrics  {new Uri(doh, "/metrics")}");
        }

        var forward = options.General.Forward;
        output.WriteLine(forward.Count > 0
            ? $"  forward  {string.Join(", ", forward)}"
            : "  forward  none (names that are not Pkarr names are REFUSED)");

        var dht = options.Dht;
        string bootstrap = testnetBootstrap.Count > 0 ? testnetBootstrap[0].ToString() : "127.0.0.1:PORT";
        output.WriteLine(options.Testnet
            ? $"  lookups  a private testnet of 10 nodes on 127.0.0.1 (publish to it with --bootstrap {bootstrap} --no-relays)"
            : "  lookups  " + string.Join(" and ", Lookups(dht)));

        string tld = string.IsNullOrEmpty(dht.TopLevelDomain) ? "" : "." + dht.TopLevelDomain;
        output.WriteLine($"  names    <key>{tld}" + (tld.Length > 0 ? ", <key>" : "")
            + string.Concat(dht.Origins.Select(origin => $", <key>.{origin}"))
            + (dht.MatchSearchSuffixes ? ", <key>.<search domain>" : ""));

        output.WriteLine("try it:");
        if (options.Testnet)
        {
            output.WriteLine("  pkarr keygen --out me.key");
            output.WriteLine($"  pkarr publish --bootstrap {bootstrap} --no-relays --secret me.key --zone me.zone");
        }

        string dig = Dig(udp);
        output.WriteLine($"  {dig} <key>{tld} TXT");
        output.WriteLine($"  {Dig(tcp)} +tcp <key>{tld} A");
        output.Flush();
    }

    /// <summary>A <c>dig</c> command line for the server at <paramref name="endPoint"/>: a wildcard address is
    /// reached on loopback, and port 53 needs no <c>-p</c>.</summary>
    internal static string Dig(IPEndPoint endPoint)
    {
        var address = endPoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : endPoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : endPoint.Address;
        return endPoint.Port == GeneralSettings.DefaultPort
            ? $"dig @{address}"
            : string.Create(CultureInfo.InvariantCulture, $"dig @{address} -p {endPoint.Port}");
    }

    /// <summary>
    /// The one line that explains why the server did not start, for the failures an operator can fix (a port taken
    /// or needing privileges, an address not on this machine, a setting the server refuses); null for anything else,
    /// which is a bug and keeps its stack trace.
    /// </summary>
    internal static string? StartFailure(Exception error, DnsServerOptions options)
    {
        var general = options.General;
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is AddressInUseException && general.DohListen is { } dohListen)
            {
                // Kestrel's own exception: only the DoH listener is Kestrel's.
                return $"{dohListen} (DoH) is taken: stop what listens there, or choose another --doh-listen ADDR:PORT";
            }

            if (e is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.AccessDenied => PermissionDenied(options),
                    SocketError.AddressAlreadyInUse => Taken(options, error is IOException),
                    SocketError.AddressNotAvailable =>
                        $"cannot listen on {Listeners(options, error is IOException)}: the address is not one of this machine's; use --listen ADDR:PORT with one of its addresses, or 0.0.0.0",
                    _ => $"cannot listen on {Listeners(options, error is IOException)}: {socket.Message}",
                };
            }
        }

        return error is InvalidOperationException or ArgumentException or IOException
            ? $"the DNS server could not start: {error.Message}"
            : null;
    }

    private static IEnumerable<string> Lookups(DhtSettings dht)
    {
        if (dht.UseDht)
        {
            yield return dht.Bootstrap is { Count: > 0 } bootstrap
                ? $"the Mainline DHT (bootstrap {string.Join(", ", bootstrap)})"
                : "the Mainline DHT";
        }

        if (dht.UseRelays)
        {
            yield return dht.Relays is { Count: > 0 } relays
                ? $"relays {string.Join(", ", relays)}"
                : "the default relays";
        }
    }

    /// <summary>Binding a port below 1024 without the privilege: the usual first run of a DNS server on port 53.</summary>
    private static string PermissionDenied(DnsServerOptions options)
    {
        var general = options.General;
        var privileged = new[] { general.Listen, general.DohListen }.OfType<IPEndPoint>().Where(e => e.Port is > 0 and < 1024).ToList();
        string where = privileged.Count > 0 ? string.Join(" and ", privileged) : Listeners(options, dohOnly: false);
        return string.Create(CultureInfo.InvariantCulture,
            $"permission denied listening on {where}: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability "
            + $"(systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE); or use a high port, e.g. --listen 127.0.0.1:{DnsArguments.TestnetPort}");
    }

    private static string Taken(DnsServerOptions options, bool dohOnly) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Listeners(options, dohOnly)} is taken (another DNS server? systemd-resolved, dnsmasq or Docker often hold port 53 on some address): "
            + $"stop it, listen on another address, or use another port, e.g. --listen 127.0.0.1:{DnsArguments.TestnetPort}");

    /// <summary>The listeners that may have failed: Kestrel reports through IOException, so an IOException with a
    /// DoH listener configured is the DoH listener.</summary>
    private static string Listeners(DnsServerOptions options, bool dohOnly) =>
        (dohOnly, options.General.DohListen) switch
        {
            (true, { } doh) => $"{doh} (DoH)",
            (false, { } doh) => $"{options.General.Listen} (UDP/TCP) or {doh} (DoH)",
            _ => $"{options.General.Listen} (UDP/TCP)",
        };
}
