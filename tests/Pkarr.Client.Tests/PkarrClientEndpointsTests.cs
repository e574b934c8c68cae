using System.Net;
using Mainline;
using Microsoft.Extensions.DependencyInjection;
using Pkarr.Client.Http;
using Pkarr.Client.Tests.Http;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests;

/// <summary>Endpoints and the HTTP handler over a real client: the packet is published to a loopback testnet by one
/// client and found through the DHT by another.</summary>
public sealed class PkarrClientEndpointsTests
{
    private static SignedPacket ServerPacket(Keypair keypair, int port) => SignedPacket.Builder()
        .Https("@", SvcbData.Https(1, DnsName.Root).WithPort((ushort)port))
        .A("@", IPAddress.Loopback)
        .Svcb("_foo", SvcbData.Svcb(1, DnsName.Root).WithPort(9000))
        .Sign(keypair);

    private static async Task PublishAsync(Testnet testnet, SignedPacket packet, CancellationToken cancellationToken)
    {
        await using var publisher = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), cancellationToken);
        var published = await publisher.PublishAsync(packet, cancellationToken: cancellationToken);
        Assert.True(published.Succeeded, published.Error?.ToString());
    }

    [Fact]
    public async Task A_published_https_endpoint_leads_the_http_handler_to_the_server()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = await LocalServer.StartAsync();
        await using var testnet = await Testnet.CreateAsync(10, cancellationToken: timeout.Token);
        using var keypair = Keypair.Random();
        await PublishAsync(testnet, ServerPacket(keypair, server.Port), timeout.Token);
        await using var client = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token);
        using var http = new HttpClient(PkarrHttpHandler.Create(client)) { Timeout = TimeSpan.FromSeconds(30) };

        string body = await http.GetStringAsync(new Uri($"http://{keypair.PublicKey}/"), timeout.Token);
        Assert.Equal($"{LocalServer.Body} at {keypair.PublicKey}", body);

        // Not a key: the system resolver, as without the handler.
        Assert.Equal($"{LocalServer.Body} at 127.0.0.1", await http.GetStringAsync(new Uri($"http://127.0.0.1:{server.Port}/"), timeout.Token));

        // A key nobody published: a clear error, not a DNS lookup of the key.
        using var nobody = Keypair.Random();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetStringAsync(new Uri($"http://{nobody.PublicKey}:{server.Port}/"), timeout.Token));
        Assert.Contains("is a pkarr name without an HTTPS endpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_client_streams_https_and_svcb_endpoints()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var testnet = await Testnet.CreateAsync(10, cancellationToken: timeout.Token);
        using var keypair = Keypair.Random();
        await PublishAsync(testnet, ServerPacket(keypair, 8443), timeout.Token);
        await using var client = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token);

        var https = await client.ResolveHttpsEndpointsAsync($"https://{keypair.PublicKey}/path", timeout.Token).ToListAsync(timeout.Token);
        var foo = await client.ResolveSvcbEndpointsAsync(keypair.PublicKey.ToUri(), "foo", timeout.Token).ToListAsync(timeout.Token);
        var bar = await client.ResolveSvcbEndpointsAsync(keypair.PublicKey.ToZ32(), "bar", timeout.Token).ToListAsync(timeout.Token);

        Assert.Equal(8443, Assert.Single(https).Port);
        Assert.Equal([IPAddress.Loopback], https[0].Addresses);
        Assert.Equal(keypair.PublicKey, https[0].PublicKey);
        Assert.Equal(9000, Assert.Single(foo).Port);
        Assert.Empty(bar);
        Assert.Throws<ArgumentException>(() => client.ResolveSvcbEndpointsAsync(keypair.PublicKey.ToZ32(), "f.o", timeout.Token));
    }

    [Fact]
    public async Task UsePkarr_gives_factory_clients_the_registered_pkarr_client()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = await LocalServer.StartAsync();
        await using var testnet = await Testnet.CreateAsync(10, cancellationToken: timeout.Token);
        using var keypair = Keypair.Random();
        await PublishAsync(testnet, ServerPacket(keypair, server.Port), timeout.Token);

        var services = new ServiceCollection();
        services.AddPkarrClient(o =>
        {
            var testnetOptions = PkarrClientTestnetTests.DhtOnly(testnet);
            o.UseRelays = false;
            o.Bootstrap = testnetOptions.Bootstrap;
            o.DhtBindAddress = testnetOptions.DhtBindAddress;
            o.DhtPort = testnetOptions.DhtPort;
            o.DhtMode = testnetOptions.DhtMode;
        });
        services.AddHttpClient("pkarr").UsePkarr();
        await using var provider = services.BuildServiceProvider();

        using var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("pkarr");
        string body = await http.GetStringAsync(new Uri($"http://{keypair.PublicKey}/"), timeout.Token);

        Assert.Equal($"{LocalServer.Body} at {keypair.PublicKey}", body);
        Assert.True((await provider.GetRequiredService<PkarrClient>().ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly, timeout.Token)).Found);
    }
}
