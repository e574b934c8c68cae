using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Forwarding;

namespace Pkarr.DnsServer.Tests.Forwarding;

public sealed class ForwardCacheTests
{
    private const uint MinTtl = 60;
    private const uint MaxTtl = 86400;

    private readonly FakeTimeProvider _time = new();

    public static TheoryData<string, uint> Lifetimes => new()
    {
        { "NOERROR answers 300 500", 300 },
        { "NOERROR answers 5", MinTtl },              // clamped up: pkdns's min_ttl
        { "NOERROR answers 200000", MaxTtl },         // clamped down
        { "NXDOMAIN soa 3600 120", 120 },             // RFC 2308 §5: min(SOA TTL, MINIMUM)
        { "NOERROR soa 50 900", 50 },                 // NODATA, the SOA's TTL is the smaller
        { "NXDOMAIN soa 200000 200000", MaxTtl },
        { "NXDOMAIN soa 10 5", 5 },                   // negative answers are not raised to MinTtl
        { "NXDOMAIN", 0 },                            // no SOA: not cached
        { "NOERROR", 0 },                             // referral or empty without SOA: not cached
        { "SERVFAIL", 0 },
        { "REFUSED", 0 },
        { "FORMERR", 0 },
        { "NOTIMP", 0 },
        { "SERVFAIL soa 3600 120", 0 },
        { "TC answers 300", 0 },
    };

    [Theory]
    [MemberData(nameof(Lifetimes))]
    public void Lifetime_FollowsRfc2308_AndNeverCachesFailures(string shape, uint expected)
        => Assert.Equal(expected, ForwardCache.Lifetime(Message(shape), MinTtl, MaxTtl));

    [Fact]
    public void Hit_AgesEveryTtl_ByWholeSecondsInTheCache_NeverBelowZero()
    {
        var cache = new ForwardCache(1 << 20, MinTtl, MaxTtl, _time);
        var key = Key("a.example");
        var response = new DnsMessage
        {
            Flags = 0x8180,
            Answers = [Replies.A("a.example", 300), Replies.A("a.example", 120)],
            Authorities = [Replies.Soa("example", 100, 50)],
            Additionals = [Replies.A("ns.example", 0)],
        };
        Assert.True(cache.TryAdd(key, response, 100));

        _time.Advance(TimeSpan.FromSeconds(110.9));
        Assert.True(cache.TryGet(key, out var result));
        var aged = result.Response!;
        Assert.Equal([190u, 10u], aged.Answers.Select(r => r.Ttl));
        Assert.Equal(0u, Assert.Single(aged.Authorities).Ttl);   // 100 - 110: 0, not wrapped
        Assert.Equal(0u, Assert.Single(aged.Additionals).Ttl);
        Assert.Equal([300u, 120u], response.Answers.Select(r => r.Ttl));   // the stored response is untouched

        // Within the same second of age every hit gets the same aged copy.
        Assert.True(cache.TryGet(key, out var again));
        Assert.Same(result, again);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(cache.TryGet(key, out var later));
        Assert.Equal([189u, 9u], later.Response!.Answers.Select(r => r.Ttl));
    }

    [Fact]
    public void Entry_ExpiresAfterItsLifetime()
    {
        var cache = new ForwardCache(1 << 20, MinTtl, MaxTtl, _time);
        var key = Key("nx.example");
        Assert.True(cache.TryAdd(key, Message("NXDOMAIN soa 3600 120"), 100));

        _time.Advance(TimeSpan.FromSeconds(119));
        Assert.True(cache.TryGet(key, out _));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet(key, out _));
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void Uncacheable_IsNotStored()
    {
        var cache = new ForwardCache(1 << 20, MinTtl, MaxTtl, _time);
        Assert.False(cache.TryAdd(Key("s.example"), Message("SERVFAIL"), 100));
        Assert.False(cache.TryGet(Key("s.example"), out _));
    }

