using Pkarr.Client;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.RateLimiting;
using Pkarr.DnsServer.Tests.Answering;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.DnsServer.Tests.Packets.PacketSourceHarness;

namespace Pkarr.DnsServer.Tests.Packets;

/// <summary>
/// The "Freshness" shortcomings of pkdns (spec pkarr.md §9.5), each as the behaviour that fixes it. Not covered here:
/// "cold keys take the first answer, not the most recent" (the client's NetworkOnly resolve merges every response,
/// §5.5; this source only ever keeps the more recent of what it held and what the resolve returned), and "the pkarr
/// 3.8 client still caches 1000 packets" (the host builds the client without a cache).
/// </summary>
public sealed class Pkdns95FreshnessTests
{
    private const ulong T0 = 1_700_000_000_000_000;

    /// <summary>§9.5 "with every entry expired, resolve returns the old packet at once and refreshes in the background,
    /// so updates appear one cycle late": the stale packet goes out with its true age (so its answer TTLs are short, not
    /// a fresh full TTL), and the update is served by the first query after the refresh lands.</summary>
    [Fact]
    public async Task UpdatesAreNotOneCycleLate()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var old = Packet(signer, T0, "old", ttl: 600);
        var update = Packet(signer, T0 + 1, "new", ttl: 600);
        await h.Load(signer, old);

        h.Time.Advance(TimeSpan.FromSeconds(700));
        var stale = h.AtOnce(signer.PublicKey);
        Assert.Same(old, stale.Zone!.Packet);
        Assert.Equal(700u, stale.AgeSeconds);
        var landing = h.Landing(signer.PublicKey);
        (await h.NextCall()).Found(update, h.Now);
        await landing;

