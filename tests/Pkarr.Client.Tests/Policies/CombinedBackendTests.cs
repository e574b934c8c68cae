using Pkarr.Client.Backends;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Client.Tests.Policies.Fixture;

namespace Pkarr.Client.Tests.Policies;

/// <summary>The combined backend of spec §5.4 over two fake backends, and its publish merge (§5.6, two levels).</summary>
public sealed class CombinedBackendTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static CacheContext Context(CachedPacket? cached, TimeProvider clock) => new(cached, 300, 86400, clock);

    [Fact]
    public async Task Cache_only_asks_the_relays_and_never_the_dht()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var dht = FakeBackend.Answering(Found(Fresh(Packet(keypair, 20), clock)));
        var relays = FakeBackend.Answering(Found(Fresh(Packet(keypair, 10), clock)));

        var result = await new CombinedBackend(dht, relays).ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly, null, CancellationToken.None);

        Assert.Equal(new Timestamp(10), result.Packet!.Timestamp);
        Assert.Empty(dht.Resolves);
        var call = Assert.Single(relays.Resolves);
        Assert.Equal(ResolvePolicy.CacheOnly, call.Policy);
    }

    [Fact]
    public async Task Cache_first_returns_the_first_acceptable_dht_answer_and_cancels_the_relays()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var relaysCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dht = FakeBackend.Answering(Found(Fresh(Packet(keypair, 20), clock)));
        var relays = FakeBackend.Hanging(relaysCancelled);
        var context = Context(null, clock);

        var result = await new CombinedBackend(dht, relays).ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst, context, CancellationToken.None)
            .WaitAsync(Bound);

        Assert.Equal(new Timestamp(20), result.Packet!.Timestamp);
        Assert.True(relaysCancelled.Task.IsCompleted, "the losing relays are cancelled");
        Assert.Same(context, Assert.Single(relays.Resolves).Context);
        Assert.Same(context, Assert.Single(dht.Resolves).Context);
    }

    [Fact]
    public async Task Cache_first_returns_the_first_acceptable_relay_answer_and_cancels_the_dht()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var dhtCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dht = FakeBackend.Hanging(dhtCancelled);
        var relays = FakeBackend.Answering(Found(Fresh(Packet(keypair, 10), clock)));

        var result = await new CombinedBackend(dht, relays).ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst, Context(null, clock), CancellationToken.None)
            .WaitAsync(Bound);

        Assert.Equal(new Timestamp(10), result.Packet!.Timestamp);
        Assert.True(dhtCancelled.Task.IsCompleted, "the losing DHT query is cancelled");
    }

    [Fact]
    public async Task Cache_first_with_an_expired_first_answer_waits_for_the_other_and_prefers_its_fresh_packet()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var late = new TaskCompletionSource<ResolveResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var dht = FakeBackend.Answering(Found(Expired(Packet(keypair, 20), clock)));
        var relays = new FakeBackend { OnResolve = _ => late.Task };

        var resolve = new CombinedBackend(dht, relays).ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst, Context(null, clock), CancellationToken.None);
        Assert.False(resolve.IsCompleted, "an expired first answer does not end the race");
        Assert.False(Assert.Single(relays.Resolves).Token.IsCancellationRequested);

        late.SetResult(Found(Fresh(Packet(keypair, 15), clock)));
        var result = await resolve.WaitAsync(Bound);
        Assert.Equal(new Timestamp(15), result.Packet!.Timestamp);
    }

    [Fact]
    public async Task Cache_first_with_nothing_fresh_merges_to_the_most_recent_expired_packet()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var dht = FakeBackend.Answering(Found(Expired(Packet(keypair, 20), clock)));
        var relays = FakeBackend.Answering(Found(Expired(Packet(keypair, 25), clock)));

        var result = await new CombinedBackend(dht, relays).ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst, Context(null, clock), CancellationToken.None);
        Assert.Equal(new Timestamp(25), result.Packet!.Timestamp);
    }

    [Fact]
    public async Task Cache_first_does_not_end_on_a_fresh_answer_below_the_floor()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var late = new TaskCompletionSource<ResolveResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = Context(Expired(Packet(keypair, 10), clock), clock);
        var dht = FakeBackend.Answering(Found(Fresh(Packet(keypair, 9), clock)));
        var relays = new FakeBackend { OnResolve = _ => late.Task };

        var resolve = new CombinedBackend(dht, relays).ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst, context, CancellationToken.None);
        Assert.False(resolve.IsCompleted, "a packet older than the cached one does not end the race");

        late.SetResult(ResolveResult.Of(new ResolveError(ResolveErrorKind.NoResponses)));
        var result = await resolve.WaitAsync(Bound);
        // The below-floor packet counts as an empty answer, which outweighs the relays' error.
        Assert.Equal(ResolveError.NotFound, result.Error);
    }

    [Fact]
    public async Task Cache_first_with_an_error_first_waits_for_the_other_answer()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var late = new TaskCompletionSource<ResolveResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var dht = new FakeBackend { OnResolve = _ => late.Task };
        var relays = FakeBackend.Answering(ResolveResult.NotFound);

        var resolve = new CombinedBackend(dht, relays).ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst, Context(null, clock), CancellationToken.None);
        Assert.False(resolve.IsCompleted, "not found from one side does not end the race");

        late.SetResult(Found(Fresh(Packet(keypair, 30), clock)));
        Assert.Equal(new Timestamp(30), (await resolve.WaitAsync(Bound)).Packet!.Timestamp);
    }

    [Fact]
    public async Task Cache_first_merges_a_newer_invalid_value_from_one_side_with_a_packet_from_the_other()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var dht = FakeBackend.Answering(Failed(ResolveErrorKind.InvalidSignedPacket, 40));
        var relays = FakeBackend.Answering(Found(Expired(Packet(keypair, 30), clock)));

        var result = await new CombinedBackend(dht, relays).ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst, Context(null, clock), CancellationToken.None);
        Assert.Equal(ResolveError.InvalidSignedPacket(40), result.Error);
    }

    [Fact]
    public async Task Network_only_waits_for_both_even_when_the_first_answer_is_fresh()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var late = new TaskCompletionSource<ResolveResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var dht = FakeBackend.Answering(Found(Fresh(Packet(keypair, 20), clock)));
        var relays = new FakeBackend { OnResolve = _ => late.Task };

        var resolve = new CombinedBackend(dht, relays).ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, null, CancellationToken.None);
        Assert.False(resolve.IsCompleted, "NetworkOnly does not race");
        var relayCall = Assert.Single(relays.Resolves);
        Assert.Equal(ResolvePolicy.NetworkOnly, relayCall.Policy);
        Assert.Null(relayCall.Context);
        Assert.False(relayCall.Token.IsCancellationRequested);

        late.SetResult(Found(Expired(Packet(keypair, 21), clock)));
        // No context: recency alone decides, expired or not.
        Assert.Equal(new Timestamp(21), (await resolve.WaitAsync(Bound)).Packet!.Timestamp);
    }

    [Fact]
    public async Task Network_only_merges_both_sides_by_the_resolve_rules()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        async Task<ResolveResult> Both(ResolveResult dht, ResolveResult relays) =>
            await new CombinedBackend(FakeBackend.Answering(dht), FakeBackend.Answering(relays))
                .ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, null, CancellationToken.None);

        Assert.Equal(new Timestamp(12), (await Both(Found(Fresh(Packet(keypair, 12), clock)), Found(Fresh(Packet(keypair, 11), clock)))).Packet!.Timestamp);
        Assert.Equal(new Timestamp(12), (await Both(Found(Fresh(Packet(keypair, 11), clock)), Found(Fresh(Packet(keypair, 12), clock)))).Packet!.Timestamp);
        Assert.Equal(ResolveError.InvalidSignedPacket(13), (await Both(Failed(ResolveErrorKind.InvalidSignedPacket, 13), Found(Fresh(Packet(keypair, 12), clock)))).Error);
        Assert.Equal(new Timestamp(13), (await Both(Failed(ResolveErrorKind.InvalidSignedPacket, 13), Found(Fresh(Packet(keypair, 13), clock)))).Packet!.Timestamp);
        Assert.Equal(ResolveError.NotFound, (await Both(ResolveResult.NotFound, Failed(ResolveErrorKind.NoResponses))).Error);
        Assert.Equal(ResolveErrorKind.NoDhtNodesQueried, (await Both(Failed(ResolveErrorKind.NoDhtNodesQueried), Failed(ResolveErrorKind.NoResponses))).Error!.Kind);
        Assert.Equal(ResolveErrorKind.NoDhtNodesQueried, (await Both(Failed(ResolveErrorKind.NoResponses), Failed(ResolveErrorKind.NoDhtNodesQueried))).Error!.Kind);
    }

    [Fact]
    public async Task Publish_is_a_two_level_merge_relays_not_most_recent_outweighs_a_dht_success()
    {
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, 50);
        var relayOutcomes = new[]
        {
            new RelayPublishOutcome(new Uri("http://127.0.0.1:1/"), 204, 3, null),
            new RelayPublishOutcome(new Uri("http://127.0.0.1:2/"), 409, 0, PublishError.NotMostRecent),
        };
        var dht = new FakeBackend { OnPublish = call => Task.FromResult(Published(call.Packet, 20)) };
        var relays = new FakeBackend
        {
            // The relay backend has already folded [Ok(3), NotMostRecent] into NotMostRecent.
            OnPublish = call => Task.FromResult(new PublishResult { PublicKey = call.Packet.PublicKey, Error = PublishError.NotMostRecent, Relays = relayOutcomes }),
        };

        var result = await new CombinedBackend(dht, relays).PublishAsync(packet, null, CancellationToken.None);

        Assert.Equal(PublishError.NotMostRecent, result.Error);
        Assert.Equal(0, result.StoredOn);
        Assert.Equal(20, result.Dht!.StoredOn);
        Assert.Equal(relayOutcomes, result.Relays);
        Assert.Same(packet, Assert.Single(dht.Publishes).Packet);
        Assert.Same(packet, Assert.Single(relays.Publishes).Packet);
    }

    [Fact]
    public async Task Publish_two_level_merge_relays_no_responses_against_dht_rejected_is_rejected()
    {
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, 50);
        var rejected = new PublishError(PublishErrorKind.Rejected, 203, "error response from DHT nodes");
        var dht = new FakeBackend { OnPublish = call => Task.FromResult(Refused(call.Packet, rejected)) };
        var relays = new FakeBackend
        {
            OnPublish = call => Task.FromResult(new PublishResult { PublicKey = call.Packet.PublicKey, Error = new PublishError(PublishErrorKind.NoResponses) }),
        };

        var result = await new CombinedBackend(dht, relays).PublishAsync(packet, null, CancellationToken.None);
        Assert.Equal(rejected, result.Error);
    }

    [Fact]
    public async Task Publish_success_on_both_is_the_larger_count_and_the_cas_reaches_both()
    {
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, 50);
        var dht = new FakeBackend { OnPublish = call => Task.FromResult(Published(call.Packet, 8)) };
        var relays = new FakeBackend
        {
            OnPublish = call => Task.FromResult(new PublishResult { PublicKey = call.Packet.PublicKey, StoredOn = 12 }),
        };

        var result = await new CombinedBackend(dht, relays).PublishAsync(packet, new Timestamp(40), CancellationToken.None);
        Assert.True(result.Succeeded);
        Assert.Equal(12, result.StoredOn);
        Assert.Equal(new Timestamp(40), Assert.Single(dht.Publishes).Cas);
        Assert.Equal(new Timestamp(40), Assert.Single(relays.Publishes).Cas);

        // One side failing alone does not fail the publish.
        dht.OnPublish = call => Task.FromResult(Refused(call.Packet, new PublishError(PublishErrorKind.NoResponses)));
        var half = await new CombinedBackend(dht, relays).PublishAsync(packet, null, CancellationToken.None);
        Assert.True(half.Succeeded);
        Assert.Equal(12, half.StoredOn);
    }
}
