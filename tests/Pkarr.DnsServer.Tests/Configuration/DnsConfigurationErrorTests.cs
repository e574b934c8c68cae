using Pkarr.DnsServer.Configuration;

namespace Pkarr.DnsServer.Tests.Configuration;

/// <summary>What the loader refuses, and that each refusal names the file, line and key and says what is accepted.</summary>
public sealed class DnsConfigurationErrorTests : IDisposable
{
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void An_unknown_key_is_refused_with_its_line_and_the_keys_of_its_section()
    {
        _files.Refused("[dns]\nmin_ttl = 60\nmim_ttl = 300\n", "dns.mim_ttl", 3, "is not a key of [dns]", "min_ttl", "max_recursion_depth");
        _files.Refused("[general]\n\nsockets = \"127.0.0.1:53\"\n", "general.sockets", 3, "is not a key of [general]", "socket, forward");
        _files.Refused("[dht]\nrelay = [\"https://relay.example\"]\n", "dht.relay", 2, "relays");
    }

    [Fact]
    public void An_unknown_section_or_a_key_outside_any_section_is_refused_naming_the_sections()
    {
        _files.Refused("[general]\n[http]\nport = 1\n", "http", 2, "is not a section", "general, dns, dht");
        _files.Refused("socket = \"127.0.0.1:53\"\n", "socket", 1, "is not a section", "[general], [dns], [dht]");
    }

    [Fact]
    public void The_file_itself_missing_or_not_toml_is_refused()
    {
        var missing = Path.Combine(_files.Root, "nowhere.toml");
        var e = Assert.Throws<DnsConfigurationException>(() => DnsConfiguration.Load(missing));
        Assert.Equal(missing, e.Source);
        Assert.Null(e.Key);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);

