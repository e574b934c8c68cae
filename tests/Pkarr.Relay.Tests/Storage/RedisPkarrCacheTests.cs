using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay.Storage;
using StackExchange.Redis;
using static Pkarr.Relay.Tests.Storage.StorageTestKit;

namespace Pkarr.Relay.Tests.Storage;

[Collection(RedisCollection.Name)]
public sealed class RedisPkarrCacheTests(RedisServerFixture redis) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = Clock();
    private readonly string _prefix = RedisServerFixture.NewPrefix();
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<Keypair> _keypairs = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        foreach (var keypair in _keypairs)
        {
            keypair.Dispose();
        }
    }

    /// <summary>A store on the test's prefix; a second one with the same arguments is a second relay of the fleet.</summary>
    private async Task<RedisPkarrCache> OpenAsync(int capacity, TimeProvider? time = null)
    {
        var cache = await RedisPkarrCache.OpenAsync(redis.Url, _prefix, capacity, time ?? _time, NullLoggerFactory.Instance);
        _owned.Add(cache);
        return cache;
    }

    private Keypair NewKeypair()
    {
        var keypair = Keypair.Random();
        _keypairs.Add(keypair);
        return keypair;
    }

    private CachedPacket SeenNow(SignedPacket packet) => CachedPacket.Seen(packet, _time);

    [Fact]
    public async Task Put_get_peek_and_count()
    {
        var cache = await OpenAsync(10);
        var (a, b) = (NewKeypair(), NewKeypair());
        Assert.Equal(10, cache.Capacity);
        Assert.Equal(0, await cache.CountAsync());
        Assert.Null(await cache.GetAsync(a.PublicKey));
        Assert.Null(await cache.PeekAsync(a.PublicKey));

        var packet = Packet(a, 5);
        var entry = SeenNow(packet);
        Assert.True(await cache.PutIfNewerAsync(entry));
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(b, 1))));

        var got = await cache.GetAsync(a.PublicKey);
        Assert.Equal(entry, got);
        Assert.Equal(packet.Bytes.ToArray(), got!.Packet.Bytes.ToArray());
        Assert.Equal(entry, await cache.PeekAsync(a.PublicKey));
        Assert.Equal(2, await cache.CountAsync());

        // The entry is stored in its storage form, under the z-base32 key.
        byte[]? stored = await cache.Database.HashGetAsync(cache.PacketsKey, a.PublicKey.ToZ32());
        Assert.Equal(entry.Serialize(), stored);
    }

    [Fact]
    public async Task An_older_packet_never_replaces_a_newer_one()
    {
        var cache = await OpenAsync(10);
        var keypair = NewKeypair();

        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 10))));
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 5))));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 9))));
        Assert.Equal(10UL, (await cache.PeekAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);

        // Timestamps compare as numbers over all eight bytes, not only the low ones.
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 0x1_0000_0000))));
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 0xFFFF_FFFF))));
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 0x1_0000_0001))));
        Assert.Equal(0x1_0000_0001UL, (await cache.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        Assert.Equal(1, await cache.CountAsync());
    }

    [Fact]
    public async Task The_same_packet_seen_later_updates_last_seen_and_seen_again_or_earlier_does_not()
    {
        var cache = await OpenAsync(10);
        var packet = Packet(NewKeypair(), 42);
        var first = new Timestamp(Timestamp.WallClock(_time).Microseconds - 10_000_000);

        Assert.True(await cache.PutIfNewerAsync(new CachedPacket(packet, first)));
        Assert.False(await cache.PutIfNewerAsync(new CachedPacket(packet, first)));
        Assert.False(await cache.PutIfNewerAsync(new CachedPacket(packet, first.SubtractMicroseconds(1))));
        Assert.Equal(first, (await cache.PeekAsync(packet.PublicKey))!.LastSeen);

        var later = first.AddMicroseconds(1);
        Assert.True(await cache.PutIfNewerAsync(new CachedPacket(packet, later)));
        var held = await cache.PeekAsync(packet.PublicKey);
        Assert.Equal(later, held!.LastSeen);
        Assert.True(held.Packet.IsSameAs(packet));
    }

    [Fact]
    public async Task A_held_last_seen_far_in_the_future_counts_as_zero()
    {
        var cache = await OpenAsync(10);
        var packet = Packet(NewKeypair(), 42);
        var future = Timestamp.WallClock(_time).AddMicroseconds(3_600_000_000);
        await cache.Database.HashSetAsync(cache.PacketsKey, packet.PublicKey.ToZ32(), new CachedPacket(packet, future).Serialize());

        // It reads as 0 (CachedPacket.TryDeserialize), and so the same packet seen now supersedes it.
        Assert.Equal(default, (await cache.PeekAsync(packet.PublicKey))!.LastSeen);
        Assert.True(await cache.PutIfNewerAsync(SeenNow(packet)));
        Assert.Equal(Timestamp.WallClock(_time), (await cache.PeekAsync(packet.PublicKey))!.LastSeen);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Equal_timestamps_are_decided_by_the_larger_dns_bytes(bool lowerFirst)
    {
        var cache = await OpenAsync(10);
        var keypair = NewKeypair();
        var a = Packet(keypair, 7, "a");
        var b = Packet(keypair, 7, "b");
        var (higher, lower) = b.MoreRecentThan(a) ? (b, a) : (a, b);
        Assert.True(higher.MoreRecentThan(lower));
        Assert.False(lower.MoreRecentThan(higher));

        if (lowerFirst)
        {
            Assert.True(await cache.PutIfNewerAsync(SeenNow(lower)));
            Assert.True(await cache.PutIfNewerAsync(SeenNow(higher)));
        }
        else
        {
            Assert.True(await cache.PutIfNewerAsync(SeenNow(higher)));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await cache.PutIfNewerAsync(SeenNow(lower)));
        Assert.True((await cache.PeekAsync(keypair.PublicKey))!.Packet.IsSameAs(higher));
    }

    [Fact]
    public async Task The_dns_tie_break_is_unsigned_and_a_longer_message_with_the_same_prefix_wins()
    {
        var cache = await OpenAsync(10);
        var keypair = NewKeypair();

        // "x" and "xx": the longer message shares the shorter one's text, so its bytes run on where the shorter's end.
        // Records of high bytes ("\u00ff" is 0xC3 0xBF in UTF-8) test that bytes compare unsigned.
        string[] texts = ["x", "xx", "\u00ff", "a", "\u00ff\u00ff", "b"];
        var packets = texts.Select(text => Packet(keypair, 7, text)).ToArray();
        var expected = packets.Aggregate((best, next) => next.MoreRecentThan(best) ? next : best);
        foreach (var packet in packets)
        {
            var held = await cache.PeekAsync(keypair.PublicKey);
            bool supersedes = SeenNow(packet).Supersedes(held);
            Assert.Equal(supersedes, await cache.PutIfNewerAsync(SeenNow(packet)));
        }

        Assert.True((await cache.PeekAsync(keypair.PublicKey))!.Packet.IsSameAs(expected));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_least_recently_used_key_is_evicted_and_a_get_counts_as_use_but_a_peek_does_not(bool get)
    {
        var cache = await OpenAsync(2);
        var (a, b, c) = (NewKeypair(), NewKeypair(), NewKeypair());

        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(a, 1))));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(b, 1))));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(get ? await cache.GetAsync(a.PublicKey) : await cache.PeekAsync(a.PublicKey));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(c, 1))));

        Assert.Equal(2, await cache.CountAsync());
        Assert.Equal(get, await cache.PeekAsync(a.PublicKey) is not null);
        Assert.Equal(!get, await cache.PeekAsync(b.PublicKey) is not null);
        Assert.NotNull(await cache.PeekAsync(c.PublicKey));
        Assert.Equal(2, await cache.Database.SortedSetLengthAsync(cache.LruKey));
    }

    [Fact]
    public async Task A_relay_whose_clock_lags_does_not_age_a_key()
    {
        var ahead = await OpenAsync(2);
        var lagging = await OpenAsync(2, new FakeTimeProvider(_time.GetUtcNow() - TimeSpan.FromMinutes(10)));
        var (a, b, c) = (NewKeypair(), NewKeypair(), NewKeypair());

        Assert.True(await ahead.PutIfNewerAsync(SeenNow(Packet(a, 1))));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await ahead.PutIfNewerAsync(SeenNow(Packet(b, 1))));

        // A read on the lagging relay would move a's use ten minutes back; it does not, so a stays the oldest.
        Assert.NotNull(await lagging.GetAsync(b.PublicKey));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await ahead.PutIfNewerAsync(SeenNow(Packet(c, 1))));
        Assert.Null(await ahead.PeekAsync(a.PublicKey));
        Assert.NotNull(await ahead.PeekAsync(b.PublicKey));
    }

    [Fact]
    public async Task Opening_with_a_smaller_capacity_evicts_the_least_recently_used()
    {
        var large = await OpenAsync(10);
        var keypairs = Enumerable.Range(0, 6).Select(_ => NewKeypair()).ToArray();
        foreach (var keypair in keypairs)
        {
            Assert.True(await large.PutIfNewerAsync(SeenNow(Packet(keypair, 1))));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var small = await OpenAsync(2);
        Assert.Equal(2, await small.CountAsync());
        Assert.Null(await small.PeekAsync(keypairs[3].PublicKey));
        Assert.NotNull(await small.PeekAsync(keypairs[4].PublicKey));
        Assert.NotNull(await small.PeekAsync(keypairs[5].PublicKey));
    }

    [Fact]
    public async Task A_store_of_capacity_zero_holds_nothing()
    {
        var cache = await OpenAsync(0);
        var keypair = NewKeypair();
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 1))));
        Assert.Null(await cache.GetAsync(keypair.PublicKey));
        Assert.Equal(0, await cache.CountAsync());
    }

    public static TheoryData<string> CorruptValues => new()
    {
        "garbage",
        "too short to be a packet",
        "a packet of another key",
        "a newer packet whose DNS message does not parse",
    };

    [Theory]
    [MemberData(nameof(CorruptValues))]
    public async Task A_value_that_is_not_a_packet_of_its_key_reads_as_absent_and_is_overwritten(string kind)
    {
        var cache = await OpenAsync(10);
        var keypair = NewKeypair();
        byte[] corrupt = kind switch
        {
            "garbage" => [.. Enumerable.Repeat((byte)0xAB, 300)],
            "too short to be a packet" => [1, 2, 3],
            "a packet of another key" => SeenNow(Packet(NewKeypair(), 100)).Serialize(),
            _ => BreakDns(SeenNow(Packet(keypair, 100)).Serialize()),
        };
        string field = keypair.PublicKey.ToZ32();
        await cache.Database.HashSetAsync(cache.PacketsKey, field, corrupt);
        await cache.Database.SortedSetAddAsync(cache.LruKey, field, 1);

        Assert.Null(await cache.PeekAsync(keypair.PublicKey));
        Assert.Null(await cache.GetAsync(keypair.PublicKey));

        // A packet older than the corrupt one claims is stored: what is not a packet holds nothing.
        await cache.Database.HashSetAsync(cache.PacketsKey, field, corrupt);
        var entry = SeenNow(Packet(keypair, 1));
        Assert.True(await cache.PutIfNewerAsync(entry));
        Assert.Equal(entry, await cache.GetAsync(keypair.PublicKey));
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 0))));
    }

    [Fact]
    public async Task Two_relays_writing_two_timestamps_of_a_key_at_once_always_leave_the_newer()
    {
        var first = await OpenAsync(1000);
        var second = await OpenAsync(1000);
        const int Rounds = 100;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int newerFirst = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var keypair = NewKeypair();
            var older = SeenNow(Packet(keypair, 1000));
            var newer = SeenNow(Packet(keypair, 1001));
            bool swap = round % 2 == 0;
            var (olderRelay, newerRelay) = swap ? (first, second) : (second, first);

            using var go = new ManualResetEventSlim();
            var writeOlder = Task.Run(async () => { go.Wait(timeout.Token); return await olderRelay.PutIfNewerAsync(older, timeout.Token); });
            var writeNewer = Task.Run(async () => { go.Wait(timeout.Token); return await newerRelay.PutIfNewerAsync(newer, timeout.Token); });
            go.Set();
            bool[] stored = await Task.WhenAll(writeOlder, writeNewer);

            // The newer one is always stored; the older one only if it got there first.
            Assert.True(stored[1]);
            newerFirst += stored[0] ? 0 : 1;
            Assert.Equal(1001UL, (await first.PeekAsync(keypair.PublicKey, timeout.Token))!.Packet.Timestamp.Microseconds);
            Assert.Equal(1001UL, (await second.GetAsync(keypair.PublicKey, timeout.Token))!.Packet.Timestamp.Microseconds);
        }

        Assert.Equal(Rounds, await first.CountAsync());
        Assert.InRange(newerFirst, 0, Rounds);
    }

    [Fact]
    public async Task Concurrent_writers_of_many_timestamps_end_with_the_newest_of_each_key()
    {
        var relays = new[] { await OpenAsync(8), await OpenAsync(8), await OpenAsync(8) };
        Keypair[] keypairs = [NewKeypair(), NewKeypair(), NewKeypair()];
        const int PerKey = 48;
        var writes = keypairs
            .SelectMany((keypair, k) => Enumerable.Range(1, PerKey).Select(t => Packet(keypair, (ulong)t, $"k{k}")))
            .ToArray();
        Random.Shared.Shuffle(writes);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int next = 0;
        await Parallel.ForEachAsync(
            writes,
            new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = timeout.Token },
            async (packet, token) =>
            {
                var relay = relays[Interlocked.Increment(ref next) % relays.Length];
                await relay.PutIfNewerAsync(SeenNow(packet), token);
                var held = await relay.PeekAsync(packet.PublicKey, token);
                Assert.True(held!.Packet.Timestamp >= packet.Timestamp);
            });

        foreach (var keypair in keypairs)
        {
            Assert.Equal((ulong)PerKey, (await relays[0].GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        }
    }

    // The storage form of a packet with its DNS message replaced by bytes that do not parse, same length.
    private static byte[] BreakDns(byte[] stored)
    {
        byte[] broken = (byte[])stored.Clone();
        const int Dns = 8 + 104;

        // A header that claims 0xFFFF answers, which the message does not hold.
        BinaryPrimitives.WriteUInt16BigEndian(broken.AsSpan(Dns + 6), 0xFFFF);
        Assert.False(CachedPacket.TryDeserialize(broken, out _, out _));
        return broken;
    }
}

