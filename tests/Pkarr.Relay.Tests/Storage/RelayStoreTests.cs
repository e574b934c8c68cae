using Microsoft.Extensions.Logging.Abstractions;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay.Storage;
using static Pkarr.Relay.Tests.Storage.StorageTestKit;

namespace Pkarr.Relay.Tests.Storage;

public sealed class RelayStoreTests : IDisposable
{
    private readonly string _directory = TempDirectory();

    public void Dispose() => Delete(_directory);

    private Task<RelayStore> OpenAsync(int size, int hotSize, TimeProvider time) =>
        RelayStore.OpenAsync(new CacheSettings { Path = _directory, Size = size, HotSize = hotSize }, null, time, NullLoggerFactory.Instance, CancellationToken.None);

    [Theory]
    [InlineData(100)]
    [InlineData(0)]
    public async Task What_was_put_is_there_after_a_reopen(int hotSize)
    {
        var time = Clock();
        var keypairs = Enumerable.Range(0, 5).Select(_ => Keypair.Random()).ToArray();
        try
        {
            string expectedFile = Path.Combine(_directory, "pkarr-cache", "packets.db");
            await using (var store = await OpenAsync(1000, hotSize, time))
            {
                Assert.Equal(expectedFile, store.Location);
                Assert.True(File.Exists(expectedFile));
                Assert.Equal(hotSize > 0, store.Cache is HotPacketCache);
                Assert.Equal(hotSize == 0, store.Cache is SqlitePkarrCache);
                foreach (var keypair in keypairs)
                {
                    Assert.True(await store.Cache!.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, 7), time)));
                }

                // The newer of two writes of a key.
                Assert.True(await store.Cache!.PutIfNewerAsync(CachedPacket.Seen(Packet(keypairs[0], 8), time)));
                Assert.False(await store.Cache!.PutIfNewerAsync(CachedPacket.Seen(Packet(keypairs[1], 6), time)));
            }

            await using (var store = await OpenAsync(1000, hotSize, time))
            {
                Assert.Equal(keypairs.Length, await store.Cache!.CountAsync());
                Assert.Equal(8UL, (await store.Cache.GetAsync(keypairs[0].PublicKey))!.Packet.Timestamp.Microseconds);
                foreach (var keypair in keypairs.Skip(1))
                {
                    Assert.Equal(7UL, (await store.Cache.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
                }

                using var absent = Keypair.Random();
                Assert.Null(await store.Cache.GetAsync(absent.PublicKey));
            }
        }
        finally
        {
            foreach (var keypair in keypairs)
            {
                keypair.Dispose();
            }
        }
    }

    [Fact]
    public async Task The_hot_layer_is_no_larger_than_the_store()
    {
        await using var store = await OpenAsync(5, 100, Clock());
        var hot = Assert.IsType<HotPacketCache>(store.Cache);
        Assert.Equal(5, hot.HotCapacity);
        Assert.Equal(5, hot.Capacity);
    }

    [Fact]
    public async Task Size_zero_opens_no_store()
    {
        await using var store = await OpenAsync(0, 100, Clock());
        Assert.Null(store.Cache);
        Assert.False(Directory.Exists(Path.Combine(_directory, "pkarr-cache")));
    }

    [Fact]
    public async Task A_directory_that_cannot_hold_the_file_is_an_error_naming_the_file()
    {
        // A file where the directory should be.
        await File.WriteAllTextAsync(Path.Combine(_directory, "pkarr-cache"), "not a directory");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => OpenAsync(10, 10, Clock()));
        Assert.Contains(Path.Combine(_directory, "pkarr-cache", "packets.db"), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Uses_served_from_memory_reach_the_sqlite_lru(bool used)
    {
        var time = Clock();
        using var a = Keypair.Random();
        using var b = Keypair.Random();
        using var c = Keypair.Random();
        await using (var store = await OpenAsync(2, 2, time))
        {
            var hot = Assert.IsType<HotPacketCache>(store.Cache);
            Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(a, 1), time)));
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(b, 1), time)));
            time.Advance(TimeSpan.FromSeconds(1));
            if (used)
            {
                Assert.NotNull(await hot.GetAsync(a.PublicKey));
            }

            await hot.FlushUsesAsync();
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(c, 1), time)));
        }

        // The file evicted its least recently used key: b when a was read (from memory), else a.
        using var sqlite = SqlitePkarrCache.Open(Path.Combine(_directory, "pkarr-cache", "packets.db"), 2, time);
        Assert.Equal(used, await sqlite.PeekAsync(a.PublicKey) is not null);
        Assert.Equal(!used, await sqlite.PeekAsync(b.PublicKey) is not null);
        Assert.NotNull(await sqlite.PeekAsync(c.PublicKey));
    }

    [Fact]
    public async Task Closing_the_store_writes_the_uses_still_queued()
    {
        var time = Clock();
        using var a = Keypair.Random();
        using var b = Keypair.Random();
        using var c = Keypair.Random();
        await using (var store = await OpenAsync(2, 2, time))
        {
            Assert.True(await store.Cache!.PutIfNewerAsync(CachedPacket.Seen(Packet(a, 1), time)));
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(await store.Cache.PutIfNewerAsync(CachedPacket.Seen(Packet(b, 1), time)));
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.NotNull(await store.Cache.GetAsync(a.PublicKey));
        }

        time.Advance(TimeSpan.FromSeconds(1));
        using (var sqlite = SqlitePkarrCache.Open(Path.Combine(_directory, "pkarr-cache", "packets.db"), 2, time))
        {
            Assert.True(await sqlite.PutIfNewerAsync(CachedPacket.Seen(Packet(c, 1), time)));
            Assert.NotNull(await sqlite.PeekAsync(a.PublicKey));
            Assert.Null(await sqlite.PeekAsync(b.PublicKey));
        }
    }
}
