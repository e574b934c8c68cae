// The scenarios of issue 14 on one simulated network: N nodes join from one bootstrap node; mutable puts of random
// keys (real Ed25519-signed BEP 44 items) from random nodes; gets of them from other random nodes, optionally after
// a wait with churn (an hour: "a put followed by gets after a simulated hour of churn") during which the items may be
// republished (the republish cycle). Every choice (keys, nodes, times) comes from the seeded streams.
using System.Diagnostics;
using System.Net;
using Mainline.Rpc;

namespace Mainline.Simulation;

/// <summary>A network of honest nodes and the workload run on it.</summary>
internal sealed class Scenario
{
    private double _joinLookups;
    private double _joinRefreshes;
    private const long OperationTimeoutMs = 5 * 60_000;

    private readonly ScenarioOptions _options;
    private readonly DhtOptions _nodeOptions;
    private readonly IReadOnlyList<IPEndPoint> _bootstrapList;
    private readonly SimRandom _churnRandom;
    private readonly SimRandom _workload;
    private readonly List<HonestHost> _live = [];
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private ulong _serial;
    private long _nextProgressAt = 1 << 18;
    private double _memoryPerNodeKib = double.NaN;
    private List<double> _tableSizes = [];

    public Scenario(ScenarioOptions options)
    {
        _options = options;
        Simulation = new Simulation(options.Seed, options.Network) { Threads = options.Threads };
        Churn = new ChurnModel(options.ChurnPerHour, options.ChurnShape);
        _churnRandom = SimRandom.For(options.Seed, "churn");
        _workload = SimRandom.For(options.Seed, "workload");
        _nodeOptions = Overlay(NodeOptions(bootstrap: false));
        var (address, id) = Simulation.NextIdentity();
        Bootstrap = new HonestHost(Simulation, address, id, Overlay(NodeOptions(bootstrap: true)), [], SimRandom.Derive(options.Seed, "node", _serial++));
        Simulation.Add(Bootstrap, mayBeUnresponsive: false);
        _bootstrapList = [Bootstrap.EndPoint];
        Simulation.Departed = OnDeparted;
    }

    public Simulation Simulation { get; }

    public ChurnModel Churn { get; }

    /// <summary>The one node every other joins from; it never leaves.</summary>
    public HonestHost Bootstrap { get; }

    /// <summary>The honest nodes online now, the bootstrap node included.</summary>
    public IReadOnlyList<HonestHost> Live => _live;

    public int Joined { get; private set; }

    public int DepartedCount { get; private set; }

    public List<MutableItem> Items { get; } = [];

    public List<PutRecord> Puts { get; } = [];

    /// <summary>The hostile hosts of each key.</summary>
    public Dictionary<int, List<HostileHost>> Hostiles { get; } = [];

    public List<GetRecord> Gets { get; } = [];

    private int _wrongValuesReturned;

    /// <summary>Values delivered to a get that are neither the key's item nor an older item of its key.</summary>
    public int WrongValuesReturned => _wrongValuesReturned;

    /// <summary>Runs the whole scenario and reports.</summary>
    public static SimulationReport Run(ScenarioOptions options)
    {
        var scenario = new Scenario(options);
        return scenario.RunAll();
    }

    /// <summary>Joins, puts, waits (with churn and republishing) and gets; returns the report.</summary>
    public SimulationReport RunAll()
    {
        Build();
        PutAll();
        for (var key = 0; key < Items.Count && _options.HostilesPerKey > 0; key++)
        {
            AddHostiles(key, SignItem(key, 0), _options.HostilesPerKey, _options.HostileBehaviour);
        }

        WaitWithChurn();
        GetAll();
        return Report();
    }

    /// <summary>The republisher's default holder minimum (Pkarr.Client's RepublisherOptions.MinimumHolders), which
    /// the calibration's holder table justifies (docs/simulation.md).</summary>
    public const int RepublisherHolders = 17;

    /// <summary>Node options: server mode, no logging, default rate limits; the bootstrap node has a router's
    /// limits (no per-/24 or reply-byte budget), as the real routers answer thousands of joins a second.</summary>
    public static DhtOptions NodeOptions(bool bootstrap) => new()
    {
        Mode = DhtMode.Server,
        Bootstrap = [],
        LoggerFactory = null,
        RateLimitPerSubnet = bootstrap ? 0 : 100,
        ReplyBytesPerSecond = bootstrap ? 0 : 256 * 1024,
    };