        var next = h.AtOnce(signer.PublicKey);
        Assert.Same(update, next.Zone!.Packet);
        Assert.Equal(0u, next.AgeSeconds);
    }

    /// <summary>§9.5 "updates appear one cycle late", the other half: a copy that a cache below served (last seen long
    /// ago) is not taken as just seen, so it stays stale and is asked for again after MinTtl, not after a full TTL.</summary>
    [Fact]
    public async Task AnOldCopyFromACacheBelowIsNotTakenAsJustSeen()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 3600);
        await h.Load(signer, packet);

        h.Time.Advance(TimeSpan.FromSeconds(3600));
        h.AtOnce(signer.PublicKey);
        var landing = h.Landing(signer.PublicKey);
        (await h.NextCall()).Found(packet, h.Now.SubtractMicroseconds(3_600_000_000));
        await landing;

        var served = h.AtOnce(signer.PublicKey);
        Assert.Equal(3600u, served.AgeSeconds);
        Assert.Null(h.Source.RunningLookup(signer.PublicKey));
        h.Time.Advance(TimeSpan.FromSeconds(h.Options.MinTtl));
        h.AtOnce(signer.PublicKey);
        Assert.NotNull(h.Source.RunningLookup(signer.PublicKey));
    }

    /// <summary>§9.5 "a DHT timeout reads as 'not found' → NXDOMAIN cached for min_ttl": no responses, an error or our
    /// own wait running out are Failed (SERVFAIL), never NotFound, and what is remembered is a short back-off.</summary>
    [Theory]
    [InlineData(ResolveErrorKind.NoResponses)]
    [InlineData(ResolveErrorKind.NoDhtNodesQueried)]
    [InlineData(ResolveErrorKind.UnexpectedResponses)]
    public async Task ADhtTimeoutIsNeverNotFound(ResolveErrorKind kind)
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();

        var pending = h.Get(signer.PublicKey);
        (await h.NextCall()).Fail(new ResolveError(kind));
        Assert.Equal(PacketStatus.Failed, (await Bounded(pending)).Status);
        Assert.Equal(PacketStatus.Failed, h.AtOnce(signer.PublicKey).Status);

        // Well before min_ttl, the key is looked up again and found.
        h.Time.Advance(h.Options.FailureBackoff);
        var packet = Packet(signer, T0);
        Assert.Same(packet, (await h.Load(signer, packet)).Zone!.Packet);
    }

    /// <summary>§9.5 "a DHT timeout reads as 'not found'", for our own wait: past LookupTimeout the query is Failed, and
    /// the lookup's late answer is kept.</summary>
    [Fact]
    public async Task OurLookupTimeoutIsFailedNotNotFound()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var pending = h.Get(signer.PublicKey);
        var call = await h.NextCall();
        var landing = h.Landing(signer.PublicKey);
        h.Time.Advance(h.Options.LookupTimeout);
        Assert.Equal(PacketStatus.Failed, (await Bounded(pending)).Status);

        call.Fail(ResolveError.NotFound);
        await landing;
        Assert.Equal(PacketStatus.NotFound, h.AtOnce(signer.PublicKey).Status);
    }

    /// <summary>§9.5 "one global mutex serialises all DHT lookups": a slow key does not hold up another.</summary>
    [Fact]
    public async Task LookupsOfDifferentKeysRunConcurrently()
    {
        using var h = new PacketSourceHarness();
        var signers = new[] { Keypair.Random(), Keypair.Random(), Keypair.Random() };
        var pending = signers.Select(s => h.Get(s.PublicKey)).ToArray();
        var calls = new Dictionary<PublicKey, ResolveCall>();
        for (int i = 0; i < signers.Length; i++)
        {
            var call = await h.NextCall();
            calls.Add(call.Key, call);
        }

        Assert.Equal(3, h.Source.RunningLookups);
        for (int i = signers.Length - 1; i >= 0; i--)
        {
            calls[signers[i].PublicKey].Found(Packet(signers[i], T0), h.Now);
            Assert.Equal(PacketStatus.Found, (await Bounded(pending[i])).Status);
            Assert.All(pending[..i], p => Assert.False(p.IsCompleted));
        }
    }

    /// <summary>§9.5 "a not-found result never refreshes a stale packet's age, so every query starts a new lookup":
    /// after "not found" the held packet is still served and no query starts a lookup for NegativeTtl.</summary>
    [Fact]
    public async Task NotFoundForAHeldPacketDoesNotStartALookupPerQuery()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 60);
        await h.Load(signer, packet);

        h.Time.Advance(TimeSpan.FromSeconds(60));
        h.AtOnce(signer.PublicKey);
        var landing = h.Landing(signer.PublicKey);
        (await h.NextCall()).Fail(ResolveError.NotFound);
        await landing;

        for (int i = 0; i < 20; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(2));
            var served = h.AtOnce(signer.PublicKey, i % 2 == 0 ? PacketSourceHarness.Client : OtherClient);
            Assert.Same(packet, served.Zone!.Packet);
            Assert.Null(h.Source.RunningLookup(signer.PublicKey));
        }

        Assert.Equal(2, h.Calls);
        h.Time.Advance(TimeSpan.FromSeconds(h.Options.NegativeTtl - 40));
        h.AtOnce(signer.PublicKey);
        Assert.NotNull(h.Source.RunningLookup(signer.PublicKey));
    }

    /// <summary>§9.5 "a client over its DHT limit gets REFUSED although a stale packet exists": it gets the stale
    /// packet; only a client with no packet to fall back on is refused.</summary>
    [Fact]
    public async Task AClientOverItsLookupLimitGetsTheStalePacket()
    {
        using var h = new PacketSourceHarness(limits: time => new DnsRateLimits(0, 0, 1, 1, time));
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 60);
        await h.Load(signer, packet);
        h.Time.Advance(TimeSpan.FromSeconds(61));

        var unknown = Keypair.Random().PublicKey;
        var spent = h.Get(unknown);
        (await h.NextCall()).Fail(ResolveError.NotFound);
        await Bounded(spent);

        var stale = h.AtOnce(signer.PublicKey);
        Assert.Equal(PacketStatus.Found, stale.Status);
        Assert.Same(packet, stale.Zone!.Packet);
        Assert.Equal(PacketStatus.RateLimited, h.AtOnce(Keypair.Random().PublicKey).Status);
    }

    /// <summary>§9.5 "answer TTLs are the packet's raw TTLs, never clamped or decremented": the source gives the
    /// answerer the time since the packet was last seen (a relay's last-seen time included), which it takes off the
    /// TTLs before clamping them.</summary>
    [Fact]
    public async Task AnswerTtlsAreDecrementedByTheTrueAge()
    {
        using var h = new PacketSourceHarness();
        var signer = Keypair.Random();
        var packet = Packet(signer, T0, ttl: 300);

        var pending = h.Get(signer.PublicKey);
        (await h.NextCall()).Found(packet, h.Now.SubtractMicroseconds(50_000_000));
        Assert.Equal(50u, (await Bounded(pending)).AgeSeconds);

        h.Time.Advance(TimeSpan.FromSeconds(100));
        Assert.Equal(150u, TxtTtl(h.AtOnce(signer.PublicKey), signer));

        h.Time.Advance(TimeSpan.FromSeconds(200));
        var stale = h.AtOnce(signer.PublicKey);
        Assert.Equal(350u, stale.AgeSeconds);
        Assert.Equal(new AnsweringOptions().MinimumTtl, TxtTtl(stale, signer));
    }

    private static uint TxtTtl(PacketLookup lookup, Keypair signer)
    {
        var match = Fixtures.Matcher().Match(DnsName.Parse($"_t.{signer.PublicKey.ToZ32()}"));
        var answer = new PacketAnswerer(new AnsweringOptions()).Answer(lookup.Zone!, match, RecordType.TXT, DnsClass.IN, lookup.AgeSeconds);
        return Assert.Single(answer.Answers).Ttl;
    }
}
