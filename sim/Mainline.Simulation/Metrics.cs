// What a run measured, and percentiles computed the same way on every machine.
namespace Mainline.Simulation;

/// <summary>Percentiles by the nearest-rank method on a sorted copy: exact, no interpolation, reproducible.</summary>
internal static class Percentiles
{
    /// <summary>The <paramref name="p"/>-th percentile (0–100) of <paramref name="values"/>; NaN when empty.</summary>
    public static double Of(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.ToArray();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>One get of the workload.</summary>
internal sealed class GetRecord
{
    public required int Key { get; init; }

    /// <summary>The node that runs the get (churn may take it away mid-lookup).</summary>
    public required Host From { get; init; }
    public required long StartedAt { get; init; }

    /// <summary>Time to the first verified value, ms; null when none came.</summary>
    public long? FirstValueMs { get; set; }

    /// <summary>Time until the most recent published value arrived, ms; null when it never did.</summary>
    public long? MostRecentMs { get; set; }

    /// <summary>Time until the lookup finished, ms; null while running.</summary>
    public long? DoneMs { get; set; }
    public int Queried { get; set; }

    /// <summary>Hops from the first nodes asked to the farthest node that answered.</summary>
    public int Rounds { get; set; }
    public int Values { get; set; }
    public int InvalidValues { get; set; }

    /// <summary>A value came that is not what the publisher last put (an older seq, or a forgery).</summary>
    public bool SawOtherValue { get; set; }

    /// <summary>Ended, or never will: its node departed.</summary>
    public bool Settled => DoneMs is not null || !From.Alive;
}

/// <summary>One put of the workload.</summary>
internal sealed class PutRecord
{
    public required int Key { get; init; }

    /// <summary>The node that runs the put (churn may take it away before it ends).</summary>
    public required Host From { get; init; }
    public required long StartedAt { get; init; }
    public long? DoneMs { get; set; }
    public PutStatus? Status { get; set; }
    public int StoredOn { get; set; }

    /// <summary>When it ended: how many of the 20 live answering nodes closest to the target hold the item.</summary>
    public int? StoredOnClosest20 { get; set; }

    /// <summary>Ended, or never will: its node departed.</summary>
    public bool Settled => DoneMs is not null || !From.Alive;
}

/// <summary>The report of a run. Everything but <see cref="WallS"/>, <see cref="PeakRssMib"/>,
/// <see cref="EventsPerWallSecond"/> and the memory figures is a function of the seed and the options.</summary>
internal sealed record SimulationReport
{
    public required int Nodes { get; init; }
    public required int Lookups { get; init; }
    public required ulong Seed { get; init; }
    public required double SuccessRate { get; init; }
    public required double AnyValueRate { get; init; }
    public required double TtfvMsP50 { get; init; }
    public required double TtfvMsP99 { get; init; }
    public required double CompletionMsP50 { get; init; }
    public required double CompletionMsP99 { get; init; }
    public required double LookupDoneMsP50 { get; init; }
    public required double QueriesPerLookupP50 { get; init; }
    public required double QueriesPerLookupP99 { get; init; }
    public required double RoundsPerLookupP50 { get; init; }
    public required double RoundsPerLookupP99 { get; init; }
    public required double PutSuccessRate { get; init; }
    public required double StoredOnP50 { get; init; }
    public required double StoredOnP10 { get; init; }

    /// <summary>Puts that ended stored on at least <see cref="Scenario.RepublisherHolders"/> nodes: how often the
    /// republisher's holder minimum is met on the first attempt.</summary>
    public required double PutsReachingHoldersRate { get; init; }

    /// <summary>Of the 20 live answering honest nodes closest to a put's target, how many held the item when the
    /// put ended (median, 10th percentile): how well the overlay routes a put to where gets look.</summary>
    public required double StoredOnClosest20P50 { get; init; }
    public required double StoredOnClosest20P10 { get; init; }

    /// <summary>Routing-table size of the live honest nodes (the bootstrap node aside) after the join phase.</summary>
    public required double TableSizeP50 { get; init; }
    public required double TableSizeP10 { get; init; }

    /// <summary>Lookups a node started during the join phase, on average (its self-lookup, bucket refreshes, …),
    /// and how many of them were bucket refreshes.</summary>
    public required double JoinLookupsPerNode { get; init; }
    public required double JoinRefreshesPerNode { get; init; }
    public required int JoinedNodes { get; init; }
    public required int DepartedNodes { get; init; }
    public required long SimulatedMs { get; init; }
    public required long Events { get; init; }
    public required long Datagrams { get; init; }
    public required long DatagramsLost { get; init; }

    /// <summary>Queries sent by every host, by KRPC method.</summary>
    public required IReadOnlyDictionary<string, long> QueriesByMethod { get; init; }
    public required long DatagramsDroppedByNat { get; init; }
    public required long DatagramsToDeparted { get; init; }
    public required int InvalidValuesSeen { get; init; }
    public required int HostileHosts { get; init; }
    public required int HostileAnswers { get; init; }
    public required int WrongValuesReturned { get; init; }
    public required double WallS { get; init; }
    public required double EventsPerWallSecond { get; init; }
    public required double MemoryPerNodeKib { get; init; }
    public required double PeakRssMib { get; init; }
}
