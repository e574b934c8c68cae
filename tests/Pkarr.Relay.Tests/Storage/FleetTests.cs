using System.Net;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Relay.Tests.Storage.StorageTestKit;

namespace Pkarr.Relay.Tests.Storage;

/// <summary>Two relays in this process on one redis-server, as two relays of a fleet behind a load balancer.</summary>
[Collection(RedisCollection.Name)]
public sealed class FleetTests(RedisServerFixture redis)
{
    private Task<RelayFixture> StartAsync(string prefix) => RelayFixture.StartAsync(o =>
    {
        o.Cache.Backend = StoreBackend.Redis;
        o.Cache.RedisUrl = redis.Url;
        o.Cache.RedisPrefix = prefix;
    });

    [Fact]
    public async Task A_put_on_one_relay_is_served_by_the_other_from_the_shared_store()
    {
        string prefix = RedisServerFixture.NewPrefix();
        await using var first = await StartAsync(prefix);
        await using var second = await StartAsync(prefix);
        Assert.Equal($"redis://127.0.0.1:{redis.Port}/0", first.Server.StoreLocation);

        using var keypair = Keypair.Random();
        string key = keypair.PublicKey.ToZ32();
        using (var missing = await second.Http.GetAsync(key + "?policy=CacheOnly"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.7")).Sign(keypair);
        using (var body = new ByteArrayContent(packet.RelayPayload.ToArray()))
        using (var put = await first.Http.PutAsync(key, body))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        using var get = await second.Http.GetAsync(key + "?policy=CacheOnly");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(packet.RelayPayload.ToArray(), await get.Content.ReadAsByteArrayAsync());

        // An older packet is refused by the relay that did not see the newer one's PUT.
        var older = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.8"))
            .Timestamp(new Timestamp(packet.Timestamp.Microseconds - 1)).Sign(keypair);
        using (var body = new ByteArrayContent(older.RelayPayload.ToArray()))
        using (var conflict = await second.Http.PutAsync(key, body))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        }

        using var again = await first.Http.GetAsync(key + "?policy=CacheOnly");
        Assert.Equal(packet.RelayPayload.ToArray(), await again.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Concurrent_puts_of_two_timestamps_through_both_relays_leave_the_newer()
    {
        string prefix = RedisServerFixture.NewPrefix();
        await using var first = await StartAsync(prefix);
        await using var second = await StartAsync(prefix);
        const int Rounds = 10;
        for (int round = 0; round < Rounds; round++)
        {
            using var keypair = Keypair.Random();
            string key = keypair.PublicKey.ToZ32();
            ulong now = Timestamp.Now().Microseconds;
            var older = Packet(keypair, now, "older");
            var newer = Packet(keypair, now + 1, "newer");
            var (olderRelay, newerRelay) = round % 2 == 0 ? (first, second) : (second, first);

            var puts = await Task.WhenAll(PutAsync(olderRelay, key, older), PutAsync(newerRelay, key, newer));
            // The older one may be stored first (204) or refused (409); the newer one is always stored.
            Assert.Equal(HttpStatusCode.NoContent, puts[1]);

            foreach (var relay in new[] { first, second })
            {
                using var get = await relay.Http.GetAsync(key + "?policy=CacheOnly");
                Assert.Equal(HttpStatusCode.OK, get.StatusCode);
                Assert.Equal(newer.RelayPayload.ToArray(), await get.Content.ReadAsByteArrayAsync());
            }
        }
    }

    private static async Task<HttpStatusCode> PutAsync(RelayFixture relay, string key, SignedPacket packet)
    {
        using var body = new ByteArrayContent(packet.RelayPayload.ToArray());
        using var response = await relay.Http.PutAsync(key, body);
        return response.StatusCode;
    }
}
