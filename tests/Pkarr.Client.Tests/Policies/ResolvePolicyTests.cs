using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Client.Tests.Policies.Fixture;

namespace Pkarr.Client.Tests.Policies;

/// <summary>The client-level policies of spec §5.3 through <see cref="PkarrClient"/> over a fake backend.</summary>
public sealed class ResolvePolicyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static async Task<PkarrClient> ClientAsync(
        FakeBackend backend, TimeProvider clock, CachedPacket? cached = null, Action<PkarrClientOptions>? configure = null)
    {
        var cache = new MemoryPkarrCache(16);
        if (cached is not null)
        {
            Assert.True(await cache.PutIfNewerAsync(cached));
        }

        var options = Options(clock);
        options.Cache = cache;
        configure?.Invoke(options);
        return new PkarrClient(options, backend);
    }

    [Fact]
    public async Task Cache_only_returns_the_cached_packet_even_expired_without_network()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Found(Fresh(Packet(keypair, 30), clock)));
        await using var client = await ClientAsync(backend, clock, Expired(Packet(keypair, 20), clock));

        var result = await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly);

        Assert.Equal(new Timestamp(20), result.Packet!.Timestamp);
        Assert.Empty(backend.Resolves);
    }

    [Fact]
    public async Task Cache_only_on_a_miss_asks_the_backend_with_cache_only_and_caches_the_answer()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Found(Expired(Packet(keypair, 30), clock)));
        await using var client = await ClientAsync(backend, clock);
        var cache = client.Cache!;

        var result = await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly);

        // CacheOnly is not CacheFirst: an expired relay-cache answer is still an answer.
        Assert.Equal(new Timestamp(30), result.Packet!.Timestamp);
        var call = Assert.Single(backend.Resolves);
        Assert.Equal(ResolvePolicy.CacheOnly, call.Policy);
        Assert.Null(call.Context);
        Assert.Equal(new Timestamp(30), (await cache.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);

        // Not found stays not found, and nothing is cached for that key.
        using var other = Keypair.Random();
        backend.OnResolve = _ => Task.FromResult(ResolveResult.NotFound);
        Assert.Equal(ResolveError.NotFound, (await client.ResolveAsync(other.PublicKey, ResolvePolicy.CacheOnly)).Error);
        Assert.Null(await cache.PeekAsync(other.PublicKey));
    }

    [Fact]
    public async Task Cache_first_answers_a_fresh_cached_packet_without_network_until_it_expires()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var cached = Fresh(Packet(keypair, 20, ttl: 300), clock);
        var newer = Packet(keypair, 21);
        var backend = new FakeBackend { OnResolve = _ => Task.FromResult(Found(Fresh(newer, clock))) };
        await using var client = await ClientAsync(backend, clock, cached);

        clock.Advance(TimeSpan.FromSeconds(299));
        Assert.Equal(new Timestamp(20), (await client.ResolveAsync(keypair.PublicKey)).Packet!.Timestamp);
        Assert.Empty(backend.Resolves);

        clock.Advance(TimeSpan.FromSeconds(1));
        var result = await client.ResolveAsync(keypair.PublicKey);
        Assert.Equal(new Timestamp(21), result.Packet!.Timestamp);
        var call = Assert.Single(backend.Resolves);
        Assert.Equal(ResolvePolicy.CacheFirst, call.Policy);
        Assert.NotNull(call.Context);
        Assert.Same(cached, call.Context.Cached);
    }

    [Fact]
    public async Task Cache_first_passes_the_client_ttls_in_the_context()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = new FakeBackend();
        await using var client = await ClientAsync(backend, clock, configure: o =>
        {
            o.MinimumTtl = 60;
            o.MaximumTtl = 3600;
        });

        Assert.Equal(ResolveError.NotFound, (await client.ResolveAsync(keypair.PublicKey)).Error);
        var context = Assert.Single(backend.Resolves).Context;
        Assert.NotNull(context);
        Assert.Null(context.Cached);
        Assert.Equal(60u, context.MinimumTtl);
        Assert.Equal(3600u, context.MaximumTtl);
    }

    [Fact]
    public async Task Cache_first_returns_an_acceptable_network_answer_and_caches_it()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Found(Fresh(Packet(keypair, 25), clock)));
        await using var client = await ClientAsync(backend, clock, Expired(Packet(keypair, 20), clock));
        var cache = client.Cache!;

        Assert.Equal(new Timestamp(25), (await client.ResolveAsync(keypair.PublicKey)).Packet!.Timestamp);
        Assert.Equal(new Timestamp(25), (await cache.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);

        // Now fresh in the cache: the next CacheFirst resolve stays off the network.
        Assert.Equal(new Timestamp(25), (await client.ResolveAsync(keypair.PublicKey)).Packet!.Timestamp);
        Assert.Single(backend.Resolves);
    }

    [Fact]
    public async Task Cache_first_never_returns_an_expired_packet_but_stores_a_newer_expired_one()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Found(Expired(Packet(keypair, 25), clock)));
        await using var client = await ClientAsync(backend, clock, Expired(Packet(keypair, 20), clock));
        var cache = client.Cache!;

        var result = await client.ResolveAsync(keypair.PublicKey);

        Assert.Equal(ResolveError.NotFound, result.Error);
        Assert.Null(result.Packet);
        Assert.Equal(new Timestamp(25), (await cache.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);
        // CacheOnly then sees the stored packet, expired as it is.
        Assert.Equal(new Timestamp(25), (await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly)).Packet!.Timestamp);
    }

    [Fact]
    public async Task Cache_first_neither_returns_nor_stores_an_older_expired_packet()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Found(Expired(Packet(keypair, 15), clock)));
        var cached = Expired(Packet(keypair, 20), clock);
        await using var client = await ClientAsync(backend, clock, cached);
        var cache = client.Cache!;

        Assert.Equal(ResolveError.NotFound, (await client.ResolveAsync(keypair.PublicKey)).Error);
        Assert.Same(cached, await cache.PeekAsync(keypair.PublicKey));
    }

    [Fact]
    public async Task Cache_first_refreshes_the_age_of_the_cached_packet_seen_again()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, 20);
        var backend = FakeBackend.Answering(Found(Fresh(packet, clock)));
        await using var client = await ClientAsync(backend, clock, Expired(packet, clock));
        var cache = client.Cache!;

        var result = await client.ResolveAsync(keypair.PublicKey);
        Assert.True(result.Packet!.IsSameAs(packet));
        Assert.Equal(Timestamp.WallClock(clock), (await cache.PeekAsync(keypair.PublicKey))!.LastSeen);

        await client.ResolveAsync(keypair.PublicKey);
        Assert.Single(backend.Resolves);
    }

    [Fact]
    public async Task Cache_first_with_maximum_ttl_zero_always_asks_the_network_and_returns_any_answer()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Found(Aged(Packet(keypair, 25), clock, 100_000)));
        await using var client = await ClientAsync(backend, clock, Fresh(Packet(keypair, 20), clock), o => o.MaximumTtl = 0);

        var result = await client.ResolveAsync(keypair.PublicKey);

        Assert.Equal(new Timestamp(25), result.Packet!.Timestamp);
        var context = Assert.Single(backend.Resolves).Context;
        Assert.Equal(0u, context!.MaximumTtl);
        Assert.Equal(0u, context.MinimumTtl);

        // Even the packet just cached is never a cache hit.
        await client.ResolveAsync(keypair.PublicKey);
        Assert.Equal(2, backend.Resolves.Count);
    }

    [Fact]
    public async Task Network_only_ignores_a_fresh_cache_and_may_return_an_older_packet_without_downgrading_the_cache()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var cached = Fresh(Packet(keypair, 20), clock);
        var backend = FakeBackend.Answering(Found(Fresh(Packet(keypair, 15), clock)));
        await using var client = await ClientAsync(backend, clock, cached);
        var cache = client.Cache!;

        var result = await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly);

        Assert.Equal(new Timestamp(15), result.Packet!.Timestamp);
        var call = Assert.Single(backend.Resolves);
        Assert.Equal(ResolvePolicy.NetworkOnly, call.Policy);
        Assert.Null(call.Context);
        Assert.Same(cached, await cache.PeekAsync(keypair.PublicKey));
        Assert.Equal(new Timestamp(20), (await client.ResolveAsync(keypair.PublicKey)).Packet!.Timestamp);
    }

    [Fact]
    public async Task Network_only_upgrades_the_cache_with_a_newer_packet_even_expired()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Found(Expired(Packet(keypair, 30), clock)));
        await using var client = await ClientAsync(backend, clock, Fresh(Packet(keypair, 20), clock));
        var cache = client.Cache!;

        // NetworkOnly returns what the network has, expired or not.
        Assert.Equal(new Timestamp(30), (await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly)).Packet!.Timestamp);
        Assert.Equal(new Timestamp(30), (await cache.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);
    }

    [Fact]
    public async Task Network_only_reports_a_newer_invalid_value_and_keeps_the_cache()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var cached = Fresh(Packet(keypair, 20), clock);
        var backend = FakeBackend.Answering(Failed(ResolveErrorKind.InvalidSignedPacket, 25));
        await using var client = await ClientAsync(backend, clock, cached);
        var cache = client.Cache!;

        Assert.Equal(ResolveError.InvalidSignedPacket(25), (await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly)).Error);
        var thrown = await Assert.ThrowsAsync<ResolveException>(() => client.ResolvePacketAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly));
        Assert.Equal(ResolveError.InvalidSignedPacket(25), thrown.ResolveError);
        Assert.Same(cached, await cache.PeekAsync(keypair.PublicKey));

        // Not found is null, not an exception.
        backend.OnResolve = _ => Task.FromResult(ResolveResult.NotFound);
        Assert.Null(await client.ResolvePacketAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly));
    }

    [Fact]
    public async Task Without_a_cache_every_cache_first_resolve_asks_the_network_with_no_floor()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Found(Fresh(Packet(keypair, 20), clock)));
        var options = Options(clock);
        options.CacheSize = 0;
        await using var client = new PkarrClient(options, backend);

        Assert.Null(client.Cache);
        Assert.True((await client.ResolveAsync(keypair.PublicKey)).Found);
        Assert.True((await client.ResolveAsync(keypair.PublicKey)).Found);
        Assert.Equal(2, backend.Resolves.Count);
        Assert.All(backend.Resolves, call => Assert.Null(call.Context!.Cached));

        // CacheOnly has no local cache to read, so it asks the relays' caches through the backend.
        Assert.True((await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly)).Found);
        Assert.Equal(ResolvePolicy.CacheOnly, backend.Resolves[2].Policy);
    }

    [Fact]
    public async Task Concurrent_resolves_of_one_key_and_policy_share_one_backend_query()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var answer = new TaskCompletionSource<ResolveResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var backend = new FakeBackend { OnResolve = _ => answer.Task };
        await using var client = await ClientAsync(backend, clock);

        var first = client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly);
        var second = client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly);
        var otherPolicy = client.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst);
        answer.SetResult(Found(Fresh(Packet(keypair, 20), clock)));
        await Task.WhenAll(first, second, otherPolicy).WaitAsync(Bound);

        Assert.Same(await first, await second);
        Assert.Equal(2, backend.Resolves.Count);
        Assert.Single(backend.Resolves, call => call.Policy == ResolvePolicy.NetworkOnly);
    }
}
