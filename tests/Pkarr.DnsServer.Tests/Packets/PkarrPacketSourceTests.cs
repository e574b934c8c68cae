using Pkarr.Client;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.RateLimiting;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.DnsServer.Tests.Packets.PacketSourceHarness;

namespace Pkarr.DnsServer.Tests.Packets;

public sealed class PkarrPacketSourceTests
{
    private const ulong T0 = 1_700_000_000_000_000;

    public static TheoryData<string, bool> Orders => new()
    {
        { "timestamp", true },
        { "timestamp", false },
        { "tie-break", true },
        { "tie-break", false },
    };

    [Fact]
    public async Task AFreshPacketIsAnsweredAtOnceWithoutAResolve()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 300);

        var first = await h.Load(signer, packet);
        Assert.Equal(PacketStatus.Found, first.Status);
        Assert.Same(packet, first.Zone!.Packet);
        Assert.Equal(0u, first.AgeSeconds);

        h.Time.Advance(TimeSpan.FromSeconds(299));
        var hit = h.AtOnce(signer.PublicKey);
        Assert.Equal(PacketStatus.Found, hit.Status);
        Assert.Same(first.Zone, hit.Zone);
        Assert.Equal(299u, hit.AgeSeconds);
        Assert.Equal(1, h.Calls);
        Assert.Null(h.Source.RunningLookup(signer.PublicKey));
    }

    [Fact]
    public async Task AFreshHitReusesItsResultWhileTheAgeInSecondsIsTheSame()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        await h.Load(signer, Packet(signer, T0));
        h.Time.Advance(TimeSpan.FromSeconds(10));

        var a = h.AtOnce(signer.PublicKey);
        h.Time.Advance(TimeSpan.FromMilliseconds(500));
        var b = h.AtOnce(signer.PublicKey);
        h.Time.Advance(TimeSpan.FromMilliseconds(500));
        var c = h.AtOnce(signer.PublicKey);

        Assert.Same(a, b);
        Assert.NotSame(b, c);
        Assert.Equal(11u, c.AgeSeconds);
        Assert.Same(a.Zone, c.Zone);
    }

    [Fact]
    public async Task AStalePacketIsServedAtOnceAndRefreshedInTheBackground()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var old = Packet(signer, T0, "old", ttl: 120);
        var update = Packet(signer, T0 + 1, "new", ttl: 120);
        await h.Load(signer, old);

        h.Time.Advance(TimeSpan.FromSeconds(120));
        var stale = h.AtOnce(signer.PublicKey);
        Assert.Same(old, stale.Zone!.Packet);
        Assert.Equal(120u, stale.AgeSeconds);

        var landing = h.Landing(signer.PublicKey);
        var call = await h.NextCall();
        var during = h.AtOnce(signer.PublicKey);
        Assert.Same(old, during.Zone!.Packet);

        call.Found(update, h.Now);
        await landing;
        var after = h.AtOnce(signer.PublicKey);
        Assert.Same(update, after.Zone!.Packet);
        Assert.Equal(0u, after.AgeSeconds);
        Assert.Equal(2, h.Calls);
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task ANetworkPacketReplacesTheHeldOneOnlyWhenMoreRecent(string order, bool heldIsNewer)
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var (older, newer) = Pair(signer, order);
        Assert.True(newer.MoreRecentThan(older));
        Assert.False(older.MoreRecentThan(newer));
        var held = heldIsNewer ? newer : older;
        var received = heldIsNewer ? older : newer;
        await h.Load(signer, held);

        h.Time.Advance(TimeSpan.FromSeconds(300));
        Assert.Same(held, h.AtOnce(signer.PublicKey).Zone!.Packet);
        var landing = h.Landing(signer.PublicKey);
        (await h.NextCall()).Found(received, h.Now);
        await landing;

        var after = h.AtOnce(signer.PublicKey);
        Assert.Same(newer, after.Zone!.Packet);
        Assert.Same(newer, h.Source.HeldPacket(signer.PublicKey));

        // An older packet is no sighting of the held one: its age goes on (300 s, stale), and no lookup starts
        // before MinTtl although it stays stale.
        Assert.Equal(heldIsNewer ? 300u : 0u, after.AgeSeconds);
        Assert.Null(h.Source.RunningLookup(signer.PublicKey));
        Assert.Equal(2, h.Calls);
        if (heldIsNewer)
        {
            h.Time.Advance(TimeSpan.FromSeconds(h.Options.MinTtl));
            Assert.Same(newer, h.AtOnce(signer.PublicKey).Zone!.Packet);
            Assert.NotNull(h.Source.RunningLookup(signer.PublicKey));
        }
    }

    [Fact]
    public async Task TheSamePacketSeenAgainOnlyMovesItsLastSeenTimeForward()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 100);
        var first = await h.Load(signer, packet);

        h.Time.Advance(TimeSpan.FromSeconds(150));
        h.AtOnce(signer.PublicKey);
        var landing = h.Landing(signer.PublicKey);
        (await h.NextCall()).Found(Packet(signer, T0, ttl: 100), h.Now.SubtractMicroseconds(20_000_000));
        await landing;

        var after = h.AtOnce(signer.PublicKey);
        Assert.Same(first.Zone, after.Zone);
        Assert.Equal(20u, after.AgeSeconds);

        // A copy last seen before the held one does not make it look older.
        h.Time.Advance(TimeSpan.FromSeconds(100));
        h.AtOnce(signer.PublicKey);
        landing = h.Landing(signer.PublicKey);
        (await h.NextCall()).Found(packet, h.Now.SubtractMicroseconds(1_000_000_000));
        await landing;
        Assert.Equal(120u, h.AtOnce(signer.PublicKey).AgeSeconds);
    }

    [Fact]
    public async Task ConcurrentQueriesForOneKeyShareOneResolve()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0);

        var a = h.Get(signer.PublicKey);
        var b = h.Get(signer.PublicKey, OtherClient);
        var c = h.Get(signer.PublicKey);
        var call = await h.NextCall();
        Assert.False(a.IsCompleted);
        Assert.False(b.IsCompleted);
        call.Found(packet, h.Now);

        foreach (var pending in new[] { a, b, c })
        {
            var result = await Bounded(pending);
            Assert.Equal(PacketStatus.Found, result.Status);
            Assert.Same(packet, result.Zone!.Packet);
        }

        Assert.Equal(1, h.Calls);
        Assert.True(h.NoPendingCall);
    }

    [Fact]
    public async Task DifferentKeysLookUpConcurrently()
    {
        using var h = new PacketSourceHarness();
        var slowSigner = Keypair.Random();
        var fastSigner = Keypair.Random();

        var slow = h.Get(slowSigner.PublicKey);
        var fast = h.Get(fastSigner.PublicKey);
        var calls = new[] { await h.NextCall(), await h.NextCall() }.ToDictionary(call => call.Key);
        Assert.Equal(2, h.Source.RunningLookups);

        calls[fastSigner.PublicKey].Found(Packet(fastSigner, T0), h.Now);
        Assert.Equal(PacketStatus.Found, (await Bounded(fast)).Status);
        Assert.False(slow.IsCompleted);

        calls[slowSigner.PublicKey].Found(Packet(slowSigner, T0), h.Now);
        Assert.Equal(PacketStatus.Found, (await Bounded(slow)).Status);
    }

    [Fact]
    public async Task AQueryFailsAtTheLookupTimeoutAndTheLateResultIsStillKept()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0);

        var pending = h.Get(signer.PublicKey);
        var call = await h.NextCall();
        h.Time.Advance(h.Options.LookupTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(pending.IsCompleted);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(PacketStatus.Failed, (await Bounded(pending)).Status);
        Assert.False(call.Token.IsCancellationRequested);

        // The next query joins the same lookup rather than starting one.
        var joined = h.Get(signer.PublicKey);
        var landing = h.Landing(signer.PublicKey);
        call.Found(packet, h.Now);
        await landing;
        Assert.Same(packet, (await Bounded(joined)).Zone!.Packet);

        var hit = h.AtOnce(signer.PublicKey);
        Assert.Same(packet, hit.Zone!.Packet);
        Assert.Equal(1, h.Calls);
    }

    [Fact]
    public async Task ANetworkFailureIsFailedNotNotFoundAndBacksOffPerKey()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();

        var pending = h.Get(signer.PublicKey);
        (await h.NextCall()).Fail(new ResolveError(ResolveErrorKind.NoResponses));
        Assert.Equal(PacketStatus.Failed, (await Bounded(pending)).Status);

        // Within the back-off (2 s) no lookup starts: Failed at once.
        h.Time.Advance(TimeSpan.FromSeconds(1.9));
        var during = h.AtOnce(signer.PublicKey);
        Assert.Equal(PacketStatus.Failed, during.Status);
        Assert.Null(h.Source.RunningLookup(signer.PublicKey));
        Assert.Equal(1, h.Calls);

        // After it, one lookup; a second failure doubles the back-off (4 s).
        h.Time.Advance(TimeSpan.FromSeconds(0.1));
        pending = h.Get(signer.PublicKey);
        (await h.NextCall()).Fail(new ResolveError(ResolveErrorKind.NoUsableResponses));
        Assert.Equal(PacketStatus.Failed, (await Bounded(pending)).Status);
        h.Time.Advance(TimeSpan.FromSeconds(3.9));
        Assert.Equal(PacketStatus.Failed, h.AtOnce(signer.PublicKey).Status);
        Assert.Equal(2, h.Calls);

        // The network is back: the key is found.
        h.Time.Advance(TimeSpan.FromSeconds(0.1));
        var packet = Packet(signer, T0);
        Assert.Same(packet, (await h.Load(signer, packet)).Zone!.Packet);
        Assert.Equal(3, h.Calls);
    }

    [Fact]
    public async Task ANetworkFailureKeepsServingTheHeldPacketAndBacksOff()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 60);
        await h.Load(signer, packet);

        h.Time.Advance(TimeSpan.FromSeconds(60));
        h.AtOnce(signer.PublicKey);
        var landing = h.Landing(signer.PublicKey);
        (await h.NextCall()).Fail(new ResolveError(ResolveErrorKind.NoResponses));
        Assert.Same(packet, (await landing).Zone!.Packet);

        var served = h.AtOnce(signer.PublicKey);
        Assert.Same(packet, served.Zone!.Packet);
        Assert.Equal(60u, served.AgeSeconds);
        Assert.Null(h.Source.RunningLookup(signer.PublicKey));

        h.Time.Advance(h.Options.FailureBackoff);
        Assert.Same(packet, h.AtOnce(signer.PublicKey).Zone!.Packet);
        Assert.NotNull(h.Source.RunningLookup(signer.PublicKey));
        await h.NextCall();
        Assert.Equal(3, h.Calls);
    }

    [Fact]
    public async Task PacketRequestsAndLookupsAreCountedByResult()
    {
        using var h = new PacketSourceHarness();
        using var metrics = new MetricsRecorder(h.Metrics);
        var signer = Keypair.Random();
        await h.Load(signer, Packet(signer, T0, ttl: 60)); // a miss, and a lookup that found the packet
        h.AtOnce(signer.PublicKey); // fresh
        h.Time.Advance(TimeSpan.FromSeconds(60));
        h.AtOnce(signer.PublicKey); // stale, with a refresh
        var landing = h.Landing(signer.PublicKey);
        (await h.NextCall()).Fail(new ResolveError(ResolveErrorKind.NoResponses));
        await landing;
        var unknown = Keypair.Random();
        var pending = h.Get(unknown.PublicKey); // a miss, and a lookup the network answers with "not found"
        (await h.NextCall()).Fail(new ResolveError(ResolveErrorKind.NotFound));
        Assert.Equal(PacketStatus.NotFound, (await Bounded(pending)).Status);

        Assert.Equal(2, metrics.Sum("pkarr.dns.packet_cache", "result=miss"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.packet_cache", "result=fresh"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.packet_cache", "result=stale"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.lookups", "outcome=found"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.lookups", "outcome=timeout"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.lookups", "outcome=not_found"));
        Assert.Equal(3, metrics.Sum("pkarr.dns.lookups"));
    }

    [Fact]
    public async Task APacketStaleBeyondTheServeStaleTtlIsServedOnlyOnceALookupSeesItAgain()
    {
        using var h = new PacketSourceHarness(new PacketSourceOptions { ServeStaleTtl = 600 });
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 60);
        await h.Load(signer, packet);

        // Within TTL + 600 s: served stale at once, and still after its refresh failed.
        h.Time.Advance(TimeSpan.FromSeconds(659));
        Assert.Same(packet, h.AtOnce(signer.PublicKey).Zone!.Packet);
        var landing = h.Landing(signer.PublicKey);
        (await h.NextCall()).Fail(new ResolveError(ResolveErrorKind.NoResponses));
        Assert.Same(packet, (await landing).Zone!.Packet);

        // Past it, while the key backs off: failed at once, and no lookup.
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(PacketStatus.Failed, h.AtOnce(signer.PublicKey).Status);
        Assert.Null(h.Source.RunningLookup(signer.PublicKey));

        // After the back-off a query waits for a lookup: a failure is a failure, an older packet is refused (the held
        // one is kept for that) and is no answer either.
        h.Time.Advance(h.Options.FailureBackoff);
        var waiting = h.Get(signer.PublicKey);
        Assert.False(waiting.IsCompleted);
        (await h.NextCall()).Fail(new ResolveError(ResolveErrorKind.NoResponses));
        Assert.Equal(PacketStatus.Failed, (await Bounded(waiting)).Status);
        h.Time.Advance(h.Options.FailureBackoff * 2);
        var older = h.Get(signer.PublicKey);
        (await h.NextCall()).Found(Packet(signer, T0 - 1, "older", ttl: 60), h.Now);
        Assert.Equal(PacketStatus.Failed, (await Bounded(older)).Status);

        // Seen again: served, its age counted from now.
        h.Time.Advance(TimeSpan.FromSeconds(60));
        var again = h.Get(signer.PublicKey);
        (await h.NextCall()).Found(packet, h.Now);
        var found = await Bounded(again);
        Assert.Same(packet, found.Zone!.Packet);
        Assert.Equal(0u, found.AgeSeconds);
        Assert.Equal(5, h.Calls);
    }

    [Fact]
    public async Task WithServeStaleTtlZeroAStalePacketWaitsForItsLookup()
    {
        using var h = new PacketSourceHarness(new PacketSourceOptions { ServeStaleTtl = 0 });
        var signer = Keypair.Random();
        await h.Load(signer, Packet(signer, T0, "old", ttl: 60));

        h.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(PacketStatus.Found, h.AtOnce(signer.PublicKey).Status); // fresh

        h.Time.Advance(TimeSpan.FromSeconds(1));
        var waiting = h.Get(signer.PublicKey);
        Assert.False(waiting.IsCompleted);
        var update = Packet(signer, T0 + 1, "new", ttl: 60);
        (await h.NextCall()).Found(update, h.Now);
        Assert.Same(update, (await Bounded(waiting)).Zone!.Packet);
    }

    [Theory]
    [InlineData(ResolveErrorKind.NotFound)]
    [InlineData(ResolveErrorKind.InvalidSignedPacket)]
    public async Task NotFoundIsRememberedForTheNegativeTtlThenLookedUpAgain(ResolveErrorKind kind)
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();

        var pending = h.Get(signer.PublicKey);
        (await h.NextCall()).Fail(new ResolveError(kind, 7));
        Assert.Equal(PacketStatus.NotFound, (await Bounded(pending)).Status);

        h.Time.Advance(TimeSpan.FromSeconds(h.Options.NegativeTtl - 1));
        var remembered = h.AtOnce(signer.PublicKey);
        Assert.Equal(PacketStatus.NotFound, remembered.Status);
        Assert.Null(h.Source.RunningLookup(signer.PublicKey));
        Assert.Equal(1, h.Calls);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        var packet = Packet(signer, T0);
        Assert.Same(packet, (await h.Load(signer, packet)).Zone!.Packet);
        Assert.Equal(2, h.Calls);
    }

    [Fact]
    public async Task OverTheLookupLimitWithoutAPacketIsRateLimitedAndLeavesNothingBehind()
    {
        using var h = new PacketSourceHarness(limits: time => new DnsRateLimits(0, 0, 1, 1, time));
        var first = Keypair.Random();
        var second = Keypair.Random();
        await h.Load(first, Packet(first, T0));
        long bytes = h.Source.CachedBytes;

        var refused = h.AtOnce(second.PublicKey);
        Assert.Equal(PacketStatus.RateLimited, refused.Status);
        Assert.Equal(1, h.Calls);
        Assert.Equal(1, h.Source.Count);
        Assert.Equal(bytes, h.Source.CachedBytes);

        // Another client has its own lookup budget.
        var other = h.Get(second.PublicKey, OtherClient);
        (await h.NextCall()).Found(Packet(second, T0), h.Now);
        Assert.Equal(PacketStatus.Found, (await Bounded(other)).Status);
    }

    [Fact]
    public async Task JoiningARunningLookupCostsNoLookupToken()
    {
        using var h = new PacketSourceHarness(limits: time => new DnsRateLimits(0, 0, 1, 1, time));
        var signer = Keypair.Random();
        var packet = Packet(signer, T0);

        var first = h.Get(signer.PublicKey);
        var call = await h.NextCall();
        var joined = h.Get(signer.PublicKey);
        Assert.False(joined.IsCompleted);
        Assert.Equal(PacketStatus.RateLimited, h.AtOnce(Keypair.Random().PublicKey).Status);

        call.Found(packet, h.Now);
        Assert.Same(packet, (await Bounded(first)).Zone!.Packet);
        Assert.Same(packet, (await Bounded(joined)).Zone!.Packet);
        Assert.Equal(1, h.Calls);
    }

    [Fact]
    public async Task OverTheLookupLimitWithAStalePacketServesItWithoutARefresh()
    {
        using var h = new PacketSourceHarness(limits: time => new DnsRateLimits(0, 0, 1, 1, time));
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 60);
        await h.Load(signer, packet);
        h.Time.Advance(TimeSpan.FromSeconds(60));

        // The client spends its one token on another key.
        var spender = Keypair.Random();
        var spent = h.Get(spender.PublicKey);
        (await h.NextCall()).Found(Packet(spender, T0), h.Now);
        await Bounded(spent);

        var served = h.AtOnce(signer.PublicKey);
        Assert.Equal(PacketStatus.Found, served.Status);
        Assert.Same(packet, served.Zone!.Packet);
        Assert.Null(h.Source.RunningLookup(signer.PublicKey));
        Assert.Equal(2, h.Calls);

        // A client with tokens left starts the refresh.
        Assert.Same(packet, h.AtOnce(signer.PublicKey, OtherClient).Zone!.Packet);
        Assert.NotNull(h.Source.RunningLookup(signer.PublicKey));
    }

    [Fact]
    public async Task TheSizeBoundEvictsTheLeastRecentlyUsedKey()
    {
        var a = Keypair.Random();
        var b = Keypair.Random();
        var c = Keypair.Random();
        long weight = PkarrPacketSource.WeightOf(Packet(a, T0));
        Assert.Equal(weight, PkarrPacketSource.WeightOf(Packet(c, T0)));
        using var h = new PacketSourceHarness(new PacketSourceOptions { CacheBytes = (weight * 5) / 2 });

        await h.Load(a, Packet(a, T0));
        await h.Load(b, Packet(b, T0));
        Assert.Equal(2 * weight, h.Source.CachedBytes);
        Assert.Equal(PacketStatus.Found, h.AtOnce(a.PublicKey).Status);
        await h.Load(c, Packet(c, T0));

        Assert.NotNull(h.Source.HeldPacket(a.PublicKey));
        Assert.Null(h.Source.HeldPacket(b.PublicKey));
        Assert.NotNull(h.Source.HeldPacket(c.PublicKey));
        Assert.Equal(2, h.Source.Count);
        Assert.Equal(2 * weight, h.Source.CachedBytes);

        // The evicted key is looked up again.
        Assert.Equal(PacketStatus.Found, (await h.Load(b, Packet(b, T0))).Status);
        Assert.Equal(4, h.Calls);
    }

    [Fact]
    public async Task NotFoundMarkersWeighTheOverheadAndCountTowardsTheBound()
    {
        using var h = new PacketSourceHarness(new PacketSourceOptions { CacheBytes = PkarrPacketSource.EntryOverhead * 2 });
        var keys = new[] { Keypair.Random(), Keypair.Random(), Keypair.Random() };
        foreach (var key in keys)
        {
            var pending = h.Get(key.PublicKey);
            (await h.NextCall()).Fail(ResolveError.NotFound);
            Assert.Equal(PacketStatus.NotFound, (await Bounded(pending)).Status);
        }

        Assert.True(h.Source.CachedBytes <= PkarrPacketSource.EntryOverhead * 2);
        Assert.Equal(h.Source.Count * PkarrPacketSource.EntryOverhead, h.Source.CachedBytes);

        // The first marker went: its key is looked up again; the last one is remembered.
        Assert.Equal(PacketStatus.NotFound, h.AtOnce(keys[2].PublicKey).Status);
        Assert.Equal(3, h.Calls);
        _ = h.Get(keys[0].PublicKey);
        (await h.NextCall()).Fail(ResolveError.NotFound);
        Assert.Equal(4, h.Calls);
    }

    [Fact]
    public async Task CancellingOneWaiterDoesNotCancelTheLookupForTheOthers()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0);
        using var cancel = new CancellationTokenSource();

        var cancelled = h.Get(signer.PublicKey, cancellationToken: cancel.Token);
        var other = h.Get(signer.PublicKey, OtherClient);
        var call = await h.NextCall();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(call.Token.IsCancellationRequested);
        Assert.False(other.IsCompleted);

        call.Found(packet, h.Now);
        Assert.Same(packet, (await Bounded(other)).Zone!.Packet);
    }

    [Fact]
    public async Task AnAlreadyCancelledQueryThrowsAndStartsNothing()
    {
        using var h = new PacketSourceHarness();
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Get(Keypair.Random().PublicKey, cancellationToken: cancel.Token));
        Assert.Equal(0, h.Calls);
    }

    [Fact]
    public async Task DisposeCancelsRunningLookupsAndStartsNoMore()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 60);
        await h.Load(signer, packet);

        var pending = h.Get(Keypair.Random().PublicKey);
        var call = await h.NextCall();
        h.Source.Dispose();
        Assert.True(call.Token.IsCancellationRequested);
        call.Reply.SetCanceled(call.Token);
        Assert.Equal(PacketStatus.Failed, (await Bounded(pending)).Status);

        // Held packets are still served, stale ones without a refresh; unknown keys fail without a lookup.
        h.Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Same(packet, h.AtOnce(signer.PublicKey).Zone!.Packet);
        Assert.Null(h.Source.RunningLookup(signer.PublicKey));
        Assert.Equal(PacketStatus.Failed, h.AtOnce(Keypair.Random().PublicKey).Status);
        Assert.Equal(2, h.Calls);
    }

    [Fact]
    public async Task AResolveThatThrowsIsAFailedLookupNeverAnEscapingException()
    {
        using var h = new PacketSourceHarness();
        h.Network = (_, _) => throw new InvalidOperationException("boom");
        Assert.Equal(PacketStatus.Failed, (await Bounded(h.Get(Keypair.Random().PublicKey))).Status);

        h.Network = (_, _) => Task.FromException<ResolveResult>(new IOException("faulted"));
        Assert.Equal(PacketStatus.Failed, (await Bounded(h.Get(Keypair.Random().PublicKey))).Status);
        Assert.Equal(0, h.Source.RunningLookups);
    }

    [Fact]
    public async Task APacketOfAnotherKeyIsAFailedLookup()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var stranger = Keypair.Random();

        var pending = h.Get(signer.PublicKey);
        (await h.NextCall()).Found(Packet(stranger, T0), h.Now);
        Assert.Equal(PacketStatus.Failed, (await Bounded(pending)).Status);
        Assert.Null(h.Source.HeldPacket(signer.PublicKey));
        Assert.Null(h.Source.HeldPacket(stranger.PublicKey));
    }

    [Fact]
    public async Task BeyondTheConcurrentLookupBoundAQueryFailsAtOnce()
    {
        using var h = new PacketSourceHarness(new PacketSourceOptions { MaxConcurrentLookups = 1 });
        var first = Keypair.Random();
        var second = Keypair.Random();

        var running = h.Get(first.PublicKey);
        var call = await h.NextCall();
        var refused = h.AtOnce(second.PublicKey);
        Assert.Equal(PacketStatus.Failed, refused.Status);
        Assert.Equal(1, h.Calls);

        call.Found(Packet(first, T0), h.Now);
        await Bounded(running);
        Assert.Equal(PacketStatus.Found, (await h.Load(second, Packet(second, T0))).Status);
    }

    [Fact]
    public async Task AHungResolveIsCancelledAtMaxLookupTimeAndTheKeyBacksOff()
    {
        using var h = new PacketSourceHarness(new PacketSourceOptions { MaxLookupTime = TimeSpan.FromSeconds(10) });
        var signer = Keypair.Random();

        var pending = h.Get(signer.PublicKey);
        var call = await h.NextCall();
        var landing = h.Landing(signer.PublicKey);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(PacketStatus.Failed, (await Bounded(pending)).Status);
        Assert.True(call.Token.IsCancellationRequested);
        call.Reply.SetCanceled(call.Token);
        Assert.Equal(PacketStatus.Failed, (await landing).Status);

        var backingOff = h.AtOnce(signer.PublicKey);
        Assert.Equal(PacketStatus.Failed, backingOff.Status);
        Assert.Equal(1, h.Calls);
    }

    [Fact]
    public void OptionsOutOfRangeAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new PacketSourceHarness(new PacketSourceOptions { MinTtl = 10, MaxTtl = 5 }));
        Assert.Throws<ArgumentException>(() => new PacketSourceHarness(new PacketSourceOptions { CacheBytes = -1 }));
        Assert.Throws<ArgumentException>(() => new PacketSourceHarness(new PacketSourceOptions { MaxConcurrentLookups = 0 }));
        Assert.Throws<ArgumentException>(() => new PacketSourceHarness(new PacketSourceOptions { LookupTimeout = TimeSpan.Zero }));
        using var accepted = new PacketSourceHarness(new PacketSourceOptions { MinTtl = 0, MaxTtl = 0, CacheBytes = 0, NegativeTtl = 0 });
    }

    [Fact]
    public async Task WithoutACacheEveryQueryStillGetsItsLookupsResult()
    {
        using var h = new PacketSourceHarness(new PacketSourceOptions { CacheBytes = 0 });
        var signer = Keypair.Random();
        var packet = Packet(signer, T0);

        Assert.Same(packet, (await h.Load(signer, packet)).Zone!.Packet);
        Assert.Equal(0, h.Source.Count);
        Assert.Equal(0, h.Source.CachedBytes);
        Assert.Same(packet, (await h.Load(signer, packet)).Zone!.Packet);
        Assert.Equal(2, h.Calls);
    }

    /// <summary>Two packets of <paramref name="signer"/>, the second more recent: by timestamp, or with equal
    /// timestamps by the DNS bytes (§3.7).</summary>
    internal static (SignedPacket Older, SignedPacket Newer) Pair(Keypair signer, string order)
    {
        if (order == "timestamp")
        {
            return (Packet(signer, T0, "zzz"), Packet(signer, T0 + 1, "aaa"));
        }

        var a = Packet(signer, T0, "aaa");
        var b = Packet(signer, T0, "bbb");
        return b.MoreRecentThan(a) ? (a, b) : (b, a);
    }
}
