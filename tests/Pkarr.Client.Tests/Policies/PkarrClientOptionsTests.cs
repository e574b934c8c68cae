using System.Net;

namespace Pkarr.Client.Tests.Policies;

/// <summary>The settings of spec §5.1: the TTL setters that keep min ≤ max, the build errors, and the validator that
/// names the bad setting.</summary>
public sealed class PkarrClientOptionsTests
{
    private static readonly Uri Relay1 = new("http://127.0.0.1:1/");
    private static readonly Uri Relay2 = new("http://127.0.0.1:2/prefix");

    [Fact]
    public void Defaults_are_the_reference_client_ones()
    {
        var options = new PkarrClientOptions();
        Assert.Equal(300u, options.MinimumTtl);
        Assert.Equal(86400u, options.MaximumTtl);
        Assert.Equal(TimeSpan.FromSeconds(2), options.RequestTimeout);
        Assert.Equal(1000, options.CacheSize);
        Assert.True(options.UseDht);
        Assert.True(options.UseRelays);
        Assert.Null(options.Relays);
        Assert.Equal([new Uri("https://pkarr.pubky.app"), new Uri("https://pkarr.pubky.org")], PkarrClientOptions.DefaultRelays);
    }

    [Fact]
    public void Setting_the_minimum_raises_the_maximum_but_never_lowers_it()
    {
        var options = new PkarrClientOptions { MaximumTtl = 100 };
        options.MinimumTtl = 200;
        Assert.Equal(200u, options.MinimumTtl);
        Assert.Equal(200u, options.MaximumTtl);

        options.MinimumTtl = 50;
        Assert.Equal(50u, options.MinimumTtl);
        Assert.Equal(200u, options.MaximumTtl);
    }

    [Fact]
    public void Setting_the_maximum_lowers_the_minimum_but_never_raises_it()
    {
        var options = new PkarrClientOptions();
        options.MaximumTtl = 100;
        Assert.Equal(100u, options.MaximumTtl);
        Assert.Equal(100u, options.MinimumTtl);

        options.MaximumTtl = 500;
        Assert.Equal(500u, options.MaximumTtl);
        Assert.Equal(100u, options.MinimumTtl);

        options.MaximumTtl = 0;
        Assert.Equal(0u, options.MinimumTtl);
    }

    [Fact]
    public void No_network_at_all_is_a_build_error()
    {
        var thrown = Assert.Throws<InvalidOperationException>(() => new PkarrClient(new PkarrClientOptions { UseDht = false, UseRelays = false, Relays = [Relay1] }));
        Assert.Contains("no network", thrown.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_empty_relay_list_is_a_build_error_unless_relays_are_off(bool useDht)
    {
        var thrown = Assert.Throws<InvalidOperationException>(() => new PkarrClient(new PkarrClientOptions { UseDht = useDht, Relays = [] }));
        Assert.Contains("list of relays is empty", thrown.Message, StringComparison.Ordinal);

        if (useDht)
        {
            await using var dhtOnly = new PkarrClient(new PkarrClientOptions { UseRelays = false, Relays = [], Bootstrap = ["127.0.0.1:1"] });
            Assert.Empty(dhtOnly.RelayUrls);
        }
    }

    [Theory]
    [InlineData("ftp://relay.example/")]
    [InlineData("file:///tmp/relay")]
    [InlineData("relay.example")]
    public void A_relay_that_is_not_an_absolute_http_url_is_a_build_error(string url)
    {
        var relay = new Uri(url, UriKind.RelativeOrAbsolute);
        var thrown = Assert.Throws<ArgumentException>(() => new PkarrClient(new PkarrClientOptions { UseDht = false, Relays = [Relay1, relay] }));
        Assert.Contains(url, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_and_https_relays_build_in_order_and_extra_relays_append_unseen_ones()
    {
        var secure = new Uri("https://127.0.0.1:3/");
        await using var client = new PkarrClient(new PkarrClientOptions { UseDht = false, Relays = [Relay1, secure], ExtraRelays = [secure, Relay2] });
        Assert.Equal([Relay1, secure, Relay2], client.RelayUrls);
        Assert.Null(await client.GetDhtAsync());
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:99999")]
    public void A_bootstrap_node_that_is_not_host_port_is_a_build_error(string node)
    {
        var thrown = Assert.Throws<ArgumentException>(() => new PkarrClient(new PkarrClientOptions { UseRelays = false, Bootstrap = [node] }));
        Assert.Contains(node, thrown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new PkarrClient(new PkarrClientOptions { UseRelays = false, Bootstrap = [], ExtraBootstrap = [node] }));
    }

    [Fact]
    public async Task Good_bootstrap_nodes_build_without_starting_the_dht()
    {
        await using var client = new PkarrClient(new PkarrClientOptions
        {
            UseRelays = false,
            Bootstrap = ["127.0.0.1:6881", "localhost:6882"],
            ExtraBootstrap = ["[::1]:6883"],
            DhtBindAddress = IPAddress.Loopback,
        });
        Assert.Empty(client.RelayUrls);
    }

    [Fact]
    public void The_validator_accepts_good_settings()
    {
        var options = new PkarrClientOptions { Relays = [Relay1, Relay2], Bootstrap = ["127.0.0.1:6881"] };
        Assert.True(new PkarrClientOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(new PkarrClientOptionsValidator().Validate(null, new PkarrClientOptions { UseRelays = false, Relays = [] }).Succeeded);
    }

    public static TheoryData<string, string> BadSettings => new()
    {
        { "relay", "Pkarr:Relays: 'ftp://relay.example/'" },
        { "empty relays", "Pkarr:Relays is empty" },
        { "no network", "neither the DHT (UseDht) nor any relay" },
        { "bootstrap", "Pkarr:Bootstrap: 'nonsense'" },
        { "port", "Pkarr:DhtPort" },
        { "cache size", "Pkarr:CacheSize" },
        { "timeout", "Pkarr:RequestTimeout" },
        { "recursion", "Pkarr:MaxRecursionDepth" },
        { "retries", "Pkarr:UpdateRetries" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void The_validator_names_each_bad_setting(string setting, string message)
    {
        var options = new PkarrClientOptions { Relays = [Relay1] };
        switch (setting)
        {
            case "relay": options.Relays = [Relay1, new Uri("ftp://relay.example/")]; break;
            case "empty relays": options.Relays = []; break;
            case "no network": options.UseDht = false; options.UseRelays = false; break;
            case "bootstrap": options.Bootstrap = ["127.0.0.1:6881", "nonsense"]; break;
            case "port": options.DhtPort = 70000; break;
            case "cache size": options.CacheSize = -1; break;
            case "timeout": options.RequestTimeout = TimeSpan.Zero; break;
            case "recursion": options.MaxRecursionDepth = 0; break;
            case "retries": options.UpdateRetries = -1; break;
        }

        var result = new PkarrClientOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains(message, failure, StringComparison.Ordinal);
    }
}
