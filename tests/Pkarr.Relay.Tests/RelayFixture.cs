// A real relay for a test: Kestrel on 127.0.0.1 (an OS-chosen port), an in-process 10-node testnet behind it, an
// ephemeral store, and an HttpClient pointed at it. Every test that needs its own settings builds its own.

using System.Net;
using Pkarr.Relay;

namespace Pkarr.Relay.Tests;

internal sealed class RelayFixture : IAsyncDisposable
{
    private RelayFixture(RelayServer server)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
    }

    public RelayServer Server { get; }

    public HttpClient Http { get; }

    /// <summary>Testnet options on an OS-chosen HTTP port, with <paramref name="configure"/> applied.</summary>
    public static RelayOptions Options(Action<RelayOptions>? configure = null)
    {
        var options = RelayOptions.ForTestnet();
        options.Http.Port = 0;
        options.Republisher.Enabled = false;
        configure?.Invoke(options);
        return options;
    }

    public static async Task<RelayFixture> StartAsync(Action<RelayOptions>? configure = null)
    {
        var server = await RelayServer.StartAsync(Options(configure));
        return new RelayFixture(server);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    public static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);
}