    [Fact]
    public void Eviction_RemovesTheLeastRecentlyUsed_WeightedByWireSize()
    {
        const int wire = 744;   // weighs 1000 with the overhead
        var cache = new ForwardCache(3000, MinTtl, MaxTtl, _time);
        var response = Message("NOERROR answers 300");
        Assert.True(cache.TryAdd(Key("a.example"), response, wire));
        Assert.True(cache.TryAdd(Key("b.example"), response, wire));
        Assert.True(cache.TryAdd(Key("c.example"), response, wire));
        Assert.True(cache.TryGet(Key("a.example"), out _));   // a is now the most recently used

        Assert.True(cache.TryAdd(Key("d.example"), response, wire));

        Assert.False(cache.TryGet(Key("b.example"), out _));
        Assert.True(cache.TryGet(Key("a.example"), out _));
        Assert.True(cache.TryGet(Key("c.example"), out _));
        Assert.True(cache.TryGet(Key("d.example"), out _));
        Assert.Equal(3000, cache.Bytes);

        // A response heavier than the whole cache is not stored, and evicts nothing.
        Assert.False(cache.TryAdd(Key("huge.example"), response, 3000));
        Assert.Equal(3, cache.Count);

        // Two entries worth of weight evict two.
        Assert.True(cache.TryAdd(Key("e.example"), response, 2 * wire + ForwardCache.EntryOverhead));
        Assert.Equal(2, cache.Count);
        Assert.True(cache.Bytes <= 3000);
    }

    [Fact]
    public void Eviction_KeepsAHitEntryExactlyAsLongAsLeastRecentlyUsedOrderDoes()
    {
        const int wire = 744;   // weighs 1000 with the overhead
        var cache = new ForwardCache(3000, MinTtl, MaxTtl, _time);
        var response = Message("NOERROR answers 300");
        foreach (string name in new[] { "a", "b", "c" })
        {
            Assert.True(cache.TryAdd(Key(name + ".example"), response, wire));
        }

        Assert.True(cache.TryGet(Key("a.example"), out _));   // by use: a, c, b

        Assert.True(cache.TryAdd(Key("d.example"), response, wire));   // evicts b: d, a, c
        Assert.False(cache.TryGet(Key("b.example"), out _));
        Assert.True(cache.TryAdd(Key("e.example"), response, wire));   // evicts c: e, d, a
        Assert.False(cache.TryGet(Key("c.example"), out _));
        Assert.True(cache.TryAdd(Key("f.example"), response, wire));   // a was not hit again: evicts a
        Assert.False(cache.TryGet(Key("a.example"), out _));
        Assert.True(cache.TryGet(Key("d.example"), out _));
        Assert.True(cache.TryGet(Key("e.example"), out _));
        Assert.True(cache.TryGet(Key("f.example"), out _));
        Assert.Equal(3, cache.Count);
    }

    [Fact]
    public void Eviction_PrefersAnExpiredEntry_EvenIfItWasHit()
    {
        const int wire = 744;
        var cache = new ForwardCache(2000, MinTtl, MaxTtl, _time);
        Assert.True(cache.TryAdd(Key("short.example"), Message("NOERROR answers 60"), wire));
        Assert.True(cache.TryAdd(Key("long.example"), Message("NOERROR answers 300"), wire));
        Assert.True(cache.TryGet(Key("short.example"), out _));
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.True(cache.TryAdd(Key("new.example"), Message("NOERROR answers 300"), wire));

        Assert.True(cache.TryGet(Key("long.example"), out _));
        Assert.True(cache.TryGet(Key("new.example"), out _));
        Assert.Equal(2000, cache.Bytes);
    }

