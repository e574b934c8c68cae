using Pkarr.Client.Backends;
using Pkarr.Keys;

namespace Pkarr.Client.Tests.Policies;

/// <summary>The publish merge of spec §5.6: the spec's vectors, the NotMostRecent quorum, the specificity ties and
/// the two-level fold.</summary>
public sealed class PublishAccumulatorTests
{
    private static readonly PublishError NoResponses = new(PublishErrorKind.NoResponses);
    private static readonly PublishError NoDhtNodesQueried = new(PublishErrorKind.NoDhtNodesQueried);
    private static readonly PublishError Unexpected = new(PublishErrorKind.UnexpectedResponses);
    private static readonly PublicKey TestKey = PublicKey.Parse("yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no");

    /// <summary>An outcome: a stored-on count (success) or an error.</summary>
    private static PublishAccumulator Fold(params object[] outcomes)
    {
        var accumulator = new PublishAccumulator();
        foreach (var outcome in outcomes)
        {
            switch (outcome)
            {
                case int storedOn:
                    accumulator.AddSuccess(storedOn);
                    break;
                case PublishError error:
                    accumulator.AddError(error);
                    break;
                default:
                    throw new ArgumentException("an outcome is an int or a PublishError", nameof(outcomes));
            }
        }

        return accumulator;
    }

    [Fact]
    public void Spec_vector_successes_give_the_largest_count_not_the_sum()
    {
        var merged = Fold(3, 11, 7);
        Assert.Null(merged.Error);
        Assert.Equal(11, merged.StoredOn);
    }

    [Fact]
    public void Spec_vector_one_not_most_recent_against_one_success_is_not_most_recent()
    {
        var merged = Fold(11, PublishError.NotMostRecent);
        Assert.Equal(PublishError.NotMostRecent, merged.Error);
        Assert.Equal(0, merged.StoredOn);
        Assert.Equal(PublishError.NotMostRecent, Fold(PublishError.NotMostRecent, 11).Error);
    }

    [Fact]
    public void Spec_vector_two_successes_outweigh_one_not_most_recent()
    {
        var merged = Fold(3, 11, PublishError.NotMostRecent);
        Assert.Null(merged.Error);
        Assert.Equal(11, merged.StoredOn);
        // Two against two is a quorum again.
        Assert.Equal(PublishError.NotMostRecent, Fold(3, 11, PublishError.NotMostRecent, PublishError.NotMostRecent).Error);
    }

    [Fact]
    public void Spec_vector_no_dht_nodes_queried_beats_no_responses_on_a_tie_but_not_against_two()
    {
        Assert.Equal(NoDhtNodesQueried, Fold(NoResponses, NoDhtNodesQueried).Error);
        Assert.Equal(NoDhtNodesQueried, Fold(NoDhtNodesQueried, NoResponses).Error);
        Assert.Equal(NoResponses, Fold(NoResponses, NoResponses, NoDhtNodesQueried).Error);
    }

    [Fact]
    public void Spec_vector_rejections_tie_by_the_higher_code_then_the_description()
    {
        var first = new PublishError(PublishErrorKind.Rejected, 400, "first");
        var second = new PublishError(PublishErrorKind.Rejected, 500, "second");
        Assert.Equal(second, Fold(first, second).Error);
        Assert.Equal(second, Fold(second, first).Error);

        var a = new PublishError(PublishErrorKind.Rejected, 400, "a");
        var b = new PublishError(PublishErrorKind.Rejected, 400, "b");
        Assert.Equal(b, Fold(a, b).Error);
        Assert.Equal(b, Fold(b, a).Error);
        // Frequency still comes first.
        Assert.Equal(first, Fold(first, second, first).Error);
    }

    [Fact]
    public void Spec_vector_nothing_is_unexpected_responses()
    {
        var merged = Fold();
        Assert.Equal(Unexpected, merged.Error);
        Assert.Equal(0, merged.StoredOn);
    }

    [Fact]
    public void A_success_with_only_other_errors_is_a_success()
    {
        var merged = Fold(NoResponses, NoResponses, Unexpected, 2);
        Assert.Null(merged.Error);
        Assert.Equal(2, merged.StoredOn);
    }

    [Fact]
    public void Error_specificity_order_is_the_spec_one()
    {
        PublishError[] order =
        [
            PublishError.NotMostRecent,
            new(PublishErrorKind.Rejected, 500, "b"),
            new(PublishErrorKind.Rejected, 500, "a"),
            new(PublishErrorKind.Rejected, 400, "z"),
            NoDhtNodesQueried,
            NoResponses,
            Unexpected,
        ];
        for (int i = 0; i < order.Length; i++)
        {
            for (int j = 0; j < order.Length; j++)
            {
                Assert.Equal(i < j, order[i].MoreSpecificThan(order[j]));
                if (i < j)
                {
                    // Equally frequent, the more specific wins in either order; one more of the other turns it round.
                    Assert.Equal(order[i], Fold(order[i], order[j]).Error);
                    Assert.Equal(order[i], Fold(order[j], order[i]).Error);
                    if (order[j].Kind != PublishErrorKind.NotMostRecent && order[i].Kind != PublishErrorKind.NotMostRecent)
                    {
                        Assert.Equal(order[j], Fold(order[j], order[i], order[j]).Error);
                    }
                }
            }
        }
    }

    [Fact]
    public void Not_most_recent_wins_without_successes_even_when_outnumbered_by_errors()
    {
        // The quorum rule: one NotMostRecent is at least the zero successes.
        Assert.Equal(PublishError.NotMostRecent, Fold(NoResponses, NoResponses, PublishError.NotMostRecent).Error);
    }

    [Fact]
    public void Spec_two_level_example_relays_not_most_recent_outweighs_the_dht_success()
    {
        var relays = Fold(3, PublishError.NotMostRecent);
        Assert.Equal(PublishError.NotMostRecent, relays.Error);

        var combined = new PublishAccumulator();
        combined.Add(new PublishResult { PublicKey = TestKey, Error = relays.Error });
        combined.AddSuccess(20);
        Assert.Equal(PublishError.NotMostRecent, combined.Error);

        // A flat fold of the same three outcomes gives the opposite verdict.
        var flat = Fold(3, PublishError.NotMostRecent, 20);
        Assert.Null(flat.Error);
        Assert.Equal(20, flat.StoredOn);
    }

    [Fact]
    public void Spec_two_level_example_relays_no_responses_then_dht_rejected_goes_to_rejected()
    {
        var rejected = new PublishError(PublishErrorKind.Rejected, 301, "cas mismatch");
        var relays = Fold(NoResponses, NoResponses);
        Assert.Equal(NoResponses, relays.Error);

        var combined = new PublishAccumulator();
        combined.Add(new PublishResult { PublicKey = TestKey, Error = relays.Error });
        combined.AddError(rejected);
        Assert.Equal(rejected, combined.Error);

        // Flat, the two NoResponses outnumber the rejection.
        Assert.Equal(NoResponses, Fold(NoResponses, NoResponses, rejected).Error);
    }

    [Fact]
    public void Adding_a_folded_success_keeps_its_stored_count()
    {
        var combined = new PublishAccumulator();
        combined.Add(new PublishResult { PublicKey = TestKey, StoredOn = 7 });
        combined.Add(new PublishResult { PublicKey = TestKey, StoredOn = 4 });
        Assert.Null(combined.Error);
        Assert.Equal(7, combined.StoredOn);
    }
}
