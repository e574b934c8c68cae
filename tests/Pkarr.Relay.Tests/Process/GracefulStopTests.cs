using System.Net;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Tests.Processes;

/// <summary>
/// <c>pkarr relay</c> stopped as systemd and docker stop it: SIGTERM ends it gracefully with exit code 0, and what it
/// acknowledged is in its store when it starts again.
/// </summary>
public sealed class GracefulStopTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-relay-stop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Sigterm_stops_the_relay_with_exit_0_and_the_store_keeps_what_it_acknowledged()
    {
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.2")).Sign(keypair);
        string key = keypair.PublicKey.ToZ32();
        string[] arguments = ["relay", "--testnet", "--http-port", "0", "--cache-dir", _dir, "--log-level", "warning"];

        Uri url;
        await using (var relay = await RelayProcess.StartAsync(arguments))
        {
            url = relay.Url;
            Assert.Contains(Path.Combine(_dir, "pkarr-cache"), relay.Output, StringComparison.Ordinal);
            using var http = new HttpClient { BaseAddress = relay.Url, Timeout = RelayProcess.Bound };
            using var body = new ByteArrayContent(packet.RelayPayload.ToArray());
            using var put = await http.PutAsync(key, body);
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);

            Assert.Equal(0, await relay.TerminateAsync());
            Assert.Contains("relay stopped", relay.Errors, StringComparison.Ordinal);
        }

        using (var gone = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) })
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => gone.GetAsync("/"));
        }

        await using var again = await RelayProcess.StartAsync(arguments);
        using var client = new HttpClient { BaseAddress = again.Url, Timeout = RelayProcess.Bound };
        using var get = await client.GetAsync(key + "?policy=CacheOnly");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(packet.RelayPayload.ToArray(), await get.Content.ReadAsByteArrayAsync());
        using var other = await client.GetAsync(Keypair.Random().PublicKey.ToZ32() + "?policy=CacheOnly");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }
}
