// The virtual network: hosts by address, the agenda of deliveries, timers and scenario actions. No socket and no
// thread per host: a run is a loop over the agenda, so one seed gives one run.
//
// Two threads, one run. A datagram takes at least a millisecond and a timer is set at least a millisecond ahead, so
// nothing that happens at virtual time T can change another host's events at T: only its own. The hosts are dealt
// into partitions, each with its own agenda, and the events of one millisecond can run on two threads, each taking
// partitions from its end of the list until they meet (a partition's events stay in order on one thread). What they
// schedule is held back until both are done, then merged into the agendas in the order of the events that scheduled
// it and numbered from the one counter, which is exactly the order one thread would have numbered it in. So a run on
// two threads is the run on one, bit for bit (a test compares the reports). Scenario actions (joins, departures, puts,
// gets) touch everything and run alone, between the events before and after them.
using System.Net;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Mainline.Simulation;

internal enum SimEventKind : byte
{
    Deliver,
    Timer,
}

/// <summary>One entry of a host's agenda: a datagram to deliver or the host's timer.</summary>
internal readonly record struct SimEvent(SimEventKind Kind, Host To, Host? From, byte[]? Data);

/// <summary>What happened to the datagrams of a run.</summary>
internal sealed class TrafficCounters
{
    public long Sent { get; set; }
    public long Bytes { get; set; }
    public long Lost { get; set; }
    public long NoHost { get; set; }
    public long DroppedDeparted { get; set; }
    public long DroppedByNat { get; set; }
    public long Delivered { get; set; }
    public long Timers { get; set; }
    public long Actions { get; set; }

    /// <summary>Adds <paramref name="other"/>'s counts to these.</summary>
    public void Add(TrafficCounters other)
    {
        Sent += other.Sent;
        Bytes += other.Bytes;
        Lost += other.Lost;
        NoHost += other.NoHost;
        DroppedDeparted += other.DroppedDeparted;
        DroppedByNat += other.DroppedByNat;
        Delivered += other.Delivered;
        Timers += other.Timers;
        Actions += other.Actions;
        foreach (var (method, count) in other.QueriesByMethod)
        {
            QueriesByMethod[method] = QueriesByMethod.GetValueOrDefault(method) + count;
        }
    }

    /// <summary>Queries sent, by KRPC method (replies are not counted): where a run's traffic goes.</summary>
    public SortedDictionary<string, long> QueriesByMethod { get; } = new(StringComparer.Ordinal);

    // Every query sent is counted: the usual names are matched as bytes rather than decoded into a new string each time.
    private static readonly (string Name, byte[] Bytes)[] KnownMethods =
        [.. new[] { "ping", "find_node", "get_peers", "announce_peer", "get", "put" }.Select(m => (m, System.Text.Encoding.ASCII.GetBytes(m)))];

    /// <summary>Counts <paramref name="datagram"/> under its method when it is a query.</summary>
    public void Classify(ReadOnlySpan<byte> datagram)
    {
        // A query's dictionary holds "1:q<length>:<method>" (bencoded keys are sorted, so it precedes "1:t" and "1:y").
        var at = datagram.IndexOf("1:q"u8);
        if (at < 0 || datagram.IndexOf("1:y1:q"u8) < 0)
        {
            return;
        }

        var rest = datagram[(at + 3)..];
        var colon = rest.IndexOf((byte)':');
        if (colon is < 1 or > 2 || !int.TryParse(rest[..colon], out var length) || length > rest.Length - colon - 1)
        {
            return;
        }

        var name = rest.Slice(colon + 1, length);
        string? method = null;
        foreach (var (known, bytes) in KnownMethods)
        {
            if (name.SequenceEqual(bytes))
            {
                method = known;
                break;
            }
        }

        method ??= System.Text.Encoding.ASCII.GetString(name);
        QueriesByMethod[method] = QueriesByMethod.GetValueOrDefault(method) + 1;
    }
}

/// <summary>A deterministic discrete-event simulation of hosts on a modelled network.</summary>
internal sealed class Simulation
{
    /// <summary>Partitions of the hosts. Many more than the two threads, so that a thread done with its share takes what
    /// is left of the other's, and a window's halves end within a few events of each other (at 100,000 nodes a
    /// millisecond holds ~140 events, two or three per partition).</summary>
    internal const int PartitionCount = 64;

