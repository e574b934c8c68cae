// A CacheFirst lookup that answers early keeps running (shared spec pkarr.md §6.2): when slower nodes hold a newer
// packet than the first one to answer, the cache ends up with the newer one.

using System.Net;
using Mainline;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests;

public sealed class DhtBackendLaterPacketTests
{
    [Fact]
    public async Task An_early_cache_first_answer_is_followed_by_the_newest_packet_in_the_cache()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        // Two groups of nodes: "fast" ones that hold the old packet (they refuse the second put), and "slow" ones that
        // hold the new packet and answer gets late. The wait on the node's own loop is what makes them slow: 50 ms, a
        // lifetime after the fast nodes' loopback replies, yet inside the lookup's adaptive timeout (never under
        // 100 ms; a node later than that stops holding the lookup, NodeCore.Rtt.cs).
        bool refuseFastPuts = false;
        bool slowGets = false;
        var nodes = new List<Dht>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                bool fast = i % 2 == 0;
                var options = new DhtOptions
                {
                    Bootstrap = i == 0 ? [] : [nodes[0].LocalEndPoint],
                    Port = 0,
                    BindAddress = IPAddress.Loopback,
                    Mode = DhtMode.Server,
                    RateLimitPerIp = 0,
                    RateLimitPerSubnet = 0,
                    ReplyBytesPerSecond = 0,
                    Server = new ServerSettings { MaxItemsPerIp = int.MaxValue, MaxPeersPerIp = int.MaxValue },
                    RequestFilter = request =>
                    {
                        if (fast)
                        {
                            return !(Volatile.Read(ref refuseFastPuts) && request.Method == "put");
                        }

                        if (Volatile.Read(ref slowGets) && request.Method == "get")
                        {
                            Thread.Sleep(50);
                        }

                        return true;
                    },
                };
                nodes.Add(await Dht.CreateAsync(options, timeout.Token));
            }

            foreach (var node in nodes.Skip(1))
            {
                Assert.True(await node.BootstrappedAsync(timeout.Token));
            }

            var bootstrap = nodes.Select(n => n.LocalEndPoint.ToString()).ToList();
            PkarrClientOptions Options() => new()
            {
                UseRelays = false,
                Bootstrap = bootstrap,
                DhtBindAddress = IPAddress.Loopback,
                DhtPort = 0,
                DhtMode = DhtMode.Client,
            };

            await using var publisher = await PkarrClient.CreateAsync(Options(), timeout.Token);
            using var keypair = Keypair.Random();
            var now = Timestamp.Now();
            var old = SignedPacket.Builder().Timestamp(now.SubtractMicroseconds(10_000_000)).Txt("_v", "old").Sign(keypair);
            var @new = SignedPacket.Builder().Timestamp(now).Txt("_v", "new").Sign(keypair);
            Assert.True((await publisher.PublishAsync(old, cancellationToken: timeout.Token)).Succeeded);
            Volatile.Write(ref refuseFastPuts, true);
            Assert.True((await publisher.PublishAsync(@new, cancellationToken: timeout.Token)).Succeeded);
            Volatile.Write(ref slowGets, true);

            await using var resolver = await PkarrClient.CreateAsync(Options(), timeout.Token);
            var resolved = await resolver.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst, timeout.Token);

            // The early answer is the old packet from a fast node: the setup works as intended.
            Assert.True(resolved.Found, resolved.Error?.ToString());
            Assert.Equal(old.Timestamp, resolved.Packet.Timestamp);

            // The lookup runs on and the slow nodes' newer packet reaches the cache.
            Timestamp? cached = null;
            for (int i = 0; i < 200 && cached != @new.Timestamp; i++)
            {
                await Task.Delay(50, timeout.Token);
                cached = (await resolver.Cache!.PeekAsync(keypair.PublicKey, timeout.Token))?.Packet.Timestamp;
            }

            Assert.Equal(@new.Timestamp, cached);
            var again = await resolver.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly, timeout.Token);
            Assert.True(again.Found);
            Assert.Equal(@new.Timestamp, again.Packet.Timestamp);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