        _files.Refused("[dns]\nmin_ttl = 60\nmin_ttl = 61\n", null, 3, "not valid TOML");
        _files.Refused("[dns\n", null, 1, "not valid TOML");
    }

    [Theory]
    [InlineData("general", "socket", "\"127.0.0.1\"x", null)] // not TOML: checked elsewhere
    [InlineData("general", "socket", "\"localhost:53\"", "IP:PORT")]
    [InlineData("general", "socket", "\"127.1:53\"", "IP:PORT")]
    [InlineData("general", "socket", "\"::1:53x\"", "IP:PORT")]
    [InlineData("general", "socket", "\"127.0.0.1:65536\"", "IP:PORT")]
    [InlineData("general", "socket", "5353", "IP:PORT")]
    [InlineData("general", "forward", "\"8.8.8.8:0\"", "with a port from 1 to 65535")]
    [InlineData("general", "forward", "\"\"", "IP:PORT")]
    [InlineData("general", "forward", "\"dns.google:53\"", "IP:PORT")]
    [InlineData("general", "forward", "true", "IP:PORT")]
    [InlineData("general", "dns_over_http_socket", "\"[::1:8053\"", "IP:PORT")]
    [InlineData("general", "tls_certificate", "\"nowhere.pem\"", "is not an existing file")]
    [InlineData("general", "behind_proxy", "\"yes\"", "true or false")]
    [InlineData("general", "verbose", "1", "true or false")]
    [InlineData("dns", "min_ttl", "-1", "from 0 to 2147483647")]
    [InlineData("dns", "max_ttl", "2147483648", "from 0 to 2147483647")]
    [InlineData("dns", "negative_ttl", "\"60\"", "from 0 to 2147483647")]
    [InlineData("dns", "query_rate_limit", "-5", "from 0 to")]
    [InlineData("dns", "query_rate_limit_burst", "0", "from 1 to")]
    [InlineData("dns", "disable_any_queries", "\"true\"", "true or false")]
    [InlineData("dns", "any_queries", "\"none\"", "\"minimal\" or \"hinfo\" or \"refused\"")]
    [InlineData("dns", "any_queries", "\"Minimal\"", "\"minimal\" or \"hinfo\" or \"refused\"")]
    [InlineData("dns", "icann_cache_mb", "-1", "from 0 to 1048576")]
    [InlineData("dns", "max_recursion_depth", "0", "from 1 to 255")]
    [InlineData("dns", "max_recursion_depth", "256", "from 1 to 255")]
    [InlineData("dns", "forward_timeout_ms", "0", "from 1 to 60000")]
    [InlineData("dns", "forward_timeout_ms", "1.5", "from 1 to 60000")]
    [InlineData("dns", "max_udp_payload", "511", "from 512 to 4096")]
    [InlineData("dns", "max_udp_payload", "4097", "from 512 to 4096")]
    [InlineData("dns", "max_tcp_connections", "0", "from 1 to")]
    [InlineData("dns", "max_tcp_connections_per_ip", "0", "from 1 to")]
    [InlineData("dns", "tcp_idle_timeout_ms", "0", "from 1 to 3600000")]
    [InlineData("dht", "dht_cache_mb", "0", "from 1 to 1048576")]
    [InlineData("dht", "dht_query_rate_limit", "-1", "from 0 to")]
    [InlineData("dht", "dht_query_rate_limit_burst", "0", "from 1 to")]
    [InlineData("dht", "top_level_domain", "\"pk.key\"", "one DNS label")]
    [InlineData("dht", "top_level_domain", "\"-key\"", "one DNS label")]
    [InlineData("dht", "top_level_domain", "\"ké\"", "one DNS label")]
    [InlineData("dht", "top_level_domain", "false", "one DNS label")]
    [InlineData("dht", "origins", "\"example.net\"", "a list of domain names")]
    [InlineData("dht", "match_search_suffixes", "0", "true or false")]
    [InlineData("dht", "lookup_timeout_ms", "60001", "from 1 to 60000")]
    [InlineData("dht", "use_dht", "\"no\"", "true or false")]
    [InlineData("dht", "bootstrap", "\"127.0.0.1:6881\"", "a list of \"host:port\" strings")]
    [InlineData("dht", "bootstrap", "[]", "leave the key out")]
    [InlineData("dht", "use_relays", "\"no\"", "true or false")]
    [InlineData("dht", "relays", "[]", "set use_relays = false")]
    public void A_bad_value_is_refused_with_what_is_accepted(string section, string key, string value, string? accepted)
    {
        if (accepted is null)
        {
            _files.Refused($"[{section}]\n{key} = {value}\n", null, 2, "not valid TOML");
            return;
        }

        _files.Refused($"# a comment\n[{section}]\n{key} = {value}\n", $"{section}.{key}", 3, accepted);
    }

    [Theory]
    [InlineData("general", "forward", "[\"8.8.8.8\", \"8.8.4.4:x\"]", 1, "IP:PORT")]
    [InlineData("dht", "origins", "[\"example.net\", \"bad..name\"]", 1, "a domain name")]
    [InlineData("dht", "origins", "[\"a_b.example\", \"-x.example\"]", 1, "a domain name")]
    [InlineData("dht", "bootstrap", "[\"127.0.0.1:6881\", \"no-port\"]", 1, "host:port")]
    [InlineData("dht", "relays", "[\"ftp://relay.example\"]", 0, "http or https URL")]
    [InlineData("dht", "relays", "[\"https://relay.example\", \"relay.example\"]", 1, "http or https URL")]
    public void A_bad_list_entry_is_refused_naming_the_entry(string section, string key, string value, int index, string accepted)
    {
        _files.Refused($"[{section}]\n{key} = {value}\n", $"{section}.{key}[{index}]", 2, accepted);
    }

    [Fact]
    public void A_recursion_depth_of_0_is_refused_saying_why()
    {
        _files.Refused("[dns]\nmax_recursion_depth = 0\n", "dns.max_recursion_depth", 2, "would fail every query", "from 1 to 255");
        Assert.Equal(1, _files.Load("[dns]\nmax_recursion_depth = 1\n").Dns.MaxRecursionDepth);
        Assert.Equal(255, _files.Load("[dns]\nmax_recursion_depth = 255\n").Dns.MaxRecursionDepth);
    }

    [Fact]
    public void The_edges_of_each_range_are_accepted()
    {
        var options = _files.Load("""
            [dns]
            min_ttl = 0
            max_ttl = 2147483647
            max_udp_payload = 512
            forward_timeout_ms = 60000
            tcp_idle_timeout_ms = 3600000
            icann_cache_mb = 1048576
            [dht]
            dht_cache_mb = 1048576
            lookup_timeout_ms = 1
            """);
        Assert.Equal(0u, options.Dns.MinTtl);
        Assert.Equal(2147483647u, options.Dns.MaxTtl);
        Assert.Equal(512, options.Dns.MaxUdpPayload);
        Assert.Equal(TimeSpan.FromMinutes(1), options.Dns.ForwardTimeout);
        Assert.Equal(TimeSpan.FromHours(1), options.Dns.TcpIdleTimeout);
        Assert.Equal(1048576, options.Dns.IcannCacheMb);
        Assert.Equal(1048576, options.Dht.DhtCacheMb);
        Assert.Equal(TimeSpan.FromMilliseconds(1), options.Dht.LookupTimeout);
    }

    [Fact]
    public void Min_ttl_above_max_ttl_is_refused_at_the_key_that_was_written()
    {
        _files.Refused("[dns]\nmin_ttl = 600\nmax_ttl = 300\n", "dns.min_ttl", 2, "600 is greater than dns.max_ttl (300)");
        _files.Refused("[dns]\nmax_ttl = 30\n", "dns.max_ttl", 2, "30 is less than dns.min_ttl (60)");
        Assert.Equal(300u, _files.Load("[dns]\nmin_ttl = 300\nmax_ttl = 300\n").Dns.MaxTtl);
    }

    [Theory]
    [InlineData("true", "minimal")]
    [InlineData("true", "hinfo")]
    [InlineData("false", "refused")]
    public void Disable_any_queries_contradicting_any_queries_is_refused(string disable, string mode)
    {
        _files.Refused($"[dns]\ndisable_any_queries = {disable}\nany_queries = \"{mode}\"\n", "dns.any_queries", 3,
            $"contradicts dns.disable_any_queries = {disable} (line 2)");
    }

    [Fact]
    public void Tls_needs_both_the_certificate_and_the_key()
    {
        _files.Write("c", "cert.pem");
        _files.Refused("[general]\ntls_certificate = \"cert.pem\"\n", "general.tls_key", 2, "is required with general.tls_certificate");
        _files.Refused("[general]\n\ntls_key = \"cert.pem\"\n", "general.tls_certificate", 3, "is required with general.tls_key");
    }

    [Fact]
    public void Switching_off_both_lookups_or_listing_what_is_switched_off_is_refused()
    {
        _files.Refused("[dht]\nuse_dht = false\nuse_relays = false\n", "dht.use_relays", 3, "no way to find packets");
        _files.Refused("[dht]\nuse_relays = false\nrelays = [\"https://relay.example\"]\n", "dht.relays", 3, "dht.use_relays is false");
        _files.Refused("[dht]\nbootstrap = [\"127.0.0.1:6881\"]\nuse_dht = false\n", "dht.bootstrap", 2, "dht.use_dht is false");

        var relaysOnly = _files.Load("[dht]\nuse_dht = false\n");
        Assert.False(relaysOnly.Dht.UseDht);
        Assert.True(relaysOnly.Dht.UseRelays);
        var dhtOnly = _files.Load("[dht]\nuse_relays = false\n");
        Assert.True(dhtOnly.Dht.UseDht);
        Assert.False(dhtOnly.Dht.UseRelays);
    }
}
