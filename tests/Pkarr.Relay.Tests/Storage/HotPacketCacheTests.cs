using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay.Storage;
using static Pkarr.Relay.Tests.Storage.StorageTestKit;

namespace Pkarr.Relay.Tests.Storage;

public sealed class HotPacketCacheTests
{
    private readonly FakeTimeProvider _time = Clock();

    private HotPacketCache Hot(IPkarrCache durable, int capacity, RecordUses? uses = null) =>
        new(durable, capacity, uses, _time, NullLogger.Instance);

    [Fact]
    public async Task A_hit_after_a_put_does_not_read_the_durable_store_and_a_miss_does()
    {
        var durable = new CountingCache(100);
        await using var hot = Hot(durable, 10);
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, 5);

        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(packet, _time)));
        Assert.Equal(1, durable.Puts);
        Assert.True((await durable.HeldAsync(keypair.PublicKey))!.Packet.IsSameAs(packet));

        for (int i = 0; i < 3; i++)
        {
            Assert.True((await hot.GetAsync(keypair.PublicKey))!.Packet.IsSameAs(packet));
            Assert.True((await hot.PeekAsync(keypair.PublicKey))!.Packet.IsSameAs(packet));
        }

        Assert.Equal(0, durable.Reads);

        // A key memory does not hold is read from the durable store, once: the read fills memory.
        using var other = Keypair.Random();
        var seeded = Packet(other, 9);
        Assert.True(await durable.SeedAsync(CachedPacket.Seen(seeded, _time)));
        Assert.True((await hot.GetAsync(other.PublicKey))!.Packet.IsSameAs(seeded));
        Assert.True((await hot.GetAsync(other.PublicKey))!.Packet.IsSameAs(seeded));
        Assert.Equal(1, durable.Gets);

        // A key nobody holds is asked of the durable store every time: misses are not remembered.
        using var absent = Keypair.Random();
        Assert.Null(await hot.GetAsync(absent.PublicKey));
        Assert.Null(await hot.GetAsync(absent.PublicKey));
        Assert.Equal(3, durable.Gets);
    }

    [Fact]
    public async Task A_peek_miss_reads_the_durable_store_without_filling_memory()
    {
        var durable = new CountingCache(100);
        await using var hot = Hot(durable, 10);
        using var keypair = Keypair.Random();
        Assert.True(await durable.SeedAsync(CachedPacket.Seen(Packet(keypair, 1), _time)));

        Assert.NotNull(await hot.PeekAsync(keypair.PublicKey));
        Assert.NotNull(await hot.PeekAsync(keypair.PublicKey));
        Assert.Equal(2, durable.Peeks);
        Assert.Equal(0, hot.HotCount);
    }

    [Fact]
    public async Task A_put_returns_only_once_the_durable_store_has_it()
    {
        var durable = new CountingCache(100);
        await using var hot = Hot(durable, 10);
        using var keypair = Keypair.Random();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        durable.AfterPut = _ =>
        {
            reached.TrySetResult();
            return release.Task;
        };

        var put = hot.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, 1), _time)).AsTask();
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(put.IsCompleted);

        release.SetResult();
        Assert.True(await put.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.NotNull(await durable.HeldAsync(keypair.PublicKey));
        Assert.Equal(1, hot.HotCount);
    }

    [Fact]
    public async Task An_older_put_is_refused_by_the_durable_store_and_memory_keeps_the_newer()
    {
        var durable = new CountingCache(100);
        await using var hot = Hot(durable, 10);
        using var keypair = Keypair.Random();

        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, 10), _time)));
        Assert.False(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, 5), _time)));
        Assert.Equal(10UL, (await hot.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        Assert.Equal(10UL, (await durable.HeldAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, 11), _time)));
        Assert.Equal(11UL, (await hot.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
    }

    [Fact]
    public async Task Writers_that_reach_memory_in_the_other_order_than_the_disk_leave_the_newer()
    {
        var durable = new CountingCache(100);
        await using var hot = Hot(durable, 10);
        using var keypair = Keypair.Random();
        var older = CachedPacket.Seen(Packet(keypair, 1), _time);
        var newer = CachedPacket.Seen(Packet(keypair, 2), _time);

        // The older write stores first and is held there; the newer one stores and finishes; then the older one
        // finishes. A layer that copied each stored write into memory would end with the older packet.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var olderStored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        durable.AfterPut = entry =>
        {
            if (entry.Packet.IsSameAs(older.Packet))
            {
                olderStored.TrySetResult();
                return release.Task;
            }

            return Task.CompletedTask;
        };

        var first = hot.PutIfNewerAsync(older).AsTask();
        await olderStored.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await hot.PutIfNewerAsync(newer));
        Assert.Equal(2UL, (await hot.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        release.SetResult();
        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(2UL, (await hot.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        Assert.Equal(2UL, (await hot.PeekAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        Assert.Equal(2UL, (await durable.HeldAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
    }

    [Fact]
    public async Task A_miss_that_read_the_old_packet_before_a_write_does_not_put_it_back_into_memory()
    {
        var durable = new CountingCache(100);
        await using var hot = Hot(durable, 1);
        using var keypair = Keypair.Random();
        using var other = Keypair.Random();
        Assert.True(await durable.SeedAsync(CachedPacket.Seen(Packet(keypair, 1), _time)));

        // The reader has read packet 1 and is held; meanwhile packet 2 is written, and memory (one entry) drops it
        // for another key. Then the reader goes on.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        durable.AfterGet = key =>
        {
            if (key == keypair.PublicKey && read.TrySetResult())
            {
                return release.Task;
            }

            return Task.CompletedTask;
        };

        var reader = hot.GetAsync(keypair.PublicKey).AsTask();
        await read.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, 2), _time)));
        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(other, 1), _time)));
        release.SetResult();
        Assert.Equal(1UL, (await reader.WaitAsync(TimeSpan.FromSeconds(10)))!.Packet.Timestamp.Microseconds);

        Assert.Equal(2UL, (await hot.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        Assert.Equal(2UL, (await hot.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
    }

    [Fact]
    public async Task Concurrent_writers_and_readers_never_leave_memory_older_than_the_disk()
    {
        var durable = new CountingCache(1000) { Yield = true };
        await using var hot = Hot(durable, 4);
        const int Rounds = 200;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        for (int round = 0; round < Rounds; round++)
        {
            using var keypair = Keypair.Random();
            var packets = Enumerable.Range(1, 4).Select(t => CachedPacket.Seen(Packet(keypair, (ulong)t), _time)).ToArray();
            Random.Shared.Shuffle(packets);

            // Writers of four timestamps and readers of the key, all at once.
            var writers = packets.Select(entry => Task.Run(async () => await hot.PutIfNewerAsync(entry, timeout.Token), timeout.Token));
            var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () => await hot.GetAsync(keypair.PublicKey, timeout.Token), timeout.Token));
            await Task.WhenAll([.. writers, .. readers]);

            Assert.Equal(4UL, (await durable.HeldAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
            Assert.Equal(4UL, (await hot.GetAsync(keypair.PublicKey, timeout.Token))!.Packet.Timestamp.Microseconds);
            Assert.Equal(4UL, (await hot.PeekAsync(keypair.PublicKey, timeout.Token))!.Packet.Timestamp.Microseconds);
        }
    }

    [Fact]
    public async Task Memory_holds_at_most_its_capacity_and_drops_the_least_recently_used()
    {
        var durable = new CountingCache(100);
        await using var hot = Hot(durable, 3);
        var keypairs = Enumerable.Range(0, 10).Select(_ => Keypair.Random()).ToArray();
        try
        {
            foreach (var keypair in keypairs)
            {
                Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, 1), _time)));
                Assert.InRange(hot.HotCount, 1, 3);
            }

            Assert.Equal(3, hot.HotCount);
            Assert.Equal(3, hot.HotCapacity);
            Assert.Equal(100, hot.Capacity);

            // The last three are hits; the first is read from the durable store.
            Assert.NotNull(await hot.GetAsync(keypairs[7].PublicKey));
            Assert.NotNull(await hot.GetAsync(keypairs[8].PublicKey));
            Assert.NotNull(await hot.GetAsync(keypairs[9].PublicKey));
            Assert.Equal(0, durable.Gets);
            Assert.NotNull(await hot.GetAsync(keypairs[0].PublicKey));
            Assert.Equal(1, durable.Gets);

            // Reading keypairs[0] brought it in and dropped the least recently used of the three, keypairs[7].
            Assert.Equal(3, hot.HotCount);
            Assert.NotNull(await hot.GetAsync(keypairs[0].PublicKey));
            Assert.NotNull(await hot.GetAsync(keypairs[9].PublicKey));
            Assert.Equal(1, durable.Gets);
            Assert.NotNull(await hot.GetAsync(keypairs[7].PublicKey));
            Assert.Equal(2, durable.Gets);
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
    public async Task Hits_reach_the_durable_store_as_batches_of_the_latest_use_per_key()
    {
        var durable = new CountingCache(100);
        var recorder = new UseRecorder();
        await using var hot = Hot(durable, 10, recorder.Record);
        using var a = Keypair.Random();
        using var b = Keypair.Random();
        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(a, 1), _time)));
        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(b, 1), _time)));

        Assert.NotNull(await hot.GetAsync(a.PublicKey));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(await hot.GetAsync(b.PublicKey));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(await hot.GetAsync(a.PublicKey));

        // A peek is not a use.
        Assert.NotNull(await hot.PeekAsync(b.PublicKey));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(await hot.PeekAsync(b.PublicKey));

        Assert.Empty(recorder.Batches);
        await hot.FlushUsesAsync();
        var batch = Assert.Single(recorder.Batches);
        var uses = batch.ToDictionary(use => use.Key, use => use.Value);
        Assert.Equal(2, uses.Count);
        long start = (long)Timestamp.WallClock(_time).Microseconds - 3_000_000;
        Assert.Equal(start + 2_000_000, uses[a.PublicKey]);
        Assert.Equal(start + 1_000_000, uses[b.PublicKey]);

        // Nothing new, nothing written.
        await hot.FlushUsesAsync();
        Assert.Single(recorder.Batches);
        Assert.Equal(0, durable.Reads);
    }

    [Fact]
    public async Task A_miss_with_batched_uses_reads_the_durable_store_without_a_use_and_queues_the_use()
    {
        // The durable store's own use-recording read is a write transaction; with batches, a miss must not take it.
        var durable = new CountingCache(100);
        var recorder = new UseRecorder();
        await using var hot = Hot(durable, 10, recorder.Record);
        using var keypair = Keypair.Random();
        Assert.True(await durable.SeedAsync(CachedPacket.Seen(Packet(keypair, 1), _time)));

        Assert.NotNull(await hot.GetAsync(keypair.PublicKey));
        Assert.Equal(0, durable.Gets);
        Assert.Equal(1, durable.Peeks);

        await hot.FlushUsesAsync();
        var use = Assert.Single(Assert.Single(recorder.Batches));
        Assert.Equal(keypair.PublicKey, use.Key);

        // Without batches (no use recorder), the durable read records the use itself.
        var plain = new CountingCache(100);
        await using var unbatched = Hot(plain, 10);
        Assert.True(await plain.SeedAsync(CachedPacket.Seen(Packet(keypair, 1), _time)));
        Assert.NotNull(await unbatched.GetAsync(keypair.PublicKey));
        Assert.Equal(1, plain.Gets);
        Assert.Equal(0, plain.Peeks);
    }

    [Fact]
    public async Task The_timer_flushes_queued_uses()
    {
        var recorder = new UseRecorder();
        await using var hot = Hot(new CountingCache(100), 10, recorder.Record);
        using var keypair = Keypair.Random();
        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, 1), _time)));
        Assert.NotNull(await hot.GetAsync(keypair.PublicKey));

        _time.Advance(HotPacketCache.UseFlushInterval - TimeSpan.FromSeconds(1));
        await Task.Delay(50);
        Assert.Empty(recorder.Batches);

        _time.Advance(TimeSpan.FromSeconds(1));
        for (int i = 0; i < 200 && recorder.Batches.Count == 0; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(keypair.PublicKey, Assert.Single(Assert.Single(recorder.Batches)).Key);
    }

    [Fact]
    public async Task Dispose_flushes_the_queued_uses_and_later_timer_ticks_do_nothing()
    {
        var recorder = new UseRecorder();
        var hot = Hot(new CountingCache(100), 10, recorder.Record);
        using var keypair = Keypair.Random();
        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, 1), _time)));
        Assert.NotNull(await hot.GetAsync(keypair.PublicKey));
        Assert.Empty(recorder.Batches);

        await hot.DisposeAsync();
        Assert.Equal(keypair.PublicKey, Assert.Single(Assert.Single(recorder.Batches)).Key);

        _time.Advance(HotPacketCache.UseFlushInterval * 3);
        await Task.Delay(50);
        Assert.Single(recorder.Batches);
    }

    [Fact]
    public async Task Count_reads_the_durable_store_once_per_write_not_per_call()
    {
        var durable = new CountingCache(100);
        await using var hot = Hot(durable, 10);
        using var a = Keypair.Random();
        using var b = Keypair.Random();

        Assert.Equal(0, await hot.CountAsync());
        Assert.Equal(0, await hot.CountAsync());
        Assert.Equal(1, durable.Counts);

        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(a, 1), _time)));
        Assert.True(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(b, 1), _time)));
        Assert.Equal(2, await hot.CountAsync());
        Assert.Equal(2, await hot.CountAsync());
        Assert.Equal(2, durable.Counts);

        // A refused write changes nothing, so the count stays known.
        Assert.False(await hot.PutIfNewerAsync(CachedPacket.Seen(Packet(a, 0), _time)));
        Assert.Equal(2, await hot.CountAsync());
        Assert.Equal(2, durable.Counts);
    }
}
