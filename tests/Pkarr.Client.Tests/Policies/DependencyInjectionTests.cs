using System.Net;
using System.Net.Sockets;
using Mainline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Policies;

/// <summary><c>AddPkarrClient</c>: options bound from configuration, validated when the host starts, the client from
/// the provider, and the hosted service that starts and stops the DHT node with the host.</summary>
public sealed class DependencyInjectionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly Dictionary<string, string?> GoodSettings = new()
    {
        ["Pkarr:UseDht"] = "false",
        ["Pkarr:Relays:0"] = "http://127.0.0.1:1/",
        ["Pkarr:Relays:1"] = "http://127.0.0.1:2/prefix",
        ["Pkarr:Bootstrap:0"] = "127.0.0.1:6881",
        ["Pkarr:Bootstrap:1"] = "localhost:6882",
        ["Pkarr:MinimumTtl"] = "60",
        ["Pkarr:MaximumTtl"] = "3600",
        ["Pkarr:RequestTimeout"] = "00:00:05",
        ["Pkarr:CacheSize"] = "50",
        ["Pkarr:UpdateRetries"] = "3",
    };

    private static IHost Host(IDictionary<string, string?> settings, Action<PkarrClientOptions>? configure = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddPkarrClient(configure);
        return builder.Build();
    }

    private static async Task DisposeAsync(IHost host) => await ((IAsyncDisposable)host).DisposeAsync();

    private static Dictionary<string, string?> With(params (string Key, string? Value)[] changes)
    {
        var settings = new Dictionary<string, string?>(GoodSettings);
        foreach (var (key, value) in changes)
        {
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }

        return settings;
    }

    [Fact]
    public async Task Options_are_bound_from_the_pkarr_section_with_lists_ttls_and_timeout()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(GoodSettings).Build());
        services.AddPkarrClient();
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<PkarrClientOptions>>().Value;
        Assert.False(options.UseDht);
        Assert.True(options.UseRelays);
        Assert.Equal([new Uri("http://127.0.0.1:1/"), new Uri("http://127.0.0.1:2/prefix")], options.Relays!);
        Assert.Equal(["127.0.0.1:6881", "localhost:6882"], options.Bootstrap!);
        Assert.Equal(60u, options.MinimumTtl);
        Assert.Equal(3600u, options.MaximumTtl);
        Assert.Equal(TimeSpan.FromSeconds(5), options.RequestTimeout);
        Assert.Equal(50, options.CacheSize);
        Assert.Equal(3, options.UpdateRetries);
        // Settings not in the section keep their defaults.
        Assert.Equal(7, options.MaxRecursionDepth);
        Assert.Empty(options.ExtraRelays);
    }

    [Fact]
    public async Task The_configure_callback_runs_after_binding_and_a_custom_section_is_read()
    {
        var settings = GoodSettings.ToDictionary(pair => pair.Key.Replace("Pkarr:", "Names:", StringComparison.Ordinal), pair => pair.Value);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddPkarrClient(o => o.MaximumTtl = 30, configSectionPath: "Names");
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<PkarrClientOptions>>().Value;
        Assert.Equal(30u, options.MaximumTtl);
        Assert.Equal(30u, options.MinimumTtl);
        Assert.Equal(50, options.CacheSize);

        // The default section is not read then.
        var other = new ServiceCollection();
        other.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        other.AddPkarrClient();
        await using var otherProvider = other.BuildServiceProvider();
        Assert.Equal(1000, otherProvider.GetRequiredService<IOptions<PkarrClientOptions>>().Value.CacheSize);
    }

    [Fact]
    public async Task The_client_comes_from_the_provider_with_the_bound_options_the_host_clock_and_a_factory_http_client()
    {
        var clock = new FakeTimeProvider(Fixture.Start);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(GoodSettings).Build());
        services.AddSingleton<TimeProvider>(clock);
        services.AddPkarrClient();
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<PkarrClient>();
        Assert.Same(client, provider.GetRequiredService<PkarrClient>());
        Assert.Same(provider.GetRequiredService<IOptions<PkarrClientOptions>>().Value, client.Options);
        Assert.Equal([new Uri("http://127.0.0.1:1/"), new Uri("http://127.0.0.1:2/prefix")], client.RelayUrls);
        Assert.Same(clock, client.TimeProvider);
        Assert.NotNull(client.Options.HttpClient);
        Assert.Equal(50, client.Cache!.Capacity);
        Assert.Null(await client.GetDhtAsync());
    }

    [Theory]
    [InlineData("Pkarr:Relays:1", "ftp://relay.example/", "Pkarr:Relays: 'ftp://relay.example/'")]
    [InlineData("Pkarr:Relays:1", "relay.example", "Pkarr:Relays: 'relay.example'")]
    [InlineData("Pkarr:Bootstrap:1", "nonsense", "Pkarr:Bootstrap: 'nonsense'")]
    [InlineData("Pkarr:RequestTimeout", "00:00:00", "Pkarr:RequestTimeout")]
    [InlineData("Pkarr:CacheSize", "-1", "Pkarr:CacheSize")]
    [InlineData("Pkarr:UpdateRetries", "-2", "Pkarr:UpdateRetries")]
    [InlineData("Pkarr:UseRelays", "false", "neither the DHT (UseDht) nor any relay")]
    public async Task Validate_on_start_reports_a_bad_setting_by_name(string key, string value, string message)
    {
        var host = Host(With((key, value)));
        try
        {
            var thrown = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
            Assert.Contains(message, thrown.Message, StringComparison.Ordinal);
            Assert.Single(thrown.Failures);
        }
        finally
        {
            await DisposeAsync(host);
        }
    }

    [Fact]
    public async Task Validate_on_start_reports_every_bad_setting_at_once()
    {
        var host = Host(With(("Pkarr:Relays:1", "ftp://relay.example/"), ("Pkarr:Bootstrap:0", "nonsense"), ("Pkarr:CacheSize", "-1")));
        try
        {
            var thrown = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
            Assert.Equal(3, thrown.Failures.Count());
        }
        finally
        {
            await DisposeAsync(host);
        }
    }

    [Fact]
    public async Task With_use_dht_false_the_host_starts_and_stopping_it_disposes_the_client()
    {
        var host = Host(GoodSettings);
        try
        {
            await host.StartAsync().WaitAsync(Bound);
            var client = host.Services.GetRequiredService<PkarrClient>();
            Assert.Null(await client.GetDhtAsync());
            using var keypair = Keypair.Random();
            // The relays are closed loopback ports: the resolve runs and finds nothing.
            Assert.False((await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly).WaitAsync(Bound)).Found);

            await host.StopAsync().WaitAsync(Bound);
            await Assert.ThrowsAsync<ObjectDisposedException>(() => client.ResolveAsync(keypair.PublicKey));
        }
        finally
        {
            await DisposeAsync(host);
        }
    }

    [Fact]
    public async Task The_hosted_service_starts_the_dht_node_with_the_host_and_stops_it_with_the_host()
    {
        using var timeout = new CancellationTokenSource(Bound);
        await using var testnet = await Testnet.CreateAsync(6, cancellationToken: timeout.Token);
        int port = FreeUdpPort();
        var settings = new Dictionary<string, string?>
        {
            ["Pkarr:UseRelays"] = "false",
            ["Pkarr:DhtPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Pkarr:DhtMode"] = "Client",
        };
        for (int i = 0; i < testnet.Bootstrap.Count; i++)
        {
            settings[$"Pkarr:Bootstrap:{i}"] = testnet.Bootstrap[i].ToString();
        }

        var host = Host(settings, o => o.DhtBindAddress = IPAddress.Loopback);
        try
        {
            var client = host.Services.GetRequiredService<PkarrClient>();
            Assert.Equal(DhtMode.Client, client.Options.DhtMode);
            Assert.False(PortInUse(port), "the DHT node does not start before the host");

            await host.StartAsync(timeout.Token);
            Assert.True(PortInUse(port), "the hosted service started the DHT node");
            var dht = await client.GetDhtAsync(timeout.Token);
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), dht!.LocalEndPoint);

            // The node works on the testnet.
            using var keypair = Keypair.Random();
            var packet = SignedPacket.Builder().Txt("_t", "hosted").Sign(keypair);
            var published = await client.PublishAsync(packet, cancellationToken: timeout.Token);
            Assert.True(published.Succeeded, published.Error?.ToString());
            Assert.True(published.Dht!.StoredOn >= 1);

            await host.StopAsync(timeout.Token);
            Assert.False(PortInUse(port), "stopping the host stopped the DHT node");
            await Assert.ThrowsAsync<ObjectDisposedException>(() => client.ResolveAsync(keypair.PublicKey));
        }
        finally
        {
            await DisposeAsync(host);
        }
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static bool PortInUse(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
    }
}