    private readonly Partition[] _partitions = [.. Enumerable.Range(0, PartitionCount).Select(_ => new Partition())];
    private readonly List<ScheduledRun> _runs = [];
    private readonly EventQueue<Action> _actions = new();
    private readonly Dictionary<uint, Host> _byAddress = [];
    private readonly SecondThread _second = new();
    private readonly Action _runFromTheTop;
    private long _sequence;
    private long _now;
    private long _actionsRun;
    private int _hostsAdded;
    private bool _inMillisecond;
    private bool _runningEvents;
    private bool _parallel;
    private long _windowTime;
    private long _windowBound;
    // The partitions not yet taken in this window: the first thread takes them from the bottom, the second from the
    // top, so each runs the same partitions window after window (its hosts' data stays in its core's caches) until
    // the two meet. Packed as (next from the bottom) << 32 | (end from the top), taken with one compare-exchange.
    private long _untaken;

    public Simulation(ulong seed, NetworkOptions network)
    {
        Seed = seed;
        Model = new NetworkModel(network, seed);
        Addresses = new Addresses(SimRandom.For(seed, "addresses"));
        Ids = SimRandom.For(seed, "ids");
        _runFromTheTop = () => RunTaken(fromBottom: false);
    }

    public ulong Seed { get; }

    public NetworkModel Model { get; }

    /// <summary>Where new hosts get their addresses.</summary>
    public Addresses Addresses { get; }

    /// <summary>The stream the free bits of node ids come from.</summary>
    public SimRandom Ids { get; }

    /// <summary>Virtual time in milliseconds.</summary>
    public long Now => _now;

    /// <summary>Threads that run a millisecond's events: 2 on a machine with two cores or more, else 1. Any value
    /// gives the same run; 1 or less runs everything on the caller's thread.</summary>
    public int Threads { get; set; } = Environment.ProcessorCount >= 2 ? 2 : 1;

    /// <summary>Hosts below which every millisecond runs on one thread: a small network has a few events per
    /// millisecond, too few to pay for handing half of them to another thread.</summary>
    public int ParallelMinHosts { get; set; } = 1000;

    /// <summary>Milliseconds whose events ran on two threads (diagnostics and tests).</summary>
    public long ParallelMilliseconds { get; private set; }

    /// <summary>What happened to the datagrams so far, summed over the partitions.</summary>
    public TrafficCounters Traffic
    {
        get
        {
            var sum = new TrafficCounters { Actions = _actionsRun };
            foreach (var partition in _partitions)
            {
                sum.Add(partition.Traffic);
            }

            return sum;
        }
    }

    /// <summary>Events run so far (deliveries, timers, actions).</summary>
    public long EventsProcessed => _actionsRun + _partitions.Sum(p => p.Processed);

    public int PendingEvents => _actions.Count + _partitions.Sum(p => p.Agenda.Count);

    /// <summary>Hosts on the network now.</summary>
    public int HostCount => _byAddress.Count;

    /// <summary>Called when a host departs (after <see cref="Host.OnDeparted"/>).</summary>
    public Action<Host>? Departed { get; set; }

    /// <summary>A fresh public address with a secure id for it.</summary>
    public (uint Address, NodeId Id) NextIdentity()
    {
        var address = Addresses.Next();
        return (address, Addresses.SecureId(Addresses.ToIPAddress(address), Ids));
    }

    /// <summary>Puts <paramref name="host"/> on the network now; its NAT flag comes from the model.</summary>
    public T Add<T>(T host, bool mayBeUnresponsive = true)
        where T : Host
    {
        NotInEvent();
        host.JoinedAt = Now;
        host.Unresponsive = mayBeUnresponsive && Model.IsUnresponsive(host.Address);
        host.Partition = _hostsAdded++ % PartitionCount;
        _byAddress.Add(host.Address, host);
        return host;
    }

    /// <summary>The host at <paramref name="address"/>, if one is there now.</summary>
    public Host? Find(uint address) => _byAddress.GetValueOrDefault(address);

    /// <summary>Takes <paramref name="host"/> off the network silently: its address stops answering.</summary>
    public void Depart(Host host)
    {
        NotInEvent();
        if (!host.Alive)
        {
            return;
        }

        host.Alive = false;
        _byAddress.Remove(host.Address);
        host.OnDeparted();
        Departed?.Invoke(host);
    }

