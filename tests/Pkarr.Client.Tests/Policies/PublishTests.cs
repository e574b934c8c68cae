using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Client.Tests.Policies.Fixture;

namespace Pkarr.Client.Tests.Policies;

/// <summary>The client's publish of spec §5.6: never older than the cache, identical republish allowed, compare-and-swap
/// refused before any network traffic, the cache updated only on success.</summary>
public sealed class PublishTests
{
    private static async Task<PkarrClient> ClientAsync(FakeBackend backend, TimeProvider clock, CachedPacket? cached = null)
    {
        var cache = new MemoryPkarrCache(16);
        if (cached is not null)
        {
            Assert.True(await cache.PutIfNewerAsync(cached));
        }

        var options = Options(clock);
        options.Cache = cache;
        return new PkarrClient(options, backend);
    }

    [Fact]
    public async Task A_packet_older_than_the_cached_one_is_refused_without_network_traffic()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var cached = Fresh(Packet(keypair, 20), clock);
        var backend = new FakeBackend();
        await using var client = await ClientAsync(backend, clock, cached);

        var refused = await client.PublishAsync(Packet(keypair, 19));

        Assert.Equal(PublishError.NotMostRecent, refused.Error);
        Assert.False(refused.Succeeded);
        Assert.Equal(new Timestamp(19), refused.Packet!.Timestamp);
        Assert.Null(refused.Dht);
        Assert.Empty(refused.Relays);
        Assert.Empty(backend.Publishes);
        Assert.Same(cached, await client.Cache!.PeekAsync(keypair.PublicKey));
        Assert.Throws<PublishException>(() => refused.EnsureSuccess());

        var accepted = await client.PublishAsync(Packet(keypair, 21));
        Assert.True(accepted.Succeeded);
        Assert.Equal(new Timestamp(21), Assert.Single(backend.Publishes).Packet.Timestamp);
        Assert.Equal(new Timestamp(21), (await client.Cache!.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);
    }

    [Fact]
    public async Task On_equal_timestamps_the_dns_byte_tie_break_decides()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var first = Packet(keypair, 10, "first");
        var second = Packet(keypair, 10, "second");

        var backend = new FakeBackend();
        await using (var client = await ClientAsync(backend, clock, Fresh(second, clock)))
        {
            Assert.Equal(PublishError.NotMostRecent, (await client.PublishAsync(first)).Error);
            Assert.Empty(backend.Publishes);
        }

