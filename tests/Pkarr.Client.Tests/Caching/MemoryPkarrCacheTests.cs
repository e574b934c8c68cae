using Pkarr.Client.Caching;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Caching;

public sealed class MemoryPkarrCacheTests : PkarrCacheTests
{
    protected override IPkarrCache Create(int capacity) => new MemoryPkarrCache(capacity);

    [Fact]
    public async Task The_same_packet_seen_later_keeps_the_held_packet_object()
    {
        var cache = new MemoryPkarrCache(2);
        var packet = Packet(NewKeypair(), 3);
        var again = SignedPacket.FromBytes(packet.Bytes.Span);
        Assert.NotSame(packet, again);

        Assert.True(await cache.PutIfNewerAsync(new CachedPacket(packet, new Timestamp(100))));
        Assert.True(await cache.PutIfNewerAsync(new CachedPacket(again, new Timestamp(200))));

        var held = await cache.GetAsync(packet.PublicKey);
        Assert.Same(packet, held!.Packet);
        Assert.Equal(new Timestamp(200), held.LastSeen);
    }

    [Fact]
    public async Task Eviction_follows_the_order_of_use_across_many_keys()
    {
        const int Capacity = 16;
        var cache = new MemoryPkarrCache(Capacity);
        var keypairs = Enumerable.Range(0, Capacity).Select(_ => NewKeypair()).ToArray();
        foreach (var keypair in keypairs)
        {
            Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 1))));
        }

        // Use the even keys again, so the odd ones are the least recently used, oldest first.
        for (int i = 0; i < Capacity; i += 2)
        {
            Assert.NotNull(await cache.GetAsync(keypairs[i].PublicKey));
        }

        var newcomers = Enumerable.Range(0, Capacity / 2).Select(_ => NewKeypair()).ToArray();
        foreach (var keypair in newcomers)
        {
            Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 1))));
        }

        Assert.Equal(Capacity, await cache.CountAsync());
        for (int i = 0; i < Capacity; i++)
        {
            var held = await cache.PeekAsync(keypairs[i].PublicKey);
            Assert.True(i % 2 == 0 ? held is not null : held is null, $"key {i}");
        }

        foreach (var keypair in newcomers)
        {
            Assert.NotNull(await cache.PeekAsync(keypair.PublicKey));
        }
    }
}
