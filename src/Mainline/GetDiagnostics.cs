namespace Mainline;

/// <summary>Counters of a BEP 44 get (§8.3).</summary>
public sealed record GetDiagnostics
{
    /// <summary>Nodes queried.</summary>
    public int Queried { get; internal set; }

    /// <summary>Replies carrying a valid value (copies of one item included).</summary>
    public int Values { get; internal set; }

    /// <summary>Replies with a token but no value.</summary>
    public int NoValues { get; internal set; }

    /// <summary>Replies saying "nothing more recent than the requested seq".</summary>
    public int NoMoreRecent { get; internal set; }

    /// <summary>Replies with a value that failed verification.</summary>
    public int InvalidValues { get; internal set; }

    /// <summary>Replies of the wrong shape or from read-only nodes.</summary>
    public int InvalidResponses { get; internal set; }

    /// <summary>Error replies.</summary>
    public int KrpcErrors { get; internal set; }

    /// <summary>Rounds: hops from the first nodes asked to the farthest node that answered (1 when only they did).</summary>
    public int Rounds { get; internal set; }

    /// <summary>All replies counted above.</summary>
    public int Responded => Values + NoValues + NoMoreRecent + InvalidValues + InvalidResponses + KrpcErrors;

    /// <summary>Queried nodes that never answered.</summary>
    public int TimedOut => Math.Max(0, Queried - Responded);
}