    [Fact]
    public void ConcurrentHitsAndStores_KeepTheByteCountExact_AndWithinCapacity()
    {
        const int wire = 744;
        var cache = new ForwardCache(20_000, MinTtl, MaxTtl, _time);
        var response = Message("NOERROR answers 300");
        var keys = Enumerable.Range(0, 64).Select(i => Key($"n{i}.example")).ToArray();
        int hits = 0;
        bool written = false;

        // The cache starts full, so a reader hits whether or not it overlaps the writer (the scheduler may run the
        // three one after another); each reader keeps reading while the writer runs, within a fixed bound of steps.
        foreach (var key in keys)
        {
            Assert.True(cache.TryAdd(key, response, wire));
        }

        Parallel.Invoke(
            () => Read(0),
            () => Read(1),
            () =>
            {
                for (int i = 0; i < 20_000; i++)
                {
                    Assert.True(cache.TryAdd(keys[i % keys.Length], response, wire));
                }

                Volatile.Write(ref written, true);
            });

        Assert.True(hits > 0);
        Assert.Equal(cache.Count * (long)(wire + ForwardCache.EntryOverhead), cache.Bytes);
        Assert.Equal(20, cache.Count);
        Assert.Equal(20, keys.Count(k => cache.TryGet(k, out _)));

        void Read(int offset)
        {
            for (int i = 0; i < 5_000_000 && (i < 50_000 || !Volatile.Read(ref written)); i++)
            {
                if (cache.TryGet(keys[(i * 7 + offset) % keys.Length], out var result))
                {
                    Assert.Same(response, result.Response);
                    Interlocked.Increment(ref hits);
                }
            }
        }
    }

    [Fact]
    public void Key_IgnoresAsciiCaseOnly_AndSeparatesTypeClassAndFlags()
    {
        var key = Key("Example.COM");
        Assert.Equal(key, Key("example.com"));
        Assert.Equal(key.GetHashCode(), Key("eXAMPLE.com").GetHashCode());
        Assert.NotEqual(key, Key("example.co"));
        Assert.NotEqual(key, Key("example.com.x"));
        Assert.NotEqual(key, Key("example.com", ForwardFlags.DnssecOk));
        Assert.NotEqual(key, Key("example.com", ForwardFlags.CheckingDisabled));
        Assert.NotEqual(key, new ForwardKey(DnsName.Parse("example.com"), RecordType.AAAA, DnsClass.IN, ForwardFlags.None));
        Assert.NotEqual(key, new ForwardKey(DnsName.Parse("example.com"), RecordType.A, DnsClass.CH, ForwardFlags.None));

        // Only A–Z fold: 'Ä' and 'ä' in UTF-8 (0xC3 0x84, 0xC3 0xA4) differ by the same bit and must not.
        Assert.NotEqual(Key("\u00C4.example"), Key("\u00E4.example"));
        Assert.NotEqual(Key("@.example"), Key("`.example"));   // 0x40 and 0x60 are not letters
    }

    private static ForwardKey Key(string name, ForwardFlags flags = ForwardFlags.None)
        => new(DnsName.Parse(name), RecordType.A, DnsClass.IN, flags);

    /// <summary>"RCODE [answers TTL...] [soa TTL MINIMUM]", or "TC answers ..." for a truncated NOERROR.</summary>
    private static DnsMessage Message(string shape)
    {
        var words = shape.Split(' ');
        ushort flags = words[0] switch
        {
            "NOERROR" => 0x8180,
            "FORMERR" => 0x8181,
            "SERVFAIL" => 0x8182,
            "NXDOMAIN" => 0x8183,
            "NOTIMP" => 0x8184,
            "REFUSED" => 0x8185,
            "TC" => 0x8380,
            _ => throw new ArgumentException(shape),
        };
        var answers = new List<ResourceRecord>();
        var authorities = new List<ResourceRecord>();
        if (words.Length > 1 && words[1] == "answers")
        {
            answers.AddRange(words.Skip(2).Select(ttl => Replies.A("a.example", uint.Parse(ttl, System.Globalization.CultureInfo.InvariantCulture))));
        }
        else if (words.Length > 1 && words[1] == "soa")
        {
            authorities.Add(Replies.Soa("example", uint.Parse(words[2], System.Globalization.CultureInfo.InvariantCulture), uint.Parse(words[3], System.Globalization.CultureInfo.InvariantCulture)));
        }

        return new DnsMessage { Flags = flags, Answers = answers, Authorities = authorities };
    }
}
