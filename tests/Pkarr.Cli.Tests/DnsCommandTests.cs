using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Pkarr.Cli.Commands;
using Pkarr.DnsServer;
using static Pkarr.Cli.Tests.ServerCommandRuns;

namespace Pkarr.Cli.Tests;

/// <summary>
/// <c>pkarr dns</c>: how its flags, the config file and <c>--testnet</c> become the server's options, its errors and
/// help, the banner, and a run in-process on an OS-chosen loopback port that stops on cancellation.
/// </summary>
public sealed partial class DnsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-dns-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (DnsArguments Arguments, ParseResult Result) Parse(params string[] args)
    {
        var arguments = new DnsArguments();
        var command = new Command("dns");
        arguments.AddTo(command);
        return (arguments, command.Parse(args));
    }

    private static DnsServerOptions Options(params string[] args)
    {
        var (arguments, result) = Parse(args);
        Assert.Empty(result.Errors);
        return arguments.ToOptions(result);
    }

    private static TException Refused<TException>(params string[] args)
        where TException : Exception
    {
        var (arguments, result) = Parse(args);
        Assert.Empty(result.Errors);
        return Assert.Throws<TException>(() => arguments.ToOptions(result));
    }

    private string File(string toml, string name = "dns.toml")
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, toml);
        return path;
    }

    [Fact]
    public void Without_flags_or_a_file_the_options_are_the_built_in_defaults()
    {
        var options = Options();
        var defaults = new DnsServerOptions();
        Assert.False(options.Testnet);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 53), options.General.Listen);
        Assert.Equal(defaults.General.Forward, options.General.Forward);
        Assert.Null(options.General.DohListen);
        Assert.False(options.General.Verbose);
        Assert.True(options.Dht.UseDht);
        Assert.True(options.Dht.UseRelays);
        Assert.Null(options.Dht.Bootstrap);
        Assert.Null(options.Dht.Relays);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, DnsArguments.Level(options));
    }

    [Fact]
    public void Each_flag_lands_in_its_option()
    {
        var options = Options(
            "--listen", "127.0.0.1:5300", "--forward", "192.0.2.1", "-f", "[2001:db8::1]:5353", "--doh-listen", "[::1]:8053",
            "--bootstrap", "127.0.0.1:6881", "-b", "router.example:6881", "--relay", "http://127.0.0.1:15411", "-r", "https://relay.example",
            "--verbose");
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5300), options.General.Listen);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("192.0.2.1"), 53), new IPEndPoint(IPAddress.Parse("2001:db8::1"), 5353)], options.General.Forward);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 8053), options.General.DohListen);
        Assert.Equal(["127.0.0.1:6881", "router.example:6881"], options.Dht.Bootstrap);
        Assert.Equal([new Uri("http://127.0.0.1:15411"), new Uri("https://relay.example")], options.Dht.Relays);
        Assert.True(options.General.Verbose);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, DnsArguments.Level(options));

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 0), Options("-l", "127.0.0.1:0").General.Listen);
        var dhtOnly = Options("--no-relays");
        Assert.True(dhtOnly.Dht.UseDht);
        Assert.False(dhtOnly.Dht.UseRelays);
        var relaysOnly = Options("--no-dht");
        Assert.False(relaysOnly.Dht.UseDht);
        Assert.True(relaysOnly.Dht.UseRelays);
    }

    [Fact]
    public void Flags_override_the_config_file_and_keys_without_a_flag_keep_the_file_value()
    {
        string file = File("""
            [general]
            socket = "127.0.0.1:5300"
            forward = ["192.0.2.1:53", "192.0.2.2:53"]
            dns_over_http_socket = "127.0.0.1:8053"
            verbose = false
            [dns]
            min_ttl = 30
            [dht]
            top_level_domain = "pk"
            bootstrap = ["127.0.0.1:6881"]
            relays = ["http://127.0.0.1:15411"]
            """);

        var fromFile = Options("--config", file);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5300), fromFile.General.Listen);
        Assert.Equal(2, fromFile.General.Forward.Count);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8053), fromFile.General.DohListen);
        Assert.Equal(["127.0.0.1:6881"], fromFile.Dht.Bootstrap);
        Assert.Equal([new Uri("http://127.0.0.1:15411")], fromFile.Dht.Relays);

        var flags = Options("-c", file, "--listen", "127.0.0.1:5400", "--forward", "192.0.2.9:5353", "--doh-listen", "127.0.0.1:9053",
            "--bootstrap", "127.0.0.1:7777", "--relay", "https://relay.example", "-v");
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5400), flags.General.Listen);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("192.0.2.9"), 5353)], flags.General.Forward);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9053), flags.General.DohListen);
        Assert.Equal(["127.0.0.1:7777"], flags.Dht.Bootstrap);
        Assert.Equal([new Uri("https://relay.example")], flags.Dht.Relays);
        Assert.True(flags.General.Verbose);
        Assert.Equal(30u, flags.Dns.MinTtl);
        Assert.Equal("pk", flags.Dht.TopLevelDomain);

        // --no-relays and --no-dht drop what the file lists for them.
        var noRelays = Options("-c", file, "--no-relays");
        Assert.False(noRelays.Dht.UseRelays);
        Assert.Null(noRelays.Dht.Relays);
        var noDht = Options("-c", file, "--no-dht");
        Assert.False(noDht.Dht.UseDht);
        Assert.Null(noDht.Dht.Bootstrap);

        // A flag switches back on what the file switched off.
        string off = File("[dht]\nuse_relays = false\n", "off.toml");
        Assert.False(Options("-c", off).Dht.UseRelays);
        Assert.True(Options("-c", off, "--relay", "https://relay.example").Dht.UseRelays);
    }

    [Fact]
    public void Testnet_listens_on_loopback_15353_without_relays_and_keeps_forwarding()
    {
        var options = Options("--testnet");
        Assert.True(options.Testnet);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, DnsArguments.TestnetPort), options.General.Listen);
        Assert.Equal(15353, DnsArguments.TestnetPort);
        Assert.True(options.Dht.UseDht);
        Assert.False(options.Dht.UseRelays);
        Assert.Null(options.Dht.Relays);
        Assert.Null(options.Dht.Bootstrap);
        Assert.Equal(new DnsServerOptions().General.Forward, options.General.Forward);

        var flags = Options("--testnet", "--listen", "127.0.0.1:0", "--forward", "127.0.0.1:5399");
        Assert.True(flags.Testnet);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 0), flags.General.Listen);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 5399)], flags.General.Forward);

        // Over a file: the file's listener, relays, bootstrap and use_dht give way; its forwarding and the rest stay.
        string file = File("""
            [general]
            socket = "0.0.0.0:53"
            forward = "192.0.2.1:53"
            [dns]
            max_ttl = 600
            [dht]
            use_dht = false
            relays = ["https://relay.example"]
            """);
        var overFile = Options("-c", file, "--testnet");
        Assert.True(overFile.Testnet);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, DnsArguments.TestnetPort), overFile.General.Listen);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("192.0.2.1"), 53)], overFile.General.Forward);
        Assert.Equal(600u, overFile.Dns.MaxTtl);
        Assert.True(overFile.Dht.UseDht);
        Assert.False(overFile.Dht.UseRelays);
        Assert.Null(overFile.Dht.Relays);
    }

    [Theory]
    [InlineData("--testnet", "--bootstrap", "127.0.0.1:6881")]
    [InlineData("--testnet", "--relay", "https://relay.example")]
    [InlineData("--testnet", "--no-dht")]
    [InlineData("--relay", "https://relay.example", "--no-relays")]
    [InlineData("--bootstrap", "127.0.0.1:6881", "--no-dht")]
    public void Contradicting_flags_are_refused_naming_both(params string[] args)
    {
        var error = Refused<ArgumentException>(args);
        foreach (var flag in args.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
        {
            Assert.Contains(flag, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void No_dht_and_no_relays_together_leave_no_network()
    {
        Assert.Contains("no network", Refused<ArgumentException>("--no-dht", "--no-relays").Message, StringComparison.Ordinal);
        string file = File("[dht]\nuse_relays = false\n");
        Assert.Contains("no network", Refused<ArgumentException>("-c", file, "--no-dht").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_without_a_doh_listener_is_refused_and_doh_listen_completes_it()
    {
        File("cert", "cert.pem");
        File("key", "key.pem");
        string file = File("[general]\ntls_certificate = \"cert.pem\"\ntls_key = \"key.pem\"\n");
        Assert.Contains("--doh-listen", Refused<ArgumentException>("-c", file).Message, StringComparison.Ordinal);
        var options = Options("-c", file, "--doh-listen", "127.0.0.1:8443");
        Assert.Equal(Path.Combine(_dir, "cert.pem"), options.General.TlsCertificatePath);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8443), options.General.DohListen);
    }

    [Theory]
    [InlineData("--listen", "localhost:53")]
    [InlineData("--listen", "127.0.0.1:65536")]
    [InlineData("--listen", "::1:53x")]
    [InlineData("--forward", "192.0.2.1:0")]
    [InlineData("--forward", "dns.google")]
    [InlineData("--forward", "127.1")]
    [InlineData("--doh-listen", "127.0.0.1:http")]
    [InlineData("--relay", "ftp://relay.example")]
    [InlineData("--bootstrap", "no-port-here")]
    public void A_bad_flag_value_is_refused_naming_the_flag_and_the_value(string flag, string value)
    {
        var error = Refused<FormatException>(flag, value);
        Assert.Contains(flag, error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_config_file_error_is_one_line_naming_the_file_line_and_key_and_exit_1()
    {
        string file = File("[dns]\nmin_ttl = 60\nmax_recursion_depth = 0\n");
        var run = await RunToEnd("dns", "--config", file);
        Assert.Equal(ExitCodes.BadInput, run.Exit);
        Assert.Equal("", run.Out);
        string error = run.Error.TrimEnd();
        Assert.StartsWith($"error: {file}:3: dns.max_recursion_depth: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);

        run = await RunToEnd("dns", "--config", File("[dns]\nmim_ttl = 60\n"));
        Assert.Equal(ExitCodes.BadInput, run.Exit);
        Assert.Contains("dns.mim_ttl: is not a key of [dns]", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_config_file_and_a_bad_flag_are_one_line_and_exit_1()
    {
        string missing = Path.Combine(_dir, "nowhere.toml");
        var run = await RunToEnd("dns", "-c", missing);
        Assert.Equal(ExitCodes.BadInput, run.Exit);
        Assert.Equal("", run.Out);
        Assert.StartsWith("error: ", run.Error, StringComparison.Ordinal);
        Assert.Contains("nowhere.toml", run.Error, StringComparison.Ordinal);
        Assert.Contains("does not exist", run.Error, StringComparison.Ordinal);

        run = await RunToEnd("dns", "--listen", "localhost:53");
        Assert.Equal(ExitCodes.BadInput, run.Exit);
        Assert.Equal("", run.Out);
        Assert.StartsWith("error: --listen 'localhost:53' is not ADDR:PORT", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', run.Error.TrimEnd());
    }

    [Fact]
    public async Task Help_lists_every_option_and_the_root_help_lists_the_command()
    {
        var run = await RunToEnd("dns", "--help");
        Assert.Equal(ExitCodes.Success, run.Exit);
        var command = new Command("dns");
        new DnsArguments().AddTo(command);
        Assert.Equal(10, command.Options.Count);
        foreach (var option in command.Options)
        {
            Assert.Contains(option.Name, run.Out, StringComparison.Ordinal);
            foreach (var alias in option.Aliases)
            {
                Assert.Contains(alias, run.Out, StringComparison.Ordinal);
            }
        }

        foreach (var name in (string[])["--listen", "--forward", "--doh-listen", "--config", "--bootstrap", "--relay", "--no-dht", "--no-relays", "--testnet", "--verbose"])
        {
            Assert.Contains(name, run.Out, StringComparison.Ordinal);
        }

        Assert.Contains("relay and dns exit 0", run.Out, StringComparison.Ordinal);
        var root = await RunToEnd("--help");
        Assert.Matches(@"(?m)^  dns\s+Run a DNS server", root.Out);
    }

    [Fact]
    public void The_banner_says_where_it_listens_and_what_to_paste()
    {
        var options = Options("--testnet", "--doh-listen", "127.0.0.1:8053");
        options.Dht.Origins = ["pkarr.example.net"];
        var output = new StringWriter();
        var console = new CliConsole(output, new StringWriter(), () => new MemoryStream(), () => new MemoryStream());
        var endPoint = new IPEndPoint(IPAddress.Loopback, 15353);
        DnsCommand.PrintStarted(console, options, endPoint, endPoint, new Uri("http://127.0.0.1:8053/dns-query"),
            [new IPEndPoint(IPAddress.Loopback, 40001), new IPEndPoint(IPAddress.Loopback, 40002)]);
        Assert.Equal(
            """
            pkarr dns running; Ctrl+C stops it
              udp      127.0.0.1:15353
              tcp      127.0.0.1:15353
              doh      http://127.0.0.1:8053/dns-query
              metrics  http://127.0.0.1:8053/metrics
              forward  8.8.8.8:53, 1.1.1.1:53
              lookups  a private testnet of 10 nodes on 127.0.0.1 (publish to it with --bootstrap 127.0.0.1:40001 --no-relays)
              names    <key>.key, <key>, <key>.pkarr.example.net, <key>.<search domain>
            try it:
              pkarr keygen --out me.key
              pkarr publish --bootstrap 127.0.0.1:40001 --no-relays --secret me.key --zone me.zone
              dig @127.0.0.1 -p 15353 <key>.key TXT
              dig @127.0.0.1 -p 15353 +tcp <key>.key A

            """.ReplaceLineEndings(),
            output.ToString());

        // The public network, no DoH, no TLD, no upstreams: the lines say so.
        var plain = Options("--relay", "https://relay.example", "-c", File("[general]\nforward = []\n[dht]\ntop_level_domain = \"\"\nmatch_search_suffixes = false\n"));
        output.GetStringBuilder().Clear();
        var any = new IPEndPoint(IPAddress.Any, 53);
        DnsCommand.PrintStarted(console, plain, any, any, null, []);
        string banner = output.ToString();
        Assert.DoesNotContain("doh", banner, StringComparison.Ordinal);
        Assert.DoesNotContain("pkarr publish", banner, StringComparison.Ordinal);
        Assert.Contains("  forward  none (names that are not Pkarr names are REFUSED)", banner, StringComparison.Ordinal);
        Assert.Contains("  lookups  the Mainline DHT and relays https://relay.example/", banner, StringComparison.Ordinal);
        Assert.Contains("  names    <key>" + Environment.NewLine, banner, StringComparison.Ordinal);
        Assert.Contains("  dig @127.0.0.1 <key> TXT", banner, StringComparison.Ordinal);
        Assert.Contains("  dig @127.0.0.1 +tcp <key> A", banner, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0", 53, "dig @127.0.0.1")]
    [InlineData("::", 53, "dig @::1")]
    [InlineData("::", 5300, "dig @::1 -p 5300")]
    [InlineData("192.0.2.1", 15353, "dig @192.0.2.1 -p 15353")]
    public void Dig_reaches_a_wildcard_listener_on_loopback_and_leaves_out_port_53(string address, int port, string dig)
    {
        Assert.Equal(dig, DnsCommand.Dig(new IPEndPoint(IPAddress.Parse(address), port)));
    }

    [Fact]
    public void A_denied_port_53_says_to_use_a_high_port_or_cap_net_bind_service()
    {
        var options = Options();
        string? message = DnsCommand.StartFailure(new SocketException((int)SocketError.AccessDenied), options);
        Assert.NotNull(message);
        Assert.StartsWith("permission denied listening on 0.0.0.0:53: ", message, StringComparison.Ordinal);
        Assert.Contains("CAP_NET_BIND_SERVICE", message, StringComparison.Ordinal);
        Assert.Contains("--listen 127.0.0.1:15353", message, StringComparison.Ordinal);

        // Wrapped (as a host may wrap it), and with a DoH listener on 443 too: both privileged ports are named.
        var withDoh = Options("--doh-listen", "0.0.0.0:443");
        message = DnsCommand.StartFailure(new IOException("bind", new SocketException((int)SocketError.AccessDenied)), withDoh);
        Assert.NotNull(message);
        Assert.Contains("0.0.0.0:53 and 0.0.0.0:443", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_taken_port_and_other_start_failures_are_one_line_and_bugs_are_not_hidden()
    {
        var options = Options("--listen", "127.0.0.1:5300", "--doh-listen", "127.0.0.1:8053");
        string? udp = DnsCommand.StartFailure(new SocketException((int)SocketError.AddressAlreadyInUse), options);
        Assert.NotNull(udp);
        Assert.StartsWith("127.0.0.1:5300 (UDP/TCP) or 127.0.0.1:8053 (DoH) is taken", udp, StringComparison.Ordinal);
        Assert.Contains("--listen", udp, StringComparison.Ordinal);

        string? doh = DnsCommand.StartFailure(new IOException("in use", new AddressInUseException("in use")), options);
        Assert.Equal("127.0.0.1:8053 (DoH) is taken: stop what listens there, or choose another --doh-listen ADDR:PORT", doh);

        string? other = DnsCommand.StartFailure(new SocketException((int)SocketError.AddressNotAvailable), Options("--listen", "192.0.2.1:5300"));
        Assert.NotNull(other);
        Assert.Contains("192.0.2.1:5300", other, StringComparison.Ordinal);
        Assert.Contains("not one of this machine's", other, StringComparison.Ordinal);

        Assert.Equal("the DNS server could not start: bad", DnsCommand.StartFailure(new InvalidOperationException("bad"), options));
        Assert.Null(DnsCommand.StartFailure(new KeyNotFoundException("a bug"), options));
    }

    [Fact]
    public async Task Testnet_server_prints_its_banner_and_stops_on_cancellation_with_exit_0()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var output = TextWriter.Synchronized(stdout);
        var errors = TextWriter.Synchronized(stderr);
        var console = new CliConsole(output, errors, () => new MemoryStream(), () => new MemoryStream());
        using var stop = new CancellationTokenSource();

        // Loopback only: an OS-chosen port, and an upstream on loopback that nothing here queries.
        var run = PkarrCommand.RunAsync(["dns", "--testnet", "--listen", "127.0.0.1:0", "--forward", "127.0.0.1:9"], console, stop.Token);

        var deadline = DateTime.UtcNow + Bound;
        Match udp = Match.Empty;
        while (DateTime.UtcNow < deadline && !(udp = UdpLine().Match(Read(output, stdout))).Success)
        {
            Assert.False(run.IsCompleted, $"the server exited early: {Read(errors, stderr)}");
            await Task.Delay(50);
        }

        Assert.True(udp.Success, $"no banner within {Bound.TotalSeconds} s: {Read(errors, stderr)}");
        string banner = Read(output, stdout);
        Assert.StartsWith("pkarr dns running; Ctrl+C stops it", banner, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^  tcp      127\.0\.0\.1:\d+\r?$", banner);
        Assert.Contains("  forward  127.0.0.1:9", banner, StringComparison.Ordinal);
        Assert.Contains("  lookups  a private testnet of 10 nodes on 127.0.0.1", banner, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^  dig @127\.0\.0\.1 -p \d+ <key>\.key TXT\r?$", banner);

        Assert.False(run.IsCompleted, "the server stopped before it was asked to");
        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Success, await run.WaitAsync(Bound));
        Assert.Contains("dns server stopped", Read(errors, stderr), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^  udp      (127\.0\.0\.1:\d+)\r?$", RegexOptions.Multiline)]
    private static partial Regex UdpLine();
}
