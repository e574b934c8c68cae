// The network between simulated nodes: delays, loss, NAT. Every draw is seeded; the per-pair and per-node ones
// are hashed from (seed, addresses) rather than drawn in order, so they need no table, are symmetric, and stay the
// same whatever else the run does.
//
//   one-way delay(a → b) = RTT(a, b) / 2 + access(a) + access(b)
//   RTT(a, b)            = log-normal(median, σ), hashed from (seed, min(a, b), max(a, b))
//   access(x)            = exponential(mean), hashed from (seed, x): the last-mile hop of each end
//   loss                 = independent per datagram, hashed from (seed, sender, sender's datagram count)
//   unresponsive(x)      = hashed from (seed, x) < fraction: behind a NAT or firewall (see Host.Unresponsive)
namespace Mainline.Simulation;

/// <summary>Parameters of the network model, with the reason for each default.</summary>
internal sealed record NetworkOptions
{
    /// <summary>Median round trip between two nodes' networks. Default 100 ms: the default, in line with
    /// the median of Internet host-to-host latencies in the King data set (Gummadi, Saroiu and Gribble, IMW 2002).</summary>
    public double RttMedianMs { get; init; } = 100;

    /// <summary>σ of the log-normal round trip. Default 0.6, an assumption: it puts the 10th percentile at ~46 ms,
    /// the 90th at ~216 ms and the 99th at ~400 ms, the spread of the King data set's bulk (tens of ms within a
    /// continent, 200–400 ms across the world).</summary>
    public double RttSigma { get; init; } = 0.6;

    /// <summary>Mean one-way access delay of each node (its last-mile hop), exponential. Default 5 ms, an
    /// assumption: cable and DSL first hops take a few ms, a few mobile or Wi-Fi ones tens of ms.</summary>
    public double AccessDelayMeanMs { get; init; } = 5;

    /// <summary>Probability that a datagram is lost. Default 1 %, the default.</summary>
    public double Loss { get; init; } = 0.01;

    /// <summary>Fraction of nodes that drop unsolicited datagrams. Default 20 %, the default (NATed and
    /// firewalled nodes that still query, and appear in routing tables, on the real DHT).</summary>
    public double Unresponsive { get; init; } = 0.2;

    /// <summary>How long an unresponsive node's NAT lets datagrams in from an address it sent to. Default 60 s, an
    /// assumption: home NATs keep UDP mappings 30–180 s (RFC 4787 asks for at least 2 minutes; many use less).</summary>
    public long NatMappingMs { get; init; } = 60_000;
}

/// <summary>The seeded delays, losses and NAT flags of <see cref="NetworkOptions"/>.</summary>
internal sealed class NetworkModel(NetworkOptions options, ulong rootSeed)
{
    private readonly ulong _rttSeed = SimRandom.Derive(rootSeed, "rtt");
    private readonly ulong _accessSeed = SimRandom.Derive(rootSeed, "access");
    private readonly ulong _lossSeed = SimRandom.Derive(rootSeed, "loss");
    private readonly ulong _natSeed = SimRandom.Derive(rootSeed, "unresponsive");

    public NetworkOptions Options { get; } = options;

    /// <summary>The round trip between the networks of <paramref name="a"/> and <paramref name="b"/>, symmetric.</summary>
    public double RttMs(uint a, uint b)
    {
        var (lo, hi) = a < b ? (a, b) : (b, a);
        var h1 = SimRandom.Mix(_rttSeed ^ (((ulong)lo << 32) | hi));
        var h2 = SimRandom.Mix(h1 ^ 0x5851F42D4C957F2DUL);
        var z = Distributions.NormalFromUniforms(SimRandom.ToUnit(h1), SimRandom.ToUnit(h2));
        return Options.RttMedianMs * Math.Exp(Options.RttSigma * z);
    }

    /// <summary>The one-way access delay of <paramref name="address"/>.</summary>
    public double AccessMs(uint address) =>
        -Options.AccessDelayMeanMs * Math.Log(1 - SimRandom.ToUnit(SimRandom.Mix(_accessSeed ^ address)));

    /// <summary>The one-way delay from <paramref name="from"/> to <paramref name="to"/>, whole ms, at least 1.</summary>
    public long DelayMs(uint from, uint to) =>
        Math.Max(1, (long)Math.Round((RttMs(from, to) / 2) + AccessMs(from) + AccessMs(to)));

    /// <summary>Whether the <paramref name="count"/>-th datagram sent by <paramref name="from"/> is lost.</summary>
    public bool Lost(uint from, long count) =>
        Options.Loss > 0 && SimRandom.ToUnit(SimRandom.Mix(SimRandom.Mix(_lossSeed ^ from) + (ulong)count)) < Options.Loss;

    /// <summary>Whether the node at <paramref name="address"/> drops unsolicited datagrams.</summary>
    public bool IsUnresponsive(uint address) =>
        Options.Unresponsive > 0 && SimRandom.ToUnit(SimRandom.Mix(_natSeed ^ address)) < Options.Unresponsive;
}