    /// <summary>The scenario's choice of how nodes fill their tables (bucket refresh, query senders).</summary>
    private DhtOptions Overlay(DhtOptions options)
    {
        options.BucketRefresh = _options.BucketRefresh;
        options.ProbeQuerySenders = _options.ProbeQuerySenders;
        options.LookupParallelism = _options.LookupParallelism;
        options.AdaptiveTimeouts = _options.AdaptiveTimeouts;
        options.PreferFastNodes = _options.PreferFastNodes;
        options.WidenValuelessGets = _options.WidenValuelessGets;
        return options;
    }

    /// <summary>Joins the other N − 1 nodes at <see cref="ScenarioOptions.JoinsPerSecond"/>, then lets their lookups
    /// settle; measures the heap per node.</summary>
    public void Build()
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        _live.Add(Bootstrap);
        Bootstrap.LiveIndex = 0;
        var count = _options.Nodes - 1;
        for (var i = 0; i < count; i++)
        {
            Simulation.Schedule((long)(i * 1000.0 / _options.JoinsPerSecond), () => Join(initial: true));
        }

        var lastJoin = (long)(count * 1000.0 / _options.JoinsPerSecond);
        RunUntil(lastJoin + _options.SettleMs, "join");
        _tableSizes = [.. _live.Where(h => h != Bootstrap).Select(h => (double)h.Core.Table.Count)];
        _joinLookups = _live.Where(h => h != Bootstrap).Select(h => (double)h.Core.LookupsStarted).DefaultIfEmpty().Average();
        _joinRefreshes = _live.Where(h => h != Bootstrap).Select(h => (double)h.Core.RefreshesStarted).DefaultIfEmpty().Average();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        _memoryPerNodeKib = (after - before) / 1024.0 / Math.Max(1, Simulation.HostCount);
    }

    /// <summary>A new honest node joins now: a fresh address and secure id, a self-lookup through the bootstrap node.</summary>
    public HonestHost Join(bool initial)
    {
        var (address, id) = Simulation.NextIdentity();
        var host = new HonestHost(Simulation, address, id, _nodeOptions, _bootstrapList, SimRandom.Derive(_options.Seed, "node", _serial++));
        Simulation.Add(host);
        host.LiveIndex = _live.Count;
        _live.Add(host);
        Joined++;
        if (Churn.Enabled)
        {
            var lifetime = initial ? Churn.ResidualLifetime(_churnRandom) : Churn.FreshLifetime(_churnRandom);
            if (lifetime < long.MaxValue / 4)
            {
                Simulation.Schedule(Simulation.Now + lifetime, () => Simulation.Depart(host));
            }
        }

        host.Run(core => core.StartSelfLookup());
        return host;
    }

    private void OnDeparted(Host host)
    {
        if (host is not HonestHost honest || honest.LiveIndex < 0)
        {
            return;
        }

        var last = _live[^1];
        _live[honest.LiveIndex] = last;
        last.LiveIndex = honest.LiveIndex;
        _live.RemoveAt(_live.Count - 1);
        honest.LiveIndex = -1;
        DepartedCount++;
        // A newcomer takes its place, so the network keeps N nodes (during the join phase too).
        Join(initial: false);
    }

    /// <summary>A random live honest node other than the bootstrap node (when there is another).</summary>
    public HonestHost RandomNode()
    {
        if (_live.Count == 1)
        {
            return _live[0];
        }

        var i = 1 + _workload.Next(_live.Count - 1);
        return _live[i] == Bootstrap ? _live[0] : _live[i];
    }

    /// <summary>A signed item for key <paramref name="key"/> at <paramref name="seq"/>: the key's secret seed
    /// comes from the seed and the key's number, so the same key signs the same item in every run.</summary>
    public MutableItem SignItem(int key, long seq)
    {
        var random = SimRandom.For(_options.Seed, "key", (ulong)key);
        Span<byte> secret = stackalloc byte[32];
        random.Fill(secret);
        var value = new byte[_options.ValueBytes];
        random.Fill(value);
        value[0] = (byte)seq;
        return MutableItem.Sign(secret, value, seq);
    }

    /// <summary>Puts <paramref name="item"/> from <paramref name="from"/> now; the record fills in when it ends.</summary>
    public PutRecord Put(HonestHost from, MutableItem item, int key)
    {
        var record = new PutRecord { Key = key, From = from, StartedAt = Simulation.Now };
        Puts.Add(record);
        from.Run(core => core.StartPut(new PutOperation(PutKind.Mutable, item.Target) { Item = item }, result =>
        {
            record.DoneMs = Simulation.Now - record.StartedAt;
            record.Status = result.Status;
            record.StoredOn = result.StoredOn;
            Simulation.AfterMillisecond(from, () => record.StoredOnClosest20 = HoldersAmongClosest(item));
        }));
        return record;
    }

    /// <summary>How many of the 20 live, answering honest nodes closest to the item's target hold it (or a newer
    /// item of its key): where a well-formed overlay stores a put, and where a get looks first.</summary>
    public int HoldersAmongClosest(MutableItem item)
    {
        var target = item.Target;
        var closest = new List<HonestHost>(Limits.K + 1);
        var byDistance = Comparer<HonestHost>.Create((a, b) => target.CompareDistance(a.Id, b.Id));
        foreach (var host in _live)
        {
            if (host.Unresponsive || (closest.Count == Limits.K && byDistance.Compare(host, closest[^1]) >= 0))
            {
                continue;
            }

            var at = closest.BinarySearch(host, byDistance);
            closest.Insert(at < 0 ? ~at : at, host);
            if (closest.Count > Limits.K)
            {
                closest.RemoveAt(Limits.K);
            }
        }

        var now = Simulation.Now;
        return closest.Count(h => h.Core.Storage.GetMutable(target, now) is { } held && held.Seq >= item.Seq);
    }

    /// <summary>Starts a get of key <paramref name="key"/> (most recent item <paramref name="latest"/>) from
    /// <paramref name="from"/> now, with optional extra seeds (hostile tests hand it their nodes).</summary>
    public GetRecord Get(HonestHost from, int key, MutableItem latest, IEnumerable<DhtNode>? extraSeeds = null)
    {
        var record = new GetRecord { Key = key, From = from, StartedAt = Simulation.Now };
        Gets.Add(record);
        var lookup = from.Run(core => core.StartLookup(new LookupKey(latest.Target, LookupKind.Get, null), null, extraSeeds));
        lookup.Subscribe(value =>
        {
            var elapsed = Simulation.Now - record.StartedAt;
            record.Values++;
            record.FirstValueMs ??= elapsed;
            if (value is MutableValue { Item: var item } && item.Key.Span.SequenceEqual(latest.Key.Span) && item.Seq <= latest.Seq)
            {
                if (item.Seq == latest.Seq && item.Signature.Span.SequenceEqual(latest.Signature.Span))
                {
                    record.MostRecentMs ??= elapsed;
                }
                else
                {
                    record.SawOtherValue = true;
                }
            }
            else
            {
                record.SawOtherValue = true;
                Interlocked.Increment(ref _wrongValuesReturned); // gets of hosts of both partitions count here
            }
        });
        lookup.OnCompleted(l =>
        {
            record.DoneMs = Simulation.Now - record.StartedAt;
            record.Queried = l.Diagnostics.Queried;
            record.Rounds = l.Diagnostics.Rounds;
            record.InvalidValues = l.Diagnostics.InvalidValues;
        });
        return record;
    }

    /// <summary>
    /// Places <paramref name="count"/> hostile hosts next to the target of key <paramref name="key"/> (BEP 42-secure
    /// ids ground to share <see cref="HostileHost.MatchedPrefixBits"/> leading bits with it, from the key's own seeded
    /// stream), each listing the others, joined through the bootstrap node. They hold <paramref name="stale"/> (an
    /// older item of the key), the key's current item and a forgery under another key, and lie as
    /// <paramref name="behaviour"/> says; a rollback starts at once against the nodes that hold the current item.
    /// </summary>
    public List<HostileHost> AddHostiles(int key, MutableItem stale, int count, HostileBehaviour behaviour)
    {
        var current = Items[key];
        var forged = MutableItem.Sign(new byte[32], "forged"u8, current.Seq + 1);
        var hostiles = new List<HostileHost>();
        var grind = SimRandom.For(_options.Seed, "hostiles", (ulong)key);
        for (var i = 0; i < count; i++)
        {
            var (address, id) = HostileHost.GrindIdentity(current.Target, i, Simulation.Addresses, grind);
            hostiles.Add(Simulation.Add(
                new HostileHost(Simulation, address, id, behaviour) { Stale = stale, Current = current, Forged = forged },
                mayBeUnresponsive: false));
        }

        List<DhtNode> nodes = [.. hostiles.Select(h => new DhtNode(h.Id, h.EndPoint))];
        var holders = behaviour == HostileBehaviour.SeqRollback
            ? _live.Where(h => h.Core.Storage.GetMutable(current.Target, Simulation.Now) is not null).Select(h => h.EndPoint).ToList()
            : [];
        foreach (var host in hostiles)
        {
            host.Listed.AddRange(nodes);
            host.SendQuery(new Krpc.FindNodeQuery(host.Id, host.Id), Bootstrap.EndPoint);
            host.AttackHolders(holders, current.Target);
        }

        Hostiles[key] = hostiles;
        return hostiles;
    }

    /// <summary>Puts <see cref="ScenarioOptions.Lookups"/> new keys from random nodes, spread in time, and runs
    /// until they end.</summary>
    public void PutAll()
    {
        var start = Simulation.Now;
        for (var i = 0; i < _options.Lookups; i++)
        {
            var key = i;
            Items.Add(SignItem(key, 1));
            Simulation.Schedule(start + (long)(i * 1000.0 / _options.OperationsPerSecond), () => Put(RandomNode(), Items[key], key));
        }

        var spread = (long)(_options.Lookups * 1000.0 / _options.OperationsPerSecond);
        RunUntil(() => Puts.Count == _options.Lookups && Puts.TrueForAll(p => p.Settled), start + spread + OperationTimeoutMs, "puts");
    }

    /// <summary>Waits <see cref="ScenarioOptions.WaitBeforeGetsMs"/> with churn, republishing every key every
    /// <see cref="ScenarioOptions.RepublishEveryMs"/> when set.</summary>
    public void WaitWithChurn()
    {
        var end = Simulation.Now + _options.WaitBeforeGetsMs;
        if (_options.RepublishEveryMs > 0)
        {
            for (var at = Simulation.Now + _options.RepublishEveryMs; at < end; at += _options.RepublishEveryMs)
            {
                for (var i = 0; i < Items.Count; i++)
                {
                    var key = i;
                    Simulation.Schedule(at + (long)(i * 1000.0 / _options.OperationsPerSecond), () => Put(RandomNode(), Items[key], key));
                }
            }
        }

        RunUntil(end, "wait");
    }

    /// <summary>Gets every key once from random nodes, spread in time, and runs until the lookups end.</summary>
    public void GetAll()
    {
        var start = Simulation.Now;
        var first = Gets.Count;
        for (var i = 0; i < Items.Count; i++)
        {
            var key = i;
            var seeds = _options.HostileSeedsGets && Hostiles.TryGetValue(key, out var hostiles)
                ? hostiles.Select(h => new DhtNode(h.Id, h.EndPoint)).ToList()
                : null;
            Simulation.Schedule(start + (long)(i * 1000.0 / _options.OperationsPerSecond), () => Get(RandomNode(), key, Items[key], seeds));
        }

        var spread = (long)(Items.Count * 1000.0 / _options.OperationsPerSecond);
        RunUntil(() => Gets.Count == first + Items.Count && Gets.Skip(first).All(g => g.Settled), start + spread + OperationTimeoutMs, "gets");
    }

    public void RunUntil(long time, string phase) => RunUntil(() => false, time, phase);

    /// <summary>Runs the simulation until <paramref name="done"/> or <paramref name="deadline"/>, with progress lines.</summary>
    public bool RunUntil(Func<bool> done, long deadline, string phase)
    {
        if (_options.Progress is not { } progress)
        {
            return Simulation.RunUntil(done, deadline);
        }

        while (true)
        {
            var chunkEnd = Simulation.EventsProcessed + (1 << 16);
            if (Simulation.RunUntil(() => done() || Simulation.EventsProcessed >= chunkEnd, deadline) && done())
            {
                progress(ProgressLine($"{phase} done"));
                return true;
            }

            if (Simulation.EventsProcessed < chunkEnd)
            {
                progress(ProgressLine($"{phase} done"));
                return done(); // the deadline came first
            }

            if (Simulation.EventsProcessed >= _nextProgressAt)
            {
                _nextProgressAt = Simulation.EventsProcessed + (1 << 20);
                progress(ProgressLine(phase));
            }
        }
    }

    private string ProgressLine(string phase) =>
        $"{phase}: t={Simulation.Now / 1000.0:F1} s, {Simulation.HostCount} hosts, {Simulation.EventsProcessed} events, "
        + $"{Simulation.EventsProcessed / _wall.Elapsed.TotalSeconds:F0} events/s, wall {_wall.Elapsed.TotalSeconds:F1} s, "
        + $"heap {GC.GetTotalMemory(false) / 1048576} MiB, "
        + $"{GC.GetTotalAllocatedBytes() / Math.Max(1, Simulation.EventsProcessed)} B allocated per event, "
        + $"GC paused {GC.GetTotalPauseDuration().TotalSeconds:F1} s, generations 0/1/2 collected {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} times";

    /// <summary>The report of what ran so far.</summary>
    public SimulationReport Report()
    {
        var gets = Gets;
        var found = gets.Where(g => g.MostRecentMs is not null).ToList();
        var wall = _wall.Elapsed.TotalSeconds;
        var traffic = Simulation.Traffic;
        return new SimulationReport
        {
            Nodes = _options.Nodes,
            Lookups = _options.Lookups,
            Seed = _options.Seed,
            SuccessRate = Rate(found.Count, gets.Count),
            AnyValueRate = Rate(gets.Count(g => g.FirstValueMs is not null), gets.Count),
            TtfvMsP50 = Percentiles.Of(Values(gets, g => g.FirstValueMs), 50),
            TtfvMsP99 = Percentiles.Of(Values(gets, g => g.FirstValueMs), 99),
            CompletionMsP50 = Percentiles.Of(Values(gets, g => g.MostRecentMs), 50),
            CompletionMsP99 = Percentiles.Of(Values(gets, g => g.MostRecentMs), 99),
            LookupDoneMsP50 = Percentiles.Of(Values(gets, g => g.DoneMs), 50),
            QueriesPerLookupP50 = Percentiles.Of(Values(gets, g => g.DoneMs is null ? null : g.Queried), 50),
            QueriesPerLookupP99 = Percentiles.Of(Values(gets, g => g.DoneMs is null ? null : g.Queried), 99),
            RoundsPerLookupP50 = Percentiles.Of(Values(gets, g => g.DoneMs is null ? null : g.Rounds), 50),
            RoundsPerLookupP99 = Percentiles.Of(Values(gets, g => g.DoneMs is null ? null : g.Rounds), 99),
            PutSuccessRate = Rate(Puts.Count(p => p.Status == PutStatus.Stored), Puts.Count),
            StoredOnP50 = Percentiles.Of(Values(Puts, p => p.StoredOn), 50),
            StoredOnP10 = Percentiles.Of(Values(Puts, p => p.StoredOn), 10),
            PutsReachingHoldersRate = Rate(Puts.Count(p => p.DoneMs is not null && p.StoredOn >= RepublisherHolders), Puts.Count),
            StoredOnClosest20P50 = Percentiles.Of(Values(Puts, p => p.StoredOnClosest20), 50),
            StoredOnClosest20P10 = Percentiles.Of(Values(Puts, p => p.StoredOnClosest20), 10),
            TableSizeP50 = Percentiles.Of(_tableSizes, 50),
            TableSizeP10 = Percentiles.Of(_tableSizes, 10),
            JoinLookupsPerNode = Math.Round(_joinLookups, 2),
            JoinRefreshesPerNode = Math.Round(_joinRefreshes, 2),
            JoinedNodes = Joined + 1,
            DepartedNodes = DepartedCount,
            SimulatedMs = Simulation.Now,
            Events = Simulation.EventsProcessed,
            Datagrams = traffic.Sent,
            DatagramsLost = traffic.Lost,
            QueriesByMethod = traffic.QueriesByMethod,
            DatagramsDroppedByNat = traffic.DroppedByNat,
            DatagramsToDeparted = traffic.DroppedDeparted + traffic.NoHost,
            InvalidValuesSeen = gets.Sum(g => g.InvalidValues),
            HostileHosts = Hostiles.Values.Sum(h => h.Count),
            HostileAnswers = Hostiles.Values.Sum(h => h.Sum(x => x.Answered)),
            WrongValuesReturned = WrongValuesReturned,
            WallS = Math.Round(wall, 3),
            EventsPerWallSecond = Math.Round(Simulation.EventsProcessed / Math.Max(wall, 1e-9)),
            MemoryPerNodeKib = Math.Round(_memoryPerNodeKib, 2),
            PeakRssMib = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
        };
    }

    private static double Rate(int count, int total) => total == 0 ? 0 : (double)count / total;

    private static List<double> Values<T>(List<T> records, Func<T, long?> select) =>
        [.. records.Select(select).Where(v => v is not null).Select(v => (double)v!.Value)];
}
