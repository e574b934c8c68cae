using System.Net;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay.Tests.Storage;

namespace Pkarr.Relay.Tests.Processes;

/// <summary>
/// A fleet at process level (issue 11): two <c>pkarr relay</c> processes whose config file points their store at one
/// real redis-server (<c>[cache] backend = "redis"</c>), as two relays behind a load balancer. What one acknowledges
/// the other serves, and concurrent PUTs of an older and a newer packet of a key through both leave the newer.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class FleetProcessTests(RedisServerFixture redis) : IDisposable
{
    private const int Keys = 12;

    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-relay-fleet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> ConfigFile()
    {
        string file = Path.Combine(_dir, "relay.toml");
        await File.WriteAllTextAsync(file, $"""
            [cache]
            backend = "redis"
            redis_url = "{redis.Url}"
            redis_prefix = "{RedisServerFixture.NewPrefix()}"
            """);
        return file;
    }

    private static Task<RelayProcess> StartAsync(string config) =>
        RelayProcess.StartAsync("relay", "--config", config, "--testnet", "--http-port", "0", "--log-level", "warning");

    [Fact]
    public async Task Two_relay_processes_on_one_redis_share_packets_and_never_downgrade_a_key()
    {
        string config = await ConfigFile();
        await using var first = await StartAsync(config);
        await using var second = await StartAsync(config);
        Assert.Contains($"store  {redis.Url}", first.Output, StringComparison.Ordinal);
        using var a = new HttpClient { BaseAddress = first.Url, Timeout = RelayProcess.Bound };
        using var b = new HttpClient { BaseAddress = second.Url, Timeout = RelayProcess.Bound };

        // A PUT on one is served by the other, from the shared store.
        using (var keypair = Keypair.Random())
        {
            string key = keypair.PublicKey.ToZ32();
            using (var missing = await b.GetAsync(key + "?policy=CacheOnly"))
            {
                Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            }

            var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.8")).Sign(keypair);
            Assert.Equal(HttpStatusCode.NoContent, await Put(a, keypair, packet));
            using var served = await b.GetAsync(key + "?policy=CacheOnly");
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal(packet.RelayPayload.ToArray(), await served.Content.ReadAsByteArrayAsync());
        }

        // For each key, an older and a newer packet PUT at the same moment, one through each relay (which one
        // through which alternates): the newer is acknowledged, the older is acknowledged only if it was stored
        // first, and both relays end up serving the newer.
        var keypairs = Enumerable.Range(0, Keys).Select(_ => Keypair.Random()).ToArray();
        try
        {
            ulong now = Timestamp.Now().Microseconds;
            var races = keypairs.Select(async (keypair, i) =>
            {
                var older = SignedPacket.Builder().Txt("_v", "older").Timestamp(new Timestamp(now)).Sign(keypair);
                var newer = SignedPacket.Builder().Txt("_v", "newer").Timestamp(new Timestamp(now + 1)).Sign(keypair);
                var (olderVia, newerVia) = i % 2 == 0 ? (a, b) : (b, a);
                var statuses = await Task.WhenAll(Put(olderVia, keypair, older), Put(newerVia, keypair, newer));
                return (keypair, newer, OlderStatus: statuses[0], NewerStatus: statuses[1]);
            });
            foreach (var (keypair, newer, olderStatus, newerStatus) in await Task.WhenAll(races))
            {
                Assert.Equal(HttpStatusCode.NoContent, newerStatus);
                Assert.True(olderStatus is HttpStatusCode.NoContent or HttpStatusCode.Conflict, $"the older PUT answered {(int)olderStatus}");
                foreach (var relay in new[] { a, b })
                {
                    using var get = await relay.GetAsync(keypair.PublicKey.ToZ32() + "?policy=CacheOnly");
                    Assert.Equal(HttpStatusCode.OK, get.StatusCode);
                    Assert.Equal(newer.RelayPayload.ToArray(), await get.Content.ReadAsByteArrayAsync());
                }
            }

            // The refused side: once the newer is stored, the older is refused by either relay.
            var last = keypairs[0];
            var stale = SignedPacket.Builder().Txt("_v", "older").Timestamp(new Timestamp(now)).Sign(last);
            Assert.Equal(HttpStatusCode.Conflict, await Put(a, last, stale));
            Assert.Equal(HttpStatusCode.Conflict, await Put(b, last, stale));
        }
        finally
        {
            foreach (var keypair in keypairs)
            {
                keypair.Dispose();
            }
        }
    }

    private static async Task<HttpStatusCode> Put(HttpClient relay, Keypair keypair, SignedPacket packet)
    {
        using var body = new ByteArrayContent(packet.RelayPayload.ToArray());
        using var response = await relay.PutAsync(keypair.PublicKey.ToZ32(), body);
        return response.StatusCode;
    }
}
