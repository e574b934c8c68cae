using Pkarr.Client.Backends;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Client.Tests.Policies.Fixture;

namespace Pkarr.Client.Tests.Policies;

/// <summary>The resolve merge of spec §5.5, rule by rule, with and without a cache context.</summary>
public sealed class ResolveAccumulatorTests
{
    private static ResolveResult Merge(CacheContext? context, params ResolveResult[] results)
    {
        var accumulator = new ResolveAccumulator(context);
        foreach (var result in results)
        {
            accumulator.Add(result);
        }

        return accumulator.Result;
    }

    private static ResolveResult Merge(params ResolveResult[] results) => Merge(null, results);

    private static CacheContext Context(CachedPacket? cached, TimeProvider clock, uint min = 300, uint max = 86400) =>
        new(cached, min, max, clock);

    [Fact]
    public void Spec_vectors_for_invalid_seq_against_packets()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var packet10 = Found(Fresh(Packet(keypair, 10), clock));

        // Packet ts 10 + invalid 10 → the packet; packet ts 10 + invalid 11 → invalid 11; invalid 10 + 11 → 11.
        Assert.True(Merge(packet10, Failed(ResolveErrorKind.InvalidSignedPacket, 10)).Packet!.Timestamp == new Timestamp(10));
        Assert.Equal(ResolveError.InvalidSignedPacket(11), Merge(packet10, Failed(ResolveErrorKind.InvalidSignedPacket, 11)).Error);
        Assert.Equal(ResolveError.InvalidSignedPacket(11), Merge(Failed(ResolveErrorKind.InvalidSignedPacket, 11), packet10).Error);
        Assert.Equal(
            ResolveError.InvalidSignedPacket(11),
            Merge(Failed(ResolveErrorKind.InvalidSignedPacket, 10), Failed(ResolveErrorKind.InvalidSignedPacket, 11)).Error);
        Assert.Equal(
            ResolveError.InvalidSignedPacket(11),
            Merge(Failed(ResolveErrorKind.InvalidSignedPacket, 11), Failed(ResolveErrorKind.InvalidSignedPacket, 10)).Error);
    }

    [Fact]
    public void Spec_vector_no_responses_and_no_usable_responses_gives_no_usable_responses()
    {
        Assert.Equal(ResolveErrorKind.NoUsableResponses, Merge(Failed(ResolveErrorKind.NoResponses), Failed(ResolveErrorKind.NoUsableResponses)).Error!.Kind);
        Assert.Equal(ResolveErrorKind.NoUsableResponses, Merge(Failed(ResolveErrorKind.NoUsableResponses), Failed(ResolveErrorKind.NoResponses)).Error!.Kind);
    }

    [Fact]
    public void The_most_recent_packet_wins_whatever_the_order()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var older = Found(Fresh(Packet(keypair, 10), clock));
        var newer = Found(Fresh(Packet(keypair, 11), clock));

        Assert.Equal(new Timestamp(11), Merge(older, newer).Packet!.Timestamp);
        Assert.Equal(new Timestamp(11), Merge(newer, older).Packet!.Timestamp);
    }

    [Fact]
    public void Equal_timestamps_go_to_the_larger_dns_bytes_and_identical_packets_to_the_later_sighting()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var first = Packet(keypair, 10, "first");
        var second = Packet(keypair, 10, "second");
        Assert.True(Merge(Found(Fresh(first, clock)), Found(Fresh(second, clock))).Packet!.IsSameAs(second));
        Assert.True(Merge(Found(Fresh(second, clock)), Found(Fresh(first, clock))).Packet!.IsSameAs(second));

        var earlier = Aged(first, clock, 50);
        var later = Aged(first, clock, 10);
        Assert.Equal(later.LastSeen, Merge(Found(earlier), Found(later)).Entry!.LastSeen);
        Assert.Equal(later.LastSeen, Merge(Found(later), Found(earlier)).Entry!.LastSeen);
    }

    [Fact]
    public void A_packet_below_the_floor_counts_as_empty_and_one_above_is_returned()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(Expired(Packet(keypair, 10), clock), clock);

        var below = Merge(context, Found(Fresh(Packet(keypair, 9), clock)));
        Assert.Equal(ResolveError.NotFound, below.Error);

        var above = Merge(context, Found(Fresh(Packet(keypair, 11), clock)));
        Assert.Equal(new Timestamp(11), above.Packet!.Timestamp);

        // The identical packet is not below the floor.
        Assert.True(Merge(context, Found(Fresh(Packet(keypair, 10), clock))).Found);

        // Without a context the same older packet is a packet.
        Assert.Equal(new Timestamp(9), Merge(Found(Fresh(Packet(keypair, 9), clock))).Packet!.Timestamp);
    }

    [Fact]
    public void An_empty_answer_outweighs_any_number_of_errors()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(Expired(Packet(keypair, 10), clock), clock);

        var result = Merge(
            context,
            Failed(ResolveErrorKind.NoResponses),
            Failed(ResolveErrorKind.NoResponses),
            Found(Fresh(Packet(keypair, 9), clock)));
        Assert.Equal(ResolveError.NotFound, result.Error);

        Assert.Equal(ResolveError.NotFound, Merge(Failed(ResolveErrorKind.NoResponses), Failed(ResolveErrorKind.NoResponses), ResolveResult.NotFound).Error);
        Assert.Equal(ResolveErrorKind.NoResponses, Merge(Failed(ResolveErrorKind.NoResponses), Failed(ResolveErrorKind.NoResponses)).Error!.Kind);
    }

    [Fact]
    public void An_invalid_seq_the_cache_covers_counts_as_empty_and_a_newer_one_is_reported()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(Expired(Packet(keypair, 10), clock), clock);

        Assert.Equal(ResolveError.NotFound, Merge(context, Failed(ResolveErrorKind.InvalidSignedPacket, 10)).Error);
        Assert.Equal(ResolveError.NotFound, Merge(context, Failed(ResolveErrorKind.InvalidSignedPacket, 3)).Error);
        Assert.Equal(ResolveError.InvalidSignedPacket(11), Merge(context, Failed(ResolveErrorKind.InvalidSignedPacket, 11)).Error);

        // Without a context nothing is covered.
        Assert.Equal(ResolveError.InvalidSignedPacket(10), Merge(Failed(ResolveErrorKind.InvalidSignedPacket, 10)).Error);
    }

    [Fact]
    public void A_negative_invalid_seq_is_never_covered()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(Expired(Packet(keypair, 10), clock), clock);
        Assert.Equal(ResolveError.InvalidSignedPacket(-5), Merge(context, Failed(ResolveErrorKind.InvalidSignedPacket, -5)).Error);
    }

    [Fact]
    public void With_a_context_a_fresh_packet_beats_a_more_recent_expired_one()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(null, clock);
        var expiredNewer = Found(Expired(Packet(keypair, 20), clock));
        var freshOlder = Found(Fresh(Packet(keypair, 15), clock));

        Assert.Equal(new Timestamp(15), Merge(context, expiredNewer, freshOlder).Packet!.Timestamp);
        Assert.Equal(new Timestamp(15), Merge(context, freshOlder, expiredNewer).Packet!.Timestamp);

        // Without a context only recency counts.
        Assert.Equal(new Timestamp(20), Merge(expiredNewer, freshOlder).Packet!.Timestamp);

        // With nothing fresh, the most recent expired packet is the answer.
        Assert.Equal(new Timestamp(20), Merge(context, expiredNewer, Found(Expired(Packet(keypair, 15), clock))).Packet!.Timestamp);
    }

    [Fact]
    public void Among_fresh_packets_the_most_recent_is_the_fresh_candidate()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(null, clock);
        var result = Merge(
            context,
            Found(Fresh(Packet(keypair, 15), clock)),
            Found(Expired(Packet(keypair, 30), clock)),
            Found(Fresh(Packet(keypair, 17), clock)),
            Found(Fresh(Packet(keypair, 16), clock)));
        Assert.Equal(new Timestamp(17), result.Packet!.Timestamp);
    }

    [Fact]
    public void With_maximum_ttl_zero_every_packet_is_a_fresh_candidate_so_the_most_recent_wins()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(null, clock, 0, 0);
        var result = Merge(context, Found(Expired(Packet(keypair, 20), clock)), Found(Fresh(Packet(keypair, 15), clock)));
        Assert.Equal(new Timestamp(20), result.Packet!.Timestamp);
    }

    [Fact]
    public void The_invalid_seq_is_compared_with_the_fresh_candidate_not_the_most_recent_packet()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        var context = Context(null, clock);
        var expiredNewer = Found(Expired(Packet(keypair, 20), clock));
        var freshOlder = Found(Fresh(Packet(keypair, 15), clock));

        // The fresh 15 is the answer, and 15 < 17: the invalid value hides it although the expired 20 is newer.
        Assert.Equal(ResolveError.InvalidSignedPacket(17), Merge(context, expiredNewer, freshOlder, Failed(ResolveErrorKind.InvalidSignedPacket, 17)).Error);
        // Invalid 15 does not hide the fresh 15 (timestamp ≥ seq).
        Assert.Equal(new Timestamp(15), Merge(context, expiredNewer, freshOlder, Failed(ResolveErrorKind.InvalidSignedPacket, 15)).Packet!.Timestamp);
        // Without a context the 20 is the answer and 17 does not hide it.
        Assert.Equal(new Timestamp(20), Merge(expiredNewer, freshOlder, Failed(ResolveErrorKind.InvalidSignedPacket, 17)).Packet!.Timestamp);
    }

    [Fact]
    public void The_invalid_seq_is_compared_with_the_full_unsigned_packet_timestamp()
    {
        var clock = Clock();
        using var keypair = Keypair.Random();
        // A relay may serve a packet whose timestamp does not fit a DHT seq; it is still newer than any seq.
        var huge = Found(Fresh(Packet(keypair, 1UL << 63), clock));

        Assert.Equal(new Timestamp(1UL << 63), Merge(huge, Failed(ResolveErrorKind.InvalidSignedPacket, 5)).Packet!.Timestamp);
        Assert.Equal(new Timestamp(1UL << 63), Merge(huge, Failed(ResolveErrorKind.InvalidSignedPacket, long.MaxValue)).Packet!.Timestamp);
        Assert.Equal(ResolveError.InvalidSignedPacket(long.MaxValue), Merge(Found(Fresh(Packet(keypair, long.MaxValue - 1), clock)), Failed(ResolveErrorKind.InvalidSignedPacket, long.MaxValue)).Error);
    }

    [Fact]
    public void An_invalid_seq_outweighs_not_found_and_errors()
    {
        var result = Merge(
            ResolveResult.NotFound,
            Failed(ResolveErrorKind.NoResponses),
            Failed(ResolveErrorKind.NoResponses),
            Failed(ResolveErrorKind.InvalidSignedPacket, 4));
        Assert.Equal(ResolveError.InvalidSignedPacket(4), result.Error);
    }

    [Fact]
    public void The_most_frequent_error_wins_over_a_more_specific_one()
    {
        var result = Merge(Failed(ResolveErrorKind.NoResponses), Failed(ResolveErrorKind.NoUsableResponses), Failed(ResolveErrorKind.NoResponses));
        Assert.Equal(ResolveErrorKind.NoResponses, result.Error!.Kind);

        result = Merge(Failed(ResolveErrorKind.UnexpectedResponses), Failed(ResolveErrorKind.UnexpectedResponses), Failed(ResolveErrorKind.NoDhtNodesQueried));
        Assert.Equal(ResolveErrorKind.UnexpectedResponses, result.Error!.Kind);
    }

    [Theory]
    [InlineData(ResolveErrorKind.NoUsableResponses, ResolveErrorKind.NoDhtNodesQueried)]
    [InlineData(ResolveErrorKind.NoUsableResponses, ResolveErrorKind.NoResponses)]
    [InlineData(ResolveErrorKind.NoUsableResponses, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(ResolveErrorKind.NoDhtNodesQueried, ResolveErrorKind.NoResponses)]
    [InlineData(ResolveErrorKind.NoDhtNodesQueried, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(ResolveErrorKind.NoResponses, ResolveErrorKind.UnexpectedResponses)]
    public void Equally_frequent_errors_go_to_the_more_specific_in_either_order(ResolveErrorKind specific, ResolveErrorKind general)
    {
        Assert.Equal(specific, Merge(Failed(specific), Failed(general)).Error!.Kind);
        Assert.Equal(specific, Merge(Failed(general), Failed(specific)).Error!.Kind);
        Assert.Equal(specific, Merge(Failed(general), Failed(specific), Failed(specific), Failed(general)).Error!.Kind);
        // One more of the general kind turns it round.
        Assert.Equal(general, Merge(Failed(general), Failed(specific), Failed(general)).Error!.Kind);
    }

    [Fact]
    public void Error_specificity_order_is_the_spec_one_with_higher_invalid_seq_first()
    {
        ResolveError[] order =
        [
            ResolveError.InvalidSignedPacket(11),
            ResolveError.InvalidSignedPacket(10),
            ResolveError.NotFound,
            new(ResolveErrorKind.NoUsableResponses),
            new(ResolveErrorKind.NoDhtNodesQueried),
            new(ResolveErrorKind.NoResponses),
            new(ResolveErrorKind.UnexpectedResponses),
        ];
        for (int i = 0; i < order.Length; i++)
        {
            for (int j = 0; j < order.Length; j++)
            {
                Assert.Equal(i < j, order[i].MoreSpecificThan(order[j]));
            }
        }
    }

    [Fact]
    public void No_responses_at_all_is_unexpected_responses()
    {
        Assert.Equal(ResolveErrorKind.UnexpectedResponses, Merge().Error!.Kind);
        Assert.Equal(ResolveErrorKind.UnexpectedResponses, Merge(Context(null, Clock(), 300, 86400)).Error!.Kind);
        // One empty answer is enough to make it not found.
        Assert.Equal(ResolveErrorKind.NotFound, Merge(ResolveResult.NotFound).Error!.Kind);
    }
}
