// The knobs of a scenario run (see Scenario).
namespace Mainline.Simulation;

/// <summary>What a scenario does, with the reason for each default.</summary>
internal sealed record ScenarioOptions
{
    public int Nodes { get; init; } = 1000;

    /// <summary>Puts, and as many gets (one per key).</summary>
    public int Lookups { get; init; } = 100;

    public ulong Seed { get; init; } = 1;

    public NetworkOptions Network { get; init; } = new();

    /// <summary>Fraction of the nodes replaced per hour. Default 0.1, the CLI default.</summary>
    public double ChurnPerHour { get; init; } = 0.1;

    public double ChurnShape { get; init; } = ChurnModel.DefaultShape;

    /// <summary>Joins per virtual second. Default 200: the bootstrap node then answers ~200 find_node queries and
    /// sends ~200 probes a second, which the real routers do many times over, and 100,000 nodes join in ~8 virtual
    /// minutes, before the first 15-minute table refresh.</summary>
    public double JoinsPerSecond { get; init; } = 200;

    /// <summary>Quiet time after the last join, so its lookups finish. Default 30 s.</summary>
    public long SettleMs { get; init; } = 30_000;

    /// <summary>Puts (then gets) started per virtual second. Default 20: lookups overlap, as on a busy relay.</summary>
    public double OperationsPerSecond { get; init; } = 20;

    /// <summary>Virtual time between the puts and the gets (churn runs meanwhile). Default 0.</summary>
    public long WaitBeforeGetsMs { get; init; }

    /// <summary>Republish interval during the wait; 0 for none. Each key is put again, same item, by a random node.</summary>
    public long RepublishEveryMs { get; init; }

    /// <summary>Hostile nodes placed next to each key's target after the puts. Default 0.</summary>
    public int HostilesPerKey { get; init; }

    /// <summary>How the hostile nodes lie.</summary>
    public HostileBehaviour HostileBehaviour { get; init; } = HostileBehaviour.Eclipse;

    /// <summary>Whether each get starts with the key's hostile nodes among its candidates (the worst case: every
    /// lookup meets them), rather than only when honest nodes list them. Default true.</summary>
    public bool HostileSeedsGets { get; init; } = true;

    /// <summary>Bytes of each value. Default 100: a typical pkarr packet is a few hundred bytes of DNS.</summary>
    public int ValueBytes { get; init; } = 100;

    /// <summary>The nodes' BEP 5 bucket refresh (NodeCore.Refresh.cs). Default true; false measures the
    /// reference's behaviour (self-lookups only).</summary>
    public bool BucketRefresh { get; init; } = true;

    /// <summary>Whether the nodes ping the senders of queries and add those that answer (NodeCore.Server.cs).
    /// Default true; false measures the reference's behaviour (only responders to our lookups are added).</summary>
    public bool ProbeQuerySenders { get; init; } = true;

    /// <summary>Queries in flight per lookup (α); 0: no bound, the reference's. Default: the node's default.</summary>
    public int LookupParallelism { get; init; } = DhtOptions.DefaultLookupParallelism;

    /// <summary>Whether lookups stop waiting for queries past their adaptive timeout (NodeCore.Rtt.cs). Default true;
    /// false measures the reference's behaviour (every query holds its lookup up to the 2 s timeout).</summary>
    public bool AdaptiveTimeouts { get; init; } = true;

    /// <summary>Whether lookups give free query slots to the fastest of the equally close nodes (NodeCore.Lookups.cs).
    /// Default true; false: closest first, as the reference.</summary>
    public bool PreferFastNodes { get; init; } = true;

    /// <summary>Whether a get without a value looks past its 20 closest nodes (NodeCore.Lookups.cs). Default true.</summary>
    public bool WidenValuelessGets { get; init; } = true;

    /// <summary>Threads that run the simulation (Simulation.Threads); the run is the same for any number.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount >= 2 ? 2 : 1;

    /// <summary>Progress lines (long runs); null for none.</summary>
    public Action<string>? Progress { get; init; }
}