    /// <summary>Sends a datagram from <paramref name="from"/>: it is lost, or delivered after the modelled delay
    /// if a host still listens at <paramref name="to"/> then (and its NAT lets it in).</summary>
    public void Send(Host from, byte[] datagram, IPEndPoint to)
    {
        var traffic = _partitions[from.Partition].Traffic;
        traffic.Sent++;
        traffic.Bytes += datagram.Length;
        traffic.Classify(datagram);
        from.SentCount++;
        if (to.Port != Addresses.Port || !Addresses.TryToUInt32(to.Address, out var address))
        {
            traffic.NoHost++;
            return;
        }

        from.NoteSent(address, Now);
        if (Model.Lost(from.Address, from.SentCount))
        {
            traffic.Lost++;
            return;
        }

        if (!_byAddress.TryGetValue(address, out var target))
        {
            traffic.NoHost++;
            return;
        }

        Schedule(from.Partition, Now + Model.DelayMs(from.Address, address), new SimEvent(SimEventKind.Deliver, target, from, datagram));
    }

    /// <summary>Asks for <paramref name="host"/>'s timer at <paramref name="at"/>. A host has one live timer: an
    /// earlier time replaces it (the old event is skipped when it comes up), a later one waits for the current one,
    /// whose handler asks again.</summary>
    public void SetTimer(Host host, long at)
    {
        if (at == long.MaxValue || !host.Alive)
        {
            return;
        }

        at = Math.Max(at, Now + 1);
        if (at < host.TimerAt)
        {
            host.TimerAt = at;
            Schedule(host.Partition, at, new SimEvent(SimEventKind.Timer, host, null, null));
        }
    }

    /// <summary>Runs <paramref name="action"/> at virtual time <paramref name="at"/>, alone.</summary>
    public void Schedule(long at, Action action)
    {
        NotInEvent();
        _actions.Enqueue(new EventKey(Math.Max(at, _now), _sequence++), action);
    }

    /// <summary>Runs <paramref name="action"/>, which reads other hosts (so it must not run beside their events),
    /// once the events of the current millisecond are done; at once outside a run. <paramref name="host"/> is the
    /// host whose event asks: actions run in the order of its partition, then in the order they were asked for.</summary>
    public void AfterMillisecond(Host host, Action action)
    {
        if (_inMillisecond)
        {
            _partitions[host.Partition].AfterMillisecond.Add(action);
        }
        else
        {
            action();
        }
    }

    /// <summary>Runs every event up to and including <paramref name="time"/>, then sets the clock to it.</summary>
    public void RunUntil(long time) => RunUntil(static () => false, time);

    /// <summary>Runs events until <paramref name="done"/> holds or the clock would pass <paramref name="deadline"/>;
    /// true when <paramref name="done"/> holds. <paramref name="done"/> is asked between milliseconds: a
    /// millisecond's events run whole, whatever number of threads runs them.</summary>
    public bool RunUntil(Func<bool> done, long deadline)
    {
        while (!done())
        {
            if (!TryNextTime(out var next) || next > deadline)
            {
                _now = Math.Max(_now, deadline);
                return done();
            }

            RunMillisecond(next);
        }

        return true;
    }

    private bool TryNextTime(out long time)
    {
        time = long.MaxValue;
        if (_actions.TryPeek(out var key))
        {
            time = key.Time;
        }

        foreach (var partition in _partitions)
        {
            if (partition.Agenda.TryPeek(out key) && key.Time < time)
            {
                time = key.Time;
            }
        }

        return time != long.MaxValue;
    }

    /// <summary>Runs the events and actions of millisecond <paramref name="time"/>, each action alone between the
    /// events scheduled before and after it, then the work asked for after the millisecond.</summary>
    private void RunMillisecond(long time)
    {
        _now = time;
        _inMillisecond = true;
        try
        {
            RunEventsAndActions(time);
        }
        finally
        {
            _inMillisecond = false;
        }

        foreach (var partition in _partitions)
        {
            foreach (var action in partition.AfterMillisecond)
            {
                action();
            }

            partition.AfterMillisecond.Clear();
        }
    }

    private void RunEventsAndActions(long time)
    {
        while (true)
        {
            var bound = _actions.TryPeek(out var next) && next.Time == time ? next.Sequence : long.MaxValue;
            RunEvents(time, bound);
            // The action the events stopped at, or one they scheduled for now (on one thread only): it comes after them.
            if (!_actions.TryDequeueAt(time, long.MaxValue, out _, out var action))
            {
                break;
            }

            _actionsRun++;
            action();
        }
    }

