using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pkarr.DnsServer.Http;
using Pkarr.DnsServer.Tests.Listeners;

namespace Pkarr.DnsServer.Tests.Http;

/// <summary>Kestrel on 127.0.0.1 and a free port with <see cref="DohEndpoint"/> mapped, and a client for it.</summary>
internal sealed class DohServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DohServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = ListenerFixture.Patience };
    }

    public HttpClient Client { get; }

    public static async Task<DohServer> StartAsync(FakeQueryHandler handler, bool behindProxy = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        DohEndpoint.Map(app, handler, behindProxy);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new DohServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