[Collection(RedisCollection.Name)]
public sealed class RedisConnectionTests(RedisServerFixture redis)
{
    [Fact]
    public void A_redis_url_gives_the_server_database_and_password_and_a_location_without_it()
    {
        var target = RedisTarget.Parse("redis://:s3cret@127.0.0.1:6380/2");
        Assert.Equal("redis://127.0.0.1:6380/2", target.Location);
        Assert.Equal("s3cret", target.Options.Password);
        Assert.Null(target.Options.User);
        Assert.Equal(2, target.Options.DefaultDatabase);
        Assert.DoesNotContain("s3cret", target.Redacted, StringComparison.Ordinal);

        var user = RedisTarget.Parse("redis://relay:p%40ss@cache.internal");
        Assert.Equal("redis://cache.internal:6379/0", user.Location);
        Assert.Equal("relay", user.Options.User);
        Assert.Equal("p@ss", user.Options.Password);
        Assert.False(user.Options.Ssl);

        Assert.True(RedisTarget.Parse("rediss://cache.internal:6380").Options.Ssl);
        Assert.StartsWith("rediss://", RedisTarget.Parse("rediss://cache.internal:6380").Location, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configuration_string_is_read_as_stackexchange_reads_it()
    {
        var target = RedisTarget.Parse("127.0.0.1:6390,password=s3cret,defaultDatabase=3");
        Assert.Equal("redis://127.0.0.1:6390/3", target.Location);
        Assert.Equal("s3cret", target.Options.Password);
        Assert.DoesNotContain("s3cret", target.Redacted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis://:s3cret@127.0.0.1:6379/notanumber", "not a database number")]
    [InlineData("redis://:s3cret@127.0.0.1:6379/0?timeout=1", "query")]
    [InlineData("127.0.0.1:6379,nosuchoption=s3cret", "nosuchoption")]
    public void An_invalid_url_is_an_error_that_says_why_without_the_password(string url, string reason)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RedisTarget.Parse(url));
        Assert.Contains("redis_url", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_an_error_naming_the_url()
    {
        // A port nothing listens on: the fixture's server stopped on another port would do, but this one is closed now.
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        string url = $"redis://:s3cret@127.0.0.1:{port}/0";
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => RedisPkarrCache.OpenAsync(url, "p:", 10, TimeProvider.System, NullLoggerFactory.Instance));
        Assert.Contains($"redis://127.0.0.1:{port}/0", error.Message, StringComparison.Ordinal);
        Assert.Contains("redis_url", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_relay_store_opens_redis_and_names_it_without_credentials()
    {
        var settings = new CacheSettings
        {
            Backend = StoreBackend.Redis,
            RedisUrl = redis.Url,
            RedisPrefix = RedisServerFixture.NewPrefix(),
            Size = 50,
        };
        await using var store = await RelayStore.OpenAsync(settings, null, TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None);
        var cache = Assert.IsType<RedisPkarrCache>(store.Cache);
        Assert.Equal(50, cache.Capacity);
        Assert.Equal($"redis://127.0.0.1:{redis.Port}/0", store.Location);

        settings.RedisUrl = null;
        await Assert.ThrowsAsync<InvalidOperationException>(
            () => RelayStore.OpenAsync(settings, null, TimeProvider.System, NullLoggerFactory.Instance, CancellationToken.None));
    }
}
