using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Client.Tests.Policies.Fixture;

namespace Pkarr.Client.Tests.Policies;

/// <summary>
/// <see cref="PkarrClient.UpdateAsync"/>, the update procedure of spec §5.6: a timestamp above everything seen, retries
/// on NotMostRecent up to <see cref="PkarrClientOptions.UpdateRetries"/>, resolve failures thrown, and updates of one
/// key serialised so that no concurrent edit is lost.
/// </summary>
public sealed class UpdateTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static PkarrClient Client(FakeBackend backend, TimeProvider clock, int? retries = null)
    {
        var options = Options(clock);
        if (retries is { } r)
        {
            options.UpdateRetries = r;
        }

        return new PkarrClient(options, backend);
    }

    /// <summary>Keeps the current records and adds a TXT record at <paramref name="name"/>.</summary>
    private static Action<SignedPacket?, SignedPacketBuilder> Add(string name) => (current, builder) =>
    {
        foreach (var record in current?.AllResourceRecords ?? [])
        {
            builder.Record(record);
        }

        builder.Txt(name, "edited");
    };

    private static ulong Micros(TimeProvider clock, TimeSpan offset) => Timestamp.WallClock(clock).Microseconds + (ulong)(offset.Ticks / 10);

    [Fact]
    public async Task The_new_timestamp_is_above_an_invalid_value_seq_from_the_future()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        long seq = (long)Micros(clock, TimeSpan.FromHours(1));
        var backend = FakeBackend.Answering(Failed(ResolveErrorKind.InvalidSignedPacket, seq));
        await using var client = Client(backend, clock);
        SignedPacket? basis = Packet(keypair, 1);

        var result = await client.UpdateAsync(keypair, (current, builder) =>
        {
            basis = current;
            builder.Txt("_a", "edited");
        });

        Assert.True(result.Succeeded);
        Assert.Null(basis);
        var publish = Assert.Single(backend.Publishes);
        Assert.Equal((ulong)seq + 1, publish.Packet.Timestamp.Microseconds);
        Assert.Equal(new Timestamp((ulong)seq), publish.Cas);
        Assert.Equal(ResolvePolicy.NetworkOnly, Assert.Single(backend.Resolves).Policy);
    }

    [Fact]
    public async Task An_update_fails_without_publishing_when_no_timestamp_above_the_seen_one_fits_a_seq()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Failed(ResolveErrorKind.InvalidSignedPacket, long.MaxValue));
        await using var client = Client(backend, clock);

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.UpdateAsync(keypair, Add("_a")));
        Assert.Empty(backend.Publishes);

        // One below the largest seq still leaves room for exactly one more packet.
        backend.OnResolve = _ => Task.FromResult(Failed(ResolveErrorKind.InvalidSignedPacket, long.MaxValue - 1));
        Assert.True((await client.UpdateAsync(keypair, Add("_a"))).Succeeded);
        Assert.Equal(Timestamp.MaxSeq, Assert.Single(backend.Publishes).Packet.Timestamp);
    }

    [Fact]
    public async Task The_new_timestamp_is_the_clock_when_everything_seen_is_older()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Failed(ResolveErrorKind.InvalidSignedPacket, 20));
        await using var client = Client(backend, clock);

        await client.UpdateAsync(keypair, Add("_a"));

        var published = Assert.Single(backend.Publishes).Packet.Timestamp;
        Assert.True(published > new Timestamp(20));
        // The clock's value: the fake wall clock, give or take the random low byte.
        Assert.InRange(published.Microseconds, Micros(clock, TimeSpan.Zero) & ~0xFFUL, Micros(clock, TimeSpan.Zero) | 0xFF);
    }

    [Fact]
    public async Task The_new_timestamp_is_above_a_network_packet_from_the_future_and_builds_on_it()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var future = SignedPacket.Builder().Txt("_old", "kept").Timestamp(new Timestamp(Micros(clock, TimeSpan.FromDays(1)))).Sign(keypair);
        var backend = FakeBackend.Answering(Found(Fresh(future, clock)));
        await using var client = Client(backend, clock);

        await client.UpdateAsync(keypair, Add("_a"));

        var publish = Assert.Single(backend.Publishes);
        Assert.Equal(future.Timestamp.AddMicroseconds(1), publish.Packet.Timestamp);
        Assert.Equal(future.Timestamp, publish.Cas);
        Assert.Single(publish.Packet.ResourceRecords("_old"));
        Assert.Single(publish.Packet.ResourceRecords("_a"));
    }

    [Fact]
    public async Task A_cached_packet_newer_than_the_network_one_is_the_basis_and_no_cas_is_sent()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var networkPacket = Packet(keypair, 100, "network");
        var cachedPacket = SignedPacket.Builder().Txt("_cached", "x").Timestamp(new Timestamp(Micros(clock, TimeSpan.FromHours(2)))).Sign(keypair);
        var backend = FakeBackend.Answering(Found(Fresh(networkPacket, clock)));
        await using var client = Client(backend, clock);
        Assert.True(await client.Cache!.PutIfNewerAsync(Fresh(cachedPacket, clock)));

        await client.UpdateAsync(keypair, Add("_a"));

        var publish = Assert.Single(backend.Publishes);
        Assert.Null(publish.Cas);
        Assert.Equal(cachedPacket.Timestamp.AddMicroseconds(1), publish.Packet.Timestamp);
        Assert.Single(publish.Packet.ResourceRecords("_cached"));
        Assert.Empty(publish.Packet.ResourceRecords("_t"));
    }

    [Fact]
    public async Task Not_found_gives_an_empty_basis_and_no_cas()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = new FakeBackend();
        await using var client = Client(backend, clock);
        int edits = 0;

        var result = await client.UpdateAsync(keypair, (current, builder) =>
        {
            edits++;
            Assert.Null(current);
            builder.Txt("_a", "first");
        });

        Assert.True(result.Succeeded);
        Assert.Equal(1, edits);
        Assert.Null(Assert.Single(backend.Publishes).Cas);
        Assert.Same(result.Packet, backend.Publishes[0].Packet);
    }

    [Fact]
    public async Task Not_most_recent_is_retried_from_a_fresh_resolve_until_it_succeeds()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        int publishes = 0;
        var backend = new FakeBackend
        {
            OnPublish = call => Task.FromResult(Interlocked.Increment(ref publishes) <= 2
                ? Refused(call.Packet, PublishError.NotMostRecent)
                : Published(call.Packet, 5)),
        };
        await using var client = Client(backend, clock, retries: 2);
        int edits = 0;

        var result = await client.UpdateAsync(keypair, (current, builder) =>
        {
            edits++;
            builder.Txt("_a", "x");
        });

        Assert.True(result.Succeeded);
        Assert.Equal(5, result.StoredOn);
        Assert.Equal(3, edits);
        Assert.Equal(3, backend.Resolves.Count);
        Assert.All(backend.Resolves, call => Assert.Equal(ResolvePolicy.NetworkOnly, call.Policy));
        var stamps = backend.Publishes.Select(p => p.Packet.Timestamp).ToList();
        Assert.Equal(3, stamps.Count);
        Assert.True(stamps[0] < stamps[1] && stamps[1] < stamps[2], "each attempt signs a newer packet");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task After_update_retries_conflicts_it_gives_up_with_the_documented_exception(int retries)
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = new FakeBackend { OnPublish = call => Task.FromResult(Refused(call.Packet, PublishError.NotMostRecent)) };
        await using var client = Client(backend, clock, retries);

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => client.UpdateAsync(keypair, Add("_a")));

        Assert.Contains($"{retries + 1} attempts", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(retries + 1, backend.Publishes.Count);
        Assert.Equal(retries + 1, backend.Resolves.Count);
    }

    [Fact]
    public async Task A_failure_other_than_not_most_recent_is_returned_without_retry()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var error = new PublishError(PublishErrorKind.NoResponses);
        var backend = new FakeBackend { OnPublish = call => Task.FromResult(Refused(call.Packet, error)) };
        await using var client = Client(backend, clock, retries: 5);

        var result = await client.UpdateAsync(keypair, Add("_a"));

        Assert.Equal(error, result.Error);
        Assert.Single(backend.Publishes);
    }

    [Theory]
    [InlineData(ResolveErrorKind.NoResponses)]
    [InlineData(ResolveErrorKind.NoDhtNodesQueried)]
    [InlineData(ResolveErrorKind.NoUsableResponses)]
    [InlineData(ResolveErrorKind.UnexpectedResponses)]
    public async Task A_resolve_error_other_than_not_found_or_invalid_throws_and_publishes_nothing(ResolveErrorKind kind)
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var backend = FakeBackend.Answering(Failed(kind));
        await using var client = Client(backend, clock);
        bool edited = false;

        var thrown = await Assert.ThrowsAsync<ResolveException>(() => client.UpdateAsync(keypair, (_, builder) =>
        {
            edited = true;
            builder.Txt("_a", "x");
        }));

        Assert.Equal(kind, thrown.ResolveError.Kind);
        Assert.Equal(keypair.PublicKey, thrown.PublicKey);
        Assert.False(edited);
        Assert.Empty(backend.Publishes);
    }

    [Fact]
    public async Task Two_concurrent_updates_of_one_key_are_serialised_and_neither_edit_is_lost()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var network = new LastWriterWins(clock);
        await using var client = Client(network.Backend, clock);

        // The first update's publish waits until the test lets it through.
        var first = client.UpdateAsync(keypair, Add("_a"));
        await network.FirstPublishArrived.Task.WaitAsync(Bound);
        var second = client.UpdateAsync(keypair, Add("_b"));

        // While the first update is in flight the second must not read the key. Nothing signals that it did not,
        // so it gets a short window in which a broken lock would let it reach the network.
        await Task.WhenAny(network.SecondResolveArrived.Task, Task.Delay(TimeSpan.FromMilliseconds(200)));
        Assert.False(network.SecondResolveArrived.Task.IsCompleted, "the second update read the key while the first was publishing");
        network.ReleaseFirstPublish.SetResult();

        var results = await Task.WhenAll(first, second).WaitAsync(Bound);
        Assert.All(results, r => Assert.True(r.Succeeded));
        var final = network.Stored!;
        Assert.Single(final.ResourceRecords("_a"));
        Assert.Single(final.ResourceRecords("_b"));
        Assert.True(final.IsSameAs(results[1].Packet!));
        Assert.True(results[1].Packet!.Timestamp > results[0].Packet!.Timestamp);
        Assert.Equal(results[0].Packet!.Timestamp, network.Backend.Publishes[1].Cas);
    }

    /// <summary>A network that keeps whichever packet was published last (no compare-and-swap, no ordering), so
    /// that only the client's serialisation keeps a concurrent edit from being lost.</summary>
    private sealed class LastWriterWins
    {
        private int _resolves;
        private int _publishes;

        public LastWriterWins(TimeProvider clock)
        {
            Backend = new FakeBackend
            {
                OnResolve = async call =>
                {
                    Assert.Equal(ResolvePolicy.NetworkOnly, call.Policy);
                    if (Interlocked.Increment(ref _resolves) == 2)
                    {
                        SecondResolveArrived.TrySetResult();
                    }

                    await Task.Yield();
                    return Stored is { } packet ? Found(CachedPacket.Seen(packet, clock)) : ResolveResult.NotFound;
                },
                OnPublish = async call =>
                {
                    if (Interlocked.Increment(ref _publishes) == 1)
                    {
                        FirstPublishArrived.TrySetResult();
                        await ReleaseFirstPublish.Task.ConfigureAwait(false);
                    }

                    Stored = call.Packet;
                    return Published(call.Packet, 1);
                },
            };
        }

        public FakeBackend Backend { get; }

        public SignedPacket? Stored { get; private set; }

        public TaskCompletionSource FirstPublishArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource SecondResolveArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseFirstPublish { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