    /// <summary>Runs the events due at <paramref name="time"/> that were scheduled before <paramref name="bound"/>.</summary>
    private void RunEvents(long time, long bound)
    {
        _runningEvents = true;
        try
        {
            if (Threads > 1 && _byAddress.Count >= ParallelMinHosts)
            {
                RunInParallel(time, bound);
            }
            else
            {
                RunInOrder(time, bound);
            }
        }
        finally
        {
            _runningEvents = false;
        }
    }

    private void RunInOrder(long time, long bound)
    {
        // One thread: the events in the order they were scheduled, across the partitions.
        while (true)
        {
            Partition? next = null;
            var first = bound;
            foreach (var partition in _partitions)
            {
                if (partition.Agenda.TryPeek(out var key) && key.Time == time && key.Sequence < first)
                {
                    next = partition;
                    first = key.Sequence;
                }
            }

            if (next is null || !next.Agenda.TryDequeueAt(time, bound, out _, out var e))
            {
                return;
            }

            Run(next, e);
        }
    }

    private void RunInParallel(long time, long bound)
    {
        _windowTime = time;
        _windowBound = bound;
        _parallel = true;
        try
        {
            _untaken = PartitionCount;
            _second.Start(_runFromTheTop);
            try
            {
                RunTaken(fromBottom: true);
            }
            finally
            {
                _second.Wait();
            }
        }
        finally
        {
            _parallel = false;
        }

        ParallelMilliseconds++;
        MergeScheduled();
    }

    /// <summary>Runs the window's events of the partitions this thread takes first, one after another.</summary>
    private void RunTaken(bool fromBottom)
    {
        while (TryTake(fromBottom, out var index))
        {
            var partition = _partitions[index];
            while (partition.Agenda.TryDequeueAt(_windowTime, _windowBound, out var key, out var e))
            {
                partition.Source = key.Sequence;
                Run(partition, e);
            }
        }
    }

    /// <summary>Takes the lowest (or highest) partition nobody has taken in this window.</summary>
    private bool TryTake(bool fromBottom, out int index)
    {
        while (true)
        {
            var untaken = Volatile.Read(ref _untaken);
            int bottom = (int)(untaken >> 32), top = (int)untaken;
            if (bottom >= top)
            {
                index = -1;
                return false;
            }

            index = fromBottom ? bottom : top - 1;
            var rest = fromBottom ? ((long)(bottom + 1) << 32) | (uint)top : ((long)bottom << 32) | (uint)(top - 1);
            if (Interlocked.CompareExchange(ref _untaken, rest, untaken) == untaken)
            {
                return true;
            }
        }
    }

    /// <summary>Numbers what the window scheduled in the order of the events that scheduled it and puts it on the
    /// agendas: the numbers one thread would have given. What one event scheduled is a run in its partition's output,
    /// in order; the runs are sorted by the sequence numbers of their events, which are distinct.</summary>
    private void MergeScheduled()
    {
        var runs = _runs;
        runs.Clear();
        for (var p = 0; p < PartitionCount; p++)
        {
            var output = _partitions[p].Output;
            for (var i = 0; i < output.Count;)
            {
                var source = output[i].Source;
                var end = i + 1;
                while (end < output.Count && output[end].Source == source)
                {
                    end++;
                }

                runs.Add(new ScheduledRun(source, p, i, end - i));
                i = end;
            }
        }

        CollectionsMarshal.AsSpan(runs).Sort(static (a, b) => a.Source.CompareTo(b.Source));
        foreach (var run in runs)
        {
            var output = _partitions[run.Partition].Output;
            for (var i = run.Start; i < run.Start + run.Count; i++)
            {
                var next = output[i];
                _partitions[next.Event.To.Partition].Agenda.Enqueue(new EventKey(next.Time, _sequence++), next.Event);
            }
        }

        foreach (var partition in _partitions)
        {
            partition.Output.Clear();
        }
    }

    /// <summary>What one event of a window scheduled: <paramref name="Count"/> entries of a partition's output.</summary>
    private readonly record struct ScheduledRun(long Source, int Partition, int Start, int Count);

