using System.Net;
using Pkarr.DnsServer.Configuration;

namespace Pkarr.DnsServer.Tests.Configuration;

/// <summary>The TOML file into <see cref="DnsServerOptions"/>: every key, the defaults, pkdns's files.</summary>
public sealed class DnsConfigurationTests : IDisposable
{
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Every_key_is_read_into_its_option()
    {
        _files.Write("-----BEGIN CERTIFICATE-----\n", "tls/cert.pem");
        _files.Write("-----BEGIN PRIVATE KEY-----\n", "tls/key.pem");
        var options = _files.Load("""
            [general]
            socket = "127.0.0.1:5300"
            forward = ["192.0.2.1:5353", "[2001:db8::1]:53", "192.0.2.2"]
            dns_over_http_socket = "[::1]:8053"
            tls_certificate = "tls/cert.pem"
            tls_key = "tls/key.pem"
            behind_proxy = true
            verbose = true
            [dns]
            min_ttl = 30
            max_ttl = 3600
            negative_ttl = 15
            query_rate_limit = 0
            query_rate_limit_burst = 7
            any_queries = "hinfo"
            icann_cache_mb = 0
            max_recursion_depth = 3
            forward_timeout_ms = 750
            max_udp_payload = 4096
            max_tcp_connections = 10
            max_tcp_connections_per_ip = 2
            tcp_idle_timeout_ms = 2500
            [dht]
            dht_cache_mb = 1
            dht_query_rate_limit = 0
            dht_query_rate_limit_burst = 3
            top_level_domain = "pk"
            origins = ["pkarr.example.net", "Other.Example."]
            match_search_suffixes = false
            lookup_timeout_ms = 1500
            use_dht = true
            bootstrap = ["127.0.0.1:6881", "router.example:6881"]
            use_relays = true
            relays = ["http://127.0.0.1:15411", "https://relay.example/"]
            """);

        var general = options.General;
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5300), general.Listen);
        Assert.Equal(
            [new IPEndPoint(IPAddress.Parse("192.0.2.1"), 5353), new IPEndPoint(IPAddress.Parse("2001:db8::1"), 53), new IPEndPoint(IPAddress.Parse("192.0.2.2"), 53)],
            general.Forward);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 8053), general.DohListen);
        Assert.Equal(Path.Combine(_files.Root, "tls", "cert.pem"), general.TlsCertificatePath);
        Assert.Equal(Path.Combine(_files.Root, "tls", "key.pem"), general.TlsKeyPath);
        Assert.True(general.BehindProxy);
        Assert.True(general.Verbose);

        var dns = options.Dns;
        Assert.Equal(30u, dns.MinTtl);
        Assert.Equal(3600u, dns.MaxTtl);
        Assert.Equal(15u, dns.NegativeTtl);
        Assert.Equal(0, dns.QueryRateLimit);
        Assert.Equal(7, dns.QueryRateLimitBurst);
        Assert.Equal(AnyQueryMode.Hinfo, dns.AnyQueries);
        Assert.Equal(0, dns.IcannCacheMb);
        Assert.Equal(3, dns.MaxRecursionDepth);
        Assert.Equal(TimeSpan.FromMilliseconds(750), dns.ForwardTimeout);
        Assert.Equal(4096, dns.MaxUdpPayload);
        Assert.Equal(10, dns.MaxTcpConnections);
        Assert.Equal(2, dns.MaxTcpConnectionsPerIp);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), dns.TcpIdleTimeout);

        var dht = options.Dht;
        Assert.Equal(1, dht.DhtCacheMb);
        Assert.Equal(0, dht.DhtQueryRateLimit);
        Assert.Equal(3, dht.DhtQueryRateLimitBurst);
        Assert.Equal("pk", dht.TopLevelDomain);
        Assert.Equal(["pkarr.example.net", "Other.Example"], dht.Origins);
        Assert.False(dht.MatchSearchSuffixes);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), dht.LookupTimeout);
        Assert.True(dht.UseDht);
        Assert.Equal(["127.0.0.1:6881", "router.example:6881"], dht.Bootstrap);
        Assert.True(dht.UseRelays);
        Assert.Equal([new Uri("http://127.0.0.1:15411"), new Uri("https://relay.example/")], dht.Relays);
        Assert.False(options.Testnet);
    }

    [Fact]
    public void Without_a_file_or_with_an_empty_one_the_options_are_the_defaults()
    {
        AssertDefaults(DnsConfiguration.Load(null));
        AssertDefaults(_files.Load(""));
        AssertDefaults(_files.Load("[general]\n[dns]\n[dht]\n"));
    }

    [Fact]
    public void The_example_loads_to_exactly_the_defaults_and_deploy_holds_it()
    {
        AssertDefaults(_files.Load(DnsConfiguration.Example));

        // Every key is in the example, set or commented out, so an operator sees all of them.
        foreach (var key in DnsConfiguration.KnownKeys)
        {
            string name = key[(key.IndexOf('.', StringComparison.Ordinal) + 1)..];
            Assert.Matches($"(?m)^(# )?{name} = ", DnsConfiguration.Example);
        }

        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Pkarr.slnx")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        string file = File.ReadAllText(Path.Combine(directory.FullName, "deploy", "pkarr-dns.toml"));
        Assert.Equal(DnsConfiguration.Example.ReplaceLineEndings("\n"), file.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void The_example_with_every_commented_key_set_loads()
    {
        _files.Write("cert", "cert.pem");
        _files.Write("key", "key.pem");
        var uncommented = System.Text.RegularExpressions.Regex.Replace(DnsConfiguration.Example, "(?m)^# ([a-z_]+ = )", "$1");
        var options = _files.Load(uncommented);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 3000), options.General.DohListen);
        Assert.Equal(Path.Combine(_files.Root, "cert.pem"), options.General.TlsCertificatePath);
        Assert.Equal(["router.bittorrent.com:6881", "dht.transmissionbt.com:6881"], options.Dht.Bootstrap);
        Assert.Equal([new Uri("https://relay.pkarr.org")], options.Dht.Relays);
    }

    [Theory]
    [InlineData("config.toml")]
    [InlineData("pkdns.toml")]
    public void A_pkdns_file_as_in_the_spec_loads_under_either_name(string name)
    {
        // Spec pkarr.md §9.2, verbatim but for the DoH socket, which pkdns's sample leaves commented out.
        var options = _files.Load("""
            [general]
            socket = "0.0.0.0:53"
            forward = "8.8.8.8:53"
            dns_over_http_socket = "127.0.0.1:3000"   # default: disabled
            verbose = false
            [dns]
            min_ttl = 60
            max_ttl = 86400
            query_rate_limit = 100          # per IP per second, 0 = off
            query_rate_limit_burst = 200
            disable_any_queries = false
            icann_cache_mb = 100
            max_recursion_depth = 15
            [dht]
            dht_cache_mb = 100              # must be non-zero
            dht_query_rate_limit = 5        # per IP per second, 0 = off
            dht_query_rate_limit_burst = 25 # parsed, not used
            top_level_domain = "key"        # "" disables the extra TLD
            """, name);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 53), options.General.Listen);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("8.8.8.8"), 53)], options.General.Forward);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 3000), options.General.DohListen);
        Assert.Equal(AnyQueryMode.Minimal, options.Dns.AnyQueries);
        Assert.Equal("key", options.Dht.TopLevelDomain);

        // pkdns writes its sample fully commented out when the file is missing; that too loads, to our defaults.
        var commented = _files.Load("""
            [general]
            # socket = "0.0.0.0:53"
            # forward = "8.8.8.8:53"
            [dns]
            # min_ttl = 60
            [dht]
            # top_level_domain = "key"
            """, name);
        AssertDefaults(commented);
    }

    [Fact]
    public void Pkdns_switches_map_to_ours()
    {
        Assert.Equal(AnyQueryMode.Refused, _files.Load("[dns]\ndisable_any_queries = true\n").Dns.AnyQueries);
        Assert.Equal(AnyQueryMode.Minimal, _files.Load("[dns]\ndisable_any_queries = false\n").Dns.AnyQueries);
        Assert.Equal(AnyQueryMode.Refused, _files.Load("[dns]\ndisable_any_queries = true\nany_queries = \"refused\"\n").Dns.AnyQueries);
        Assert.Equal(AnyQueryMode.Refused, _files.Load("[dns]\nany_queries = \"refused\"\n").Dns.AnyQueries);
        Assert.Null(_files.Load("[dht]\ntop_level_domain = \"\"\n").Dht.TopLevelDomain);
    }

    [Theory]
    [InlineData("\"8.8.8.8\"", "8.8.8.8", 53)]
    [InlineData("\"8.8.8.8:5353\"", "8.8.8.8", 5353)]
    [InlineData("\"::1\"", "::1", 53)]
    [InlineData("\"[::1]\"", "::1", 53)]
    [InlineData("\"[::1]:5353\"", "::1", 5353)]
    [InlineData("[\"[2001:db8::53]:1053\"]", "2001:db8::53", 1053)]
    public void Forward_takes_one_string_or_a_list_with_ipv6_in_brackets_and_port_53_by_default(string value, string address, int port)
    {
        var options = _files.Load($"[general]\nforward = {value}\n");
        Assert.Equal([new IPEndPoint(IPAddress.Parse(address), port)], options.General.Forward);
    }

    [Fact]
    public void An_empty_forward_list_means_no_upstreams()
    {
        Assert.Empty(_files.Load("[general]\nforward = []\n").General.Forward);
    }

    [Fact]
    public void A_listener_may_take_port_0_and_an_ipv6_any_address()
    {
        var options = _files.Load("[general]\nsocket = \"[::]:0\"\ndns_over_http_socket = \"127.0.0.1:0\"\n");
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, 0), options.General.Listen);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 0), options.General.DohListen);
    }

    [Fact]
    public void Keys_left_out_keep_the_given_defaults_which_are_not_changed()
    {
        var defaults = new DnsServerOptions { Testnet = true };
        defaults.Dns.MinTtl = 5;
        defaults.Dht.Origins = ["example.net"];
        var options = DnsConfiguration.Load(_files.Write("[dns]\nmax_ttl = 99\n[dht]\norigins = [\"a.example\"]\n"), defaults);
        Assert.Equal(5u, options.Dns.MinTtl);
        Assert.Equal(99u, options.Dns.MaxTtl);
        Assert.Equal(["a.example"], options.Dht.Origins);
        Assert.True(options.Testnet);

        Assert.Equal(86400u, defaults.Dns.MaxTtl);
        Assert.Equal(["example.net"], defaults.Dht.Origins);
        Assert.NotSame(defaults, options);
    }

    [Fact]
    public void Relative_tls_paths_are_relative_to_the_file_not_the_working_directory()
    {
        _files.Write("c", "conf/certs/chain.pem");
        _files.Write("k", "conf/certs/key.pem");
        var path = _files.Write("[general]\ntls_certificate = \"certs/chain.pem\"\ntls_key = \"./certs/key.pem\"\n", "conf/dns.toml");
        var options = DnsConfiguration.Load(path);
        Assert.Equal(Path.Combine(_files.Root, "conf", "certs", "chain.pem"), options.General.TlsCertificatePath);
        Assert.Equal(Path.Combine(_files.Root, "conf", "certs", "key.pem"), options.General.TlsKeyPath);
    }

    internal static void AssertDefaults(DnsServerOptions options)
    {
        var expected = new DnsServerOptions();
        Assert.Equal(expected.General.Listen, options.General.Listen);
        Assert.Equal(expected.General.Forward, options.General.Forward);
        Assert.Null(options.General.DohListen);
        Assert.Null(options.General.TlsCertificatePath);
        Assert.Null(options.General.TlsKeyPath);
        Assert.False(options.General.BehindProxy);
        Assert.False(options.General.Verbose);

        var dns = expected.Dns;
        Assert.Equal(
            (dns.MinTtl, dns.MaxTtl, dns.NegativeTtl, dns.QueryRateLimit, dns.QueryRateLimitBurst, dns.AnyQueries, dns.IcannCacheMb),
            (options.Dns.MinTtl, options.Dns.MaxTtl, options.Dns.NegativeTtl, options.Dns.QueryRateLimit, options.Dns.QueryRateLimitBurst,
                options.Dns.AnyQueries, options.Dns.IcannCacheMb));
        Assert.Equal(
            (dns.MaxRecursionDepth, dns.ForwardTimeout, dns.MaxUdpPayload, dns.MaxTcpConnections, dns.MaxTcpConnectionsPerIp, dns.TcpIdleTimeout),
            (options.Dns.MaxRecursionDepth, options.Dns.ForwardTimeout, options.Dns.MaxUdpPayload, options.Dns.MaxTcpConnections,
                options.Dns.MaxTcpConnectionsPerIp, options.Dns.TcpIdleTimeout));

        var dht = expected.Dht;
        Assert.Equal(
            (dht.DhtCacheMb, dht.DhtQueryRateLimit, dht.DhtQueryRateLimitBurst, dht.TopLevelDomain, dht.MatchSearchSuffixes, dht.LookupTimeout, dht.UseDht, dht.UseRelays),
            (options.Dht.DhtCacheMb, options.Dht.DhtQueryRateLimit, options.Dht.DhtQueryRateLimitBurst, options.Dht.TopLevelDomain,
                options.Dht.MatchSearchSuffixes, options.Dht.LookupTimeout, options.Dht.UseDht, options.Dht.UseRelays));
        Assert.Empty(options.Dht.Origins);
        Assert.Null(options.Dht.Bootstrap);
        Assert.Null(options.Dht.Relays);
        Assert.False(options.Testnet);
    }
}
