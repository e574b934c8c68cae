using Microsoft.Extensions.Time.Testing;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Caching;

/// <summary>The contract of <see cref="IPkarrCache"/> (spec §5.2), run against every store.</summary>
public abstract class PkarrCacheTests : IDisposable
{
    // Far enough from the epoch that last_seen values in the tests are ordinary times.
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private readonly List<IDisposable> _owned = [];

    /// <summary>A new, empty store of <paramref name="capacity"/> packets whose clock is <see cref="Time"/>.</summary>
    protected abstract IPkarrCache Create(int capacity);

    /// <summary>A time step after which a read counts as a new use in every store.</summary>
    protected static TimeSpan UseStep => TimeSpan.FromMicroseconds(SqlitePkarrCache.TouchIntervalMicroseconds) + TimeSpan.FromSeconds(1);

    protected Keypair NewKeypair()
    {
        var keypair = Keypair.Random();
        _owned.Add(keypair);
        return keypair;
    }

    protected static SignedPacket Packet(Keypair keypair, ulong timestamp, string text = "x") =>
        SignedPacket.Builder().Txt("_t", text).Timestamp(new Timestamp(timestamp)).Sign(keypair);

    protected CachedPacket SeenNow(SignedPacket packet) => CachedPacket.Seen(packet, Time);

    public virtual void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task An_empty_cache_has_nothing_for_a_key()
    {
        var cache = Create(4);
        var key = NewKeypair().PublicKey;
        Assert.Null(await cache.GetAsync(key));
        Assert.Null(await cache.PeekAsync(key));
        Assert.Equal(0, await cache.CountAsync());
        Assert.Equal(4, cache.Capacity);
    }