    /// <summary>Schedules <paramref name="e"/>, asked for by an event of partition <paramref name="from"/>.</summary>
    private void Schedule(int from, long time, SimEvent e)
    {
        time = Math.Max(time, _now);
        if (_parallel)
        {
            var partition = _partitions[from];
            partition.Output.Add(new Scheduled(partition.Source, time, e));
        }
        else
        {
            _partitions[e.To.Partition].Agenda.Enqueue(new EventKey(time, _sequence++), e);
        }
    }

    private void Run(Partition partition, SimEvent e)
    {
        partition.Processed++;
        var traffic = partition.Traffic;
        var to = e.To;
        if (e.Kind == SimEventKind.Deliver)
        {
            if (!to.Alive)
            {
                traffic.DroppedDeparted++;
            }
            else if (!to.Admits(e.From!.Address, _now))
            {
                traffic.DroppedByNat++;
            }
            else
            {
                traffic.Delivered++;
                to.Receive(e.Data!, e.From!);
            }
        }
        else if (to.Alive && to.TimerAt == _now)
        {
            traffic.Timers++;
            to.TimerAt = long.MaxValue;
            to.OnTimer();
        }
    }

    /// <summary>What changes the set of hosts or the actions is an action's to do: from a host's event it would
    /// race with the events of the other partition.</summary>
    private void NotInEvent()
    {
        if (_runningEvents)
        {
            throw new InvalidOperationException("Hosts are added and removed, and actions scheduled, by actions, not from a host's event.");
        }
    }

    /// <summary>One partition of the hosts: its agenda, counters, and what its events scheduled in a parallel window.</summary>
    private sealed class Partition
    {
        public EventQueue<SimEvent> Agenda { get; } = new();

        public TrafficCounters Traffic { get; } = new();

        public List<Scheduled> Output { get; } = [];

        public List<Action> AfterMillisecond { get; } = [];

        /// <summary>The sequence number of the event running now (parallel windows).</summary>
        public long Source { get; set; }

        public long Processed { get; set; }
    }

    /// <summary>An event scheduled during a parallel window, with the sequence number of the event that scheduled it.</summary>
    private readonly record struct Scheduled(long Source, long Time, SimEvent Event);

    /// <summary>
    /// A thread of its own that runs one piece of work at a time while the caller takes its share of the window.
    /// Windows come thousands of times a virtual second, so both sides spin up to a millisecond before they sleep: a
    /// wake-up through the kernel costs more than a small window's work. The thread ends after a quiet spell and starts
    /// again when needed, so a simulation that is dropped leaves no thread behind.
    /// </summary>
    private sealed class SecondThread
    {
        private const int Idle = 0;
        private const int Posted = 1;
        private const int Finished = 2;

        private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 1_000; // 1 ms
        private const int QuietMs = 200;

        private readonly object _gate = new();
        private Action? _work;
        private ExceptionDispatchInfo? _error;
        private int _state = Idle;
        private bool _alive;

        public void Start(Action work)
        {
            lock (_gate)
            {
                _work = work;
                _error = null;
                Volatile.Write(ref _state, Posted);
                if (!_alive)
                {
                    _alive = true;
                    new Thread(Loop) { IsBackground = true, Name = "simulation window" }.Start();
                }
                else
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }

        public void Wait()
        {
            if (!SpinUntil(Finished))
            {
                lock (_gate)
                {
                    while (_state != Finished)
                    {
                        Monitor.Wait(_gate);
                    }
                }
            }

            _state = Idle;
            _error?.Throw();
        }

        private void Loop()
        {
            while (true)
            {
                if (!SpinUntil(Posted))
                {
                    lock (_gate)
                    {
                        while (_state != Posted)
                        {
                            if (!Monitor.Wait(_gate, QuietMs) && _state != Posted)
                            {
                                _alive = false;
                                return;
                            }
                        }
                    }
                }

                try
                {
                    _work!();
                }
                catch (Exception e)
                {
                    _error = ExceptionDispatchInfo.Capture(e);
                }

                lock (_gate)
                {
                    Volatile.Write(ref _state, Finished);
                    Monitor.PulseAll(_gate);
                }
            }
        }

        private bool SpinUntil(int state)
        {
            var until = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _state) != state)
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() > until)
                {
                    return false;
                }

                Thread.SpinWait(8);
            }

            return true;
        }
    }
}
