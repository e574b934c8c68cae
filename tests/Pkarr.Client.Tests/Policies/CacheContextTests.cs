using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Client.Tests.Policies.Fixture;

namespace Pkarr.Client.Tests.Policies;

/// <summary>The cache context rules of spec §5.3: floor, covered invalid seq, acceptability, the two lower bounds.</summary>
public sealed class CacheContextTests
{
    private static CacheContext Context(CachedPacket? cached, TimeProvider clock, uint min = 300, uint max = 86400) =>
        new(cached, min, max, clock);

    [Fact]
    public void Below_floor_is_a_packet_the_cached_one_is_more_recent_than()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(Fresh(Packet(keypair, 10), clock), clock);

        Assert.True(context.BelowFloor(Packet(keypair, 9)));
        Assert.False(context.BelowFloor(Packet(keypair, 10)));
        Assert.False(context.BelowFloor(Packet(keypair, 11)));

        // Without a cached packet there is no floor.
        Assert.False(Context(null, clock).BelowFloor(Packet(keypair, 0)));
    }

    [Fact]
    public void Below_floor_on_equal_timestamps_follows_the_dns_byte_tie_break()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var first = Packet(keypair, 10, "first");
        var second = Packet(keypair, 10, "second");
        Assert.True(second.MoreRecentThan(first));

        Assert.True(Context(Fresh(second, clock), clock).BelowFloor(first));
        Assert.False(Context(Fresh(first, clock), clock).BelowFloor(second));
        // The identical packet is not below itself: equal packets still come back.
        Assert.False(Context(Fresh(first, clock), clock).BelowFloor(first));
    }

    [Fact]
    public void Invalid_seq_is_covered_only_up_to_the_cached_timestamp_and_never_when_negative()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(Fresh(Packet(keypair, 10), clock), clock);

        Assert.True(context.InvalidSeqCovered(9));
        Assert.True(context.InvalidSeqCovered(10));
        Assert.False(context.InvalidSeqCovered(11));
        Assert.False(context.InvalidSeqCovered(-1));
        Assert.False(context.InvalidSeqCovered(long.MinValue));

        Assert.False(Context(null, clock).InvalidSeqCovered(0));
        Assert.True(Context(Fresh(Packet(keypair, 0), clock), clock).InvalidSeqCovered(0));
    }

    [Fact]
    public void Acceptable_means_not_expired_under_the_client_ttls()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, 10, ttl: 300);
        var context = Context(null, clock);

        Assert.True(context.Acceptable(Aged(packet, clock, 0)));
        Assert.True(context.Acceptable(Aged(packet, clock, 299)));
        Assert.False(context.Acceptable(Aged(packet, clock, 300)));
        Assert.False(context.Acceptable(Aged(packet, clock, 301)));

        // The clock moves: an entry seen now becomes unacceptable 300 s later.
        var seenNow = Fresh(packet, clock);
        clock.Advance(TimeSpan.FromSeconds(299));
        Assert.True(context.Acceptable(seenNow));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(context.Acceptable(seenNow));
    }

    [Fact]
    public void Acceptable_uses_the_clamped_ttl_not_the_record_ttl()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var shortTtl = Aged(Packet(keypair, 10, ttl: 30), clock, 100);
        var longTtl = Aged(Packet(keypair, 10, ttl: 7200), clock, 4000);

        // A 30 s record is trusted for the 300 s minimum; a 7200 s record only for a 3600 s maximum.
        Assert.True(Context(null, clock, 300, 86400).Acceptable(shortTtl));
        Assert.False(Context(null, clock, 0, 86400).Acceptable(shortTtl));
        Assert.True(Context(null, clock, 300, 86400).Acceptable(longTtl));
        Assert.False(Context(null, clock, 300, 3600).Acceptable(longTtl));
    }

    [Fact]
    public void With_maximum_ttl_zero_every_answer_is_acceptable_although_every_packet_is_expired()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var fresh = Fresh(Packet(keypair, 10), clock);
        var old = Aged(Packet(keypair, 10), clock, 100_000);

        Assert.True(fresh.IsExpired(0, 0, clock));
        var context = Context(null, clock, 0, 0);
        Assert.True(context.Acceptable(fresh));
        Assert.True(context.Acceptable(old));

        // The same old entry under a non-zero maximum is refused.
        Assert.False(Context(null, clock, 0, 1).Acceptable(old));
    }

    [Fact]
    public void Final_is_acceptable_and_not_below_the_floor()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(Expired(Packet(keypair, 10), clock), clock);

        Assert.True(context.Final(Fresh(Packet(keypair, 11), clock)));
        Assert.True(context.Final(Fresh(Packet(keypair, 10), clock)));
        Assert.False(context.Final(Fresh(Packet(keypair, 9), clock)));
        Assert.False(context.Final(Expired(Packet(keypair, 11), clock)));
    }

    [Theory]
    [InlineData(10UL, 9L)]
    [InlineData(1UL, 0L)]
    [InlineData(784111777500000UL, 784111777499999L)]
    [InlineData(9223372036854775807UL, 9223372036854775806L)]
    [InlineData(18446744073709551615UL, 9223372036854775807L)]
    public void Dht_lower_bound_is_the_cached_timestamp_minus_one(ulong cached, long bound)
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        Assert.Equal(bound, Context(Fresh(Packet(keypair, cached), clock), clock).DhtLowerBound);
    }

    [Fact]
    public void There_is_no_dht_lower_bound_without_a_cached_packet_or_at_timestamp_zero()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        Assert.Null(Context(null, clock).DhtLowerBound);
        Assert.Null(Context(Fresh(Packet(keypair, 0), clock), clock).DhtLowerBound);
        Assert.NotNull(Context(Fresh(Packet(keypair, 1), clock), clock).DhtLowerBound);
    }

    [Fact]
    public void Relay_lower_bound_is_one_second_earlier_and_dated_to_the_second()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        // Spec §10.1: a packet at 08:49:37.5 is asked for with If-Modified-Since 08:49:36.
        var bound = Context(Fresh(Packet(keypair, 784111777500000), clock), clock).RelayLowerBound;
        Assert.Equal(new Timestamp(784111776500000), bound);
        Assert.Equal("Sun, 06 Nov 1994 08:49:36 GMT", bound!.Value.ToHttpDate());

        Assert.Equal(new Timestamp(0), Context(Fresh(Packet(keypair, 1_000_000), clock), clock).RelayLowerBound);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(999_999UL)]
    public void There_is_no_relay_lower_bound_below_one_second(ulong cached)
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        Assert.Null(Context(Fresh(Packet(keypair, cached), clock), clock).RelayLowerBound);
        Assert.Null(Context(null, clock).RelayLowerBound);
    }
}
