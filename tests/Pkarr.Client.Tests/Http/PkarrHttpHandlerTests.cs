using System.Net;
using Pkarr.Client.Http;
using Pkarr.Client.Tests.Endpoints;
using Pkarr.Dns;
using Pkarr.Keys;

namespace Pkarr.Client.Tests.Http;

public sealed class PkarrHttpHandlerTests : IAsyncLifetime
{
    private static readonly IPAddress Loopback = IPAddress.Loopback;

    private readonly FakeNetwork _network = new();
    private LocalServer _server = null!;

    public async Task InitializeAsync() => _server = await LocalServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Client() =>
        new(PkarrHttpHandler.Create((host, ct) => _network.Resolver().ResolveAsync(host, https: true, ct)))
        {
            Timeout = TimeSpan.FromSeconds(10),
        };

    private async Task<string> GetAsync(string url)
    {
        using var client = Client();
        return await client.GetStringAsync(new Uri(url));
    }

    [Fact]
    public async Task KeyHostIsReachedThroughItsEndpointWithTheEndpointsPort()
    {
        var key = _network.Add(r => r.Https("@", SvcbData.Https(1, DnsName.Root).WithPort((ushort)_server.Port)).A("@", Loopback));

        string body = await GetAsync($"http://{key}/");

        Assert.Equal($"{LocalServer.Body} at {key}", body);
        Assert.Equal([key], _network.Calls);
    }

    [Fact]
    public async Task WithoutAPortInTheRecordTheRequestsPortIsUsed()
    {
        var key = _network.Add(r => r.Https("@", SvcbData.Https(1, DnsName.Root)).A("@", Loopback));

        Assert.StartsWith(LocalServer.Body, await GetAsync($"http://{key}:{_server.Port}/"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubdomainOfAKeyIsReachedThroughAnAlias()
    {
        var host = _network.Add(r => r.Https("@", SvcbData.Https(1, DnsName.Root).WithPort((ushort)_server.Port)).A("@", Loopback));
        var key = _network.Add(r => r.Https("www", SvcbData.Https(1, DnsName.Parse(host.ToZ32()))));

        Assert.Equal($"{LocalServer.Body} at www.{key}", await GetAsync($"http://www.{key}/"));
    }

    [Fact]
    public async Task IcannTargetIsConnectedThroughTheSystemResolver()
    {
        var key = _network.Add(r => r.Https("@", SvcbData.Https(1, DnsName.Parse("localhost")).WithPort((ushort)_server.Port)));

        Assert.Equal($"{LocalServer.Body} at {key}", await GetAsync($"http://{key}/"));
    }

    [Fact]
    public async Task UnreachableEndpointFallsThroughToTheNext()
    {
        var key = _network.Add(r => r
            .Https("@", SvcbData.Https(1, DnsName.Root).WithPort((ushort)LocalServer.ClosedPort()))
            .Https("@", SvcbData.Https(2, DnsName.Parse("localhost")).WithPort((ushort)_server.Port))
            .A("@", Loopback));

        Assert.StartsWith(LocalServer.Body, await GetAsync($"http://{key}/"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OtherHostsUseTheSystemResolver()
    {
        Assert.Equal($"{LocalServer.Body} at 127.0.0.1", await GetAsync($"http://127.0.0.1:{_server.Port}/"));
        Assert.Equal($"{LocalServer.Body} at localhost", await GetAsync($"http://localhost:{_server.Port}/"));
        Assert.Empty(_network.Calls);
    }

    [Fact]
    public async Task KeyWithoutPacketFailsWithAClearError()
    {
        var key = FakeNetwork.NewKey(out var keypair);
        keypair.Dispose();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync($"http://{key}:{_server.Port}/"));

        Assert.Contains($"'{key}' is a pkarr name without an HTTPS endpoint", error.Message, StringComparison.Ordinal);
        // SocketsHttpHandler wraps what the connect step throws, keeping its message; the cause is inside.
        Assert.Equal(HttpRequestError.NameResolutionError, Assert.IsType<HttpRequestException>(error.InnerException).HttpRequestError);
    }

    [Fact]
    public async Task KeyWithoutHttpsRecordsFailsWithAClearError()
    {
        var key = _network.Add(r => r.A("@", Loopback).Svcb("@", SvcbData.Svcb(1, DnsName.Root)));

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync($"http://{key}:{_server.Port}/"));

        Assert.Contains("without an HTTPS endpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyWhoseEndpointsAllRefuseFailsWithAClearError()
    {
        var key = _network.Add(r => r.Https("@", SvcbData.Https(1, DnsName.Root).WithPort((ushort)LocalServer.ClosedPort())).A("@", Loopback));

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync($"http://{key}/"));

        Assert.Contains("No HTTPS endpoint of the pkarr name", error.Message, StringComparison.Ordinal);
        var cause = Assert.IsType<HttpRequestException>(error.InnerException);
        Assert.Equal(HttpRequestError.ConnectionError, cause.HttpRequestError);
        Assert.IsType<System.Net.Sockets.SocketException>(Assert.Single(Assert.IsType<AggregateException>(cause.InnerException).InnerExceptions));
    }

    [Fact]
    public void ProxyIsBypassedForKeyHostsOnly()
    {
        using var keypair = Keypair.Random();
        using var handler = PkarrHttpHandler.Create((_, _) => AsyncEnumerable.Empty<Pkarr.Client.Endpoints.Endpoint>());
        var proxy = handler.Proxy!;

        Assert.True(proxy.IsBypassed(new Uri($"http://{keypair.PublicKey}/")));
        Assert.True(proxy.IsBypassed(new Uri($"http://sub.{keypair.PublicKey}/")));
        Assert.Null(proxy.GetProxy(new Uri($"http://{keypair.PublicKey}/")));
        Assert.Equal(HttpClient.DefaultProxy.IsBypassed(new Uri("http://example.com/")), proxy.IsBypassed(new Uri("http://example.com/")));
    }
}