        await using (var client = await ClientAsync(backend, clock, Fresh(first, clock)))
        {
            Assert.True((await client.PublishAsync(second)).Succeeded);
            Assert.Single(backend.Publishes);
            Assert.True((await client.Cache!.PeekAsync(keypair.PublicKey))!.Packet.IsSameAs(second));
        }
    }

    [Fact]
    public async Task Republishing_the_identical_packet_is_allowed_and_refreshes_its_age()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, 20);
        var backend = new FakeBackend();
        await using var client = await ClientAsync(backend, clock, Aged(packet, clock, 1000));

        var result = await client.PublishAsync(packet);

        Assert.True(result.Succeeded);
        Assert.Same(packet, Assert.Single(backend.Publishes).Packet);
        var entry = await client.Cache!.PeekAsync(keypair.PublicKey);
        Assert.True(entry!.Packet.IsSameAs(packet));
        Assert.Equal(Timestamp.WallClock(clock), entry.LastSeen);
    }

    [Fact]
    public async Task Compare_and_swap_fails_fast_when_the_cache_holds_a_packet_newer_than_expected()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var cached = Fresh(Packet(keypair, 20), clock);
        var backend = new FakeBackend();
        await using var client = await ClientAsync(backend, clock, cached);

        var refused = await client.PublishAsync(Packet(keypair, 30), expected: new Timestamp(10));
        Assert.Equal(PublishError.NotMostRecent, refused.Error);
        Assert.Empty(backend.Publishes);
        Assert.Same(cached, await client.Cache!.PeekAsync(keypair.PublicKey));

        // Expecting exactly the cached packet passes, and the expectation goes to the backends as the cas.
        var accepted = await client.PublishAsync(Packet(keypair, 30), expected: new Timestamp(20));
        Assert.True(accepted.Succeeded);
        Assert.Equal(new Timestamp(20), Assert.Single(backend.Publishes).Cas);
    }

    [Fact]
    public async Task Compare_and_swap_is_left_to_the_network_when_the_cache_is_not_newer_than_expected()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = new FakeBackend();
        await using var client = await ClientAsync(backend, clock, Fresh(Packet(keypair, 20), clock));

        // The cache holds an older packet than the caller expects: the caller knows more, the nodes decide.
        Assert.True((await client.PublishAsync(Packet(keypair, 30), expected: new Timestamp(25))).Succeeded);
        Assert.Equal(new Timestamp(25), backend.Publishes[^1].Cas);

        // Nothing cached for another key: the expectation still goes out.
        using var other = Keypair.Random();
        Assert.True((await client.PublishAsync(Packet(other, 30), expected: new Timestamp(5))).Succeeded);
        Assert.Equal(new Timestamp(5), backend.Publishes[^1].Cas);

        // Without an expectation, no cas.
        Assert.True((await client.PublishAsync(Packet(other, 31))).Succeeded);
        Assert.Null(backend.Publishes[^1].Cas);
    }

    [Fact]
    public async Task Compare_and_swap_allows_republishing_the_identical_cached_packet()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, 20);
        var backend = new FakeBackend();
        await using var client = await ClientAsync(backend, clock, Fresh(packet, clock));

        Assert.True((await client.PublishAsync(packet, expected: new Timestamp(10))).Succeeded);
        Assert.Single(backend.Publishes);
    }

    [Theory]
    [InlineData(PublishErrorKind.NotMostRecent)]
    [InlineData(PublishErrorKind.NoResponses)]
    [InlineData(PublishErrorKind.Rejected)]
    [InlineData(PublishErrorKind.UnexpectedResponses)]
    public async Task The_cache_is_updated_only_on_success(PublishErrorKind failure)
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var cached = Fresh(Packet(keypair, 20), clock);
        var error = new PublishError(failure, failure == PublishErrorKind.Rejected ? 302 : 0);
        var backend = new FakeBackend { OnPublish = call => Task.FromResult(Refused(call.Packet, error)) };
        await using var client = await ClientAsync(backend, clock, cached);

        var failed = await client.PublishAsync(Packet(keypair, 21));
        Assert.Equal(error, failed.Error);
        Assert.Single(backend.Publishes);
        Assert.Same(cached, await client.Cache!.PeekAsync(keypair.PublicKey));

        using var fresh = Keypair.Random();
        Assert.False((await client.PublishAsync(Packet(fresh, 1))).Succeeded);
        Assert.Null(await client.Cache!.PeekAsync(fresh.PublicKey));

        backend.OnPublish = call => Task.FromResult(Published(call.Packet, 4));
        var succeeded = await client.PublishAsync(Packet(keypair, 21));
        Assert.True(succeeded.Succeeded);
        Assert.Equal(4, succeeded.StoredOn);
        Assert.Equal(new Timestamp(21), (await client.Cache!.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);
    }

    [Fact]
    public async Task The_result_carries_the_backend_outcomes_and_the_packet()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, 20);
        var relays = new[] { new RelayPublishOutcome(new Uri("http://127.0.0.1:1/"), 204, 6, null) };
        var backend = new FakeBackend
        {
            OnPublish = call => Task.FromResult(new PublishResult
            {
                PublicKey = call.Packet.PublicKey,
                StoredOn = 9,
                Dht = new DhtPublishOutcome(9, null),
                Relays = relays,
            }),
        };
        await using var client = await ClientAsync(backend, clock);

        var result = await client.PublishAsync(packet);

        Assert.Same(packet, result.Packet);
        Assert.Equal(9, result.StoredOn);
        Assert.Equal(new DhtPublishOutcome(9, null), result.Dht);
        Assert.Equal(relays, result.Relays);
        Assert.Same(result, result.EnsureSuccess());
    }
}
