using System.Net;
using System.Net.Http.Headers;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Put_then_get_returns_the_payload()
    {
        await using var relay = await RelayFixture.StartAsync();
        var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.1")).Sign(keypair);
        using var body = new ByteArrayContent(packet.RelayPayload.ToArray());
        using var put = await relay.Http.PutAsync(keypair.PublicKey.ToZ32(), body);
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.True(int.Parse(put.Headers.GetValues("Pkarr-Dht-Stored-Nodes").Single()) > 0);

        using var get = await relay.Http.GetAsync(keypair.PublicKey.ToZ32());
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(packet.RelayPayload.ToArray(), await get.Content.ReadAsByteArrayAsync());

        using var missing = await relay.Http.GetAsync(Keypair.Random().PublicKey.ToZ32() + "?policy=CacheOnly");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