    [Fact]
    public async Task A_newer_packet_replaces_an_older_one_and_an_older_one_is_refused()
    {
        var cache = Create(4);
        var keypair = NewKeypair();

        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 10))));
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 5))));
        Assert.Equal(10UL, (await cache.PeekAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);

        // An older packet seen later is still older.
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 9))));
        Assert.Equal(10UL, (await cache.PeekAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);

        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 20))));
        var held = await cache.GetAsync(keypair.PublicKey);
        Assert.Equal(20UL, held!.Packet.Timestamp.Microseconds);
        Assert.Equal(1, await cache.CountAsync());
    }

    [Fact]
    public async Task The_same_packet_seen_later_moves_only_last_seen_and_seen_earlier_is_refused()
    {
        var cache = Create(4);
        var packet = Packet(NewKeypair(), 42);
        var first = new Timestamp(Timestamp.WallClock(Time).Microseconds - 10_000_000);

        Assert.True(await cache.PutIfNewerAsync(new CachedPacket(packet, first)));
        Assert.False(await cache.PutIfNewerAsync(new CachedPacket(packet, first)));
        Assert.False(await cache.PutIfNewerAsync(new CachedPacket(packet, first.SubtractMicroseconds(1))));
        Assert.Equal(first, (await cache.PeekAsync(packet.PublicKey))!.LastSeen);

        var later = first.AddMicroseconds(5_000_000);
        Assert.True(await cache.PutIfNewerAsync(new CachedPacket(packet, later)));
        var held = await cache.PeekAsync(packet.PublicKey);
        Assert.Equal(later, held!.LastSeen);
        Assert.True(held.Packet.IsSameAs(packet));
        Assert.Equal(packet.Bytes.ToArray(), held.Packet.Bytes.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Equal_timestamps_are_decided_by_the_larger_dns_bytes(bool lowerFirst)
    {
        var cache = Create(4);
        var keypair = NewKeypair();
        var a = Packet(keypair, 7, "a");
        var b = Packet(keypair, 7, "b");
        var (higher, lower) = b.EncodedPacket.Span.SequenceCompareTo(a.EncodedPacket.Span) > 0 ? (b, a) : (a, b);
        Assert.True(higher.MoreRecentThan(lower));

        if (lowerFirst)
        {
            Assert.True(await cache.PutIfNewerAsync(SeenNow(lower)));
            Assert.True(await cache.PutIfNewerAsync(SeenNow(higher)));
        }
        else
        {
            Assert.True(await cache.PutIfNewerAsync(SeenNow(higher)));
        }

        // The lower bytes lose even when seen later.
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await cache.PutIfNewerAsync(SeenNow(lower)));
        Assert.True((await cache.PeekAsync(keypair.PublicKey))!.Packet.IsSameAs(higher));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_least_recently_used_key_is_evicted_and_a_get_counts_as_use_but_a_peek_does_not(bool get)
    {
        var cache = Create(2);
        var (a, b, c) = (NewKeypair(), NewKeypair(), NewKeypair());

        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(a, 1))));
        Time.Advance(UseStep);
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(b, 1))));
        Time.Advance(UseStep);
        Assert.NotNull(get ? await cache.GetAsync(a.PublicKey) : await cache.PeekAsync(a.PublicKey));
        Time.Advance(UseStep);
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(c, 1))));

        // A got: b is the least recently used. A peeked: a still is.
        Assert.Equal(2, await cache.CountAsync());
        Assert.Equal(get, await cache.PeekAsync(a.PublicKey) is not null);
        Assert.Equal(!get, await cache.PeekAsync(b.PublicKey) is not null);
        Assert.NotNull(await cache.PeekAsync(c.PublicKey));
    }

    [Fact]
    public async Task A_stored_update_counts_as_use_and_a_refused_one_does_not()
    {
        var cache = Create(2);
        var (a, b, c) = (NewKeypair(), NewKeypair(), NewKeypair());

        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(a, 5))));
        Time.Advance(UseStep);
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(b, 5))));
        Time.Advance(UseStep);
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(b, 1))));
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(a, 6))));
        Time.Advance(UseStep);
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(c, 1))));

        Assert.NotNull(await cache.PeekAsync(a.PublicKey));
        Assert.Null(await cache.PeekAsync(b.PublicKey));
        Assert.NotNull(await cache.PeekAsync(c.PublicKey));
    }

    [Fact]
    public async Task A_cache_of_capacity_zero_holds_nothing()
    {
        var cache = Create(0);
        var keypair = NewKeypair();

        Assert.Equal(0, cache.Capacity);
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 1))));
        Assert.Null(await cache.GetAsync(keypair.PublicKey));
        Assert.Null(await cache.PeekAsync(keypair.PublicKey));
        Assert.Equal(0, await cache.CountAsync());
    }

    [Fact]
    public void A_negative_capacity_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(-1));

    [Fact]
    public async Task Concurrent_writers_end_with_the_newest_packet_of_each_key()
    {
        var cache = Create(8);
        Keypair[] keypairs = [NewKeypair(), NewKeypair(), NewKeypair()];
        const int PerKey = 64;

        // Every key's packets, signed up front and written in a shuffled order by parallel writers.
        var writes = keypairs
            .SelectMany((keypair, k) => Enumerable.Range(1, PerKey).Select(t => Packet(keypair, (ulong)t, $"k{k}")))
            .ToArray();
        Random.Shared.Shuffle(writes);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int stored = 0;
        await Parallel.ForEachAsync(
            writes,
            new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = timeout.Token },
            async (packet, token) =>
            {
                if (await cache.PutIfNewerAsync(SeenNow(packet), token))
                {
                    Interlocked.Increment(ref stored);
                }

                // A reader among the writers never sees a key go back.
                var held = await cache.PeekAsync(packet.PublicKey, token);
                Assert.NotNull(held);
                Assert.True(held.Packet.Timestamp >= packet.Timestamp);
            });

        Assert.InRange(stored, keypairs.Length, writes.Length);
        Assert.Equal(keypairs.Length, await cache.CountAsync());
        foreach (var keypair in keypairs)
        {
            Assert.Equal((ulong)PerKey, (await cache.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        }
    }
}
