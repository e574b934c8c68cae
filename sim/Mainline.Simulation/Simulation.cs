// The virtual network: hosts by address, the agenda of deliveries, timers and scenario actions, run on the
// caller's thread. No socket, thread or task: a run is a loop over the event queue, so one seed gives one run.
using System.Net;

namespace Mainline.Simulation;

internal enum SimEventKind : byte
{
    Deliver,
    Timer,
    Action,
}

/// <summary>One agenda entry: a datagram to deliver, a host's timer, or a scenario action.</summary>
internal readonly record struct SimEvent(SimEventKind Kind, Host? To, Host? From, byte[]? Data, Action? Action);

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
    private readonly EventQueue<SimEvent> _queue = new();
    private readonly Dictionary<uint, Host> _byAddress = [];

    public Simulation(ulong seed, NetworkOptions network)
    {
        Seed = seed;
        Model = new NetworkModel(network, seed);
        Addresses = new Addresses(SimRandom.For(seed, "addresses"));
        Ids = SimRandom.For(seed, "ids");
    }

    public ulong Seed { get; }

    public NetworkModel Model { get; }

    /// <summary>Where new hosts get their addresses.</summary>
    public Addresses Addresses { get; }

    /// <summary>The stream the free bits of node ids come from.</summary>
    public SimRandom Ids { get; }

    /// <summary>Virtual time in milliseconds.</summary>
    public long Now => _queue.Now;

    public TrafficCounters Traffic { get; } = new();

    /// <summary>Events run so far (deliveries, timers, actions).</summary>
    public long EventsProcessed => _queue.Processed;

    public int PendingEvents => _queue.Count;

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
        host.JoinedAt = Now;
        host.Unresponsive = mayBeUnresponsive && Model.IsUnresponsive(host.Address);
        _byAddress.Add(host.Address, host);
        return host;
    }

    /// <summary>The host at <paramref name="address"/>, if one is there now.</summary>
    public Host? Find(uint address) => _byAddress.GetValueOrDefault(address);

    /// <summary>Takes <paramref name="host"/> off the network silently: its address stops answering.</summary>
    public void Depart(Host host)
    {
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
        Traffic.Sent++;
        Traffic.Bytes += datagram.Length;
        Traffic.Classify(datagram);
        from.SentCount++;
        if (to.Port != Addresses.Port || !Addresses.TryToUInt32(to.Address, out var address))
        {
            Traffic.NoHost++;
            return;
        }

        from.NoteSent(address, Now);
        if (Model.Lost(from.Address, from.SentCount))
        {
            Traffic.Lost++;
            return;
        }

        if (!_byAddress.TryGetValue(address, out var target))
        {
            Traffic.NoHost++;
            return;
        }

        _queue.Enqueue(Now + Model.DelayMs(from.Address, address), new SimEvent(SimEventKind.Deliver, target, from, datagram, null));
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
            _queue.Enqueue(at, new SimEvent(SimEventKind.Timer, host, null, null, null));
        }
    }

    /// <summary>Runs <paramref name="action"/> at virtual time <paramref name="at"/>.</summary>
    public void Schedule(long at, Action action) => _queue.Enqueue(at, new SimEvent(SimEventKind.Action, null, null, null, action));

    /// <summary>Runs the next event; false when none is left.</summary>
    public bool Step()
    {
        if (!_queue.TryDequeue(out var time, out var e))
        {
            return false;
        }

        switch (e.Kind)
        {
            case SimEventKind.Deliver:
                var to = e.To!;
                if (!to.Alive)
                {
                    Traffic.DroppedDeparted++;
                }
                else if (!to.Admits(e.From!.Address, time))
                {
                    Traffic.DroppedByNat++;
                }
                else
                {
                    Traffic.Delivered++;
                    to.Receive(e.Data!, e.From!);
                }

                break;
            case SimEventKind.Timer:
                var host = e.To!;
                if (host.Alive && host.TimerAt == time)
                {
                    Traffic.Timers++;
                    host.TimerAt = long.MaxValue;
                    host.OnTimer();
                }

                break;
            default:
                Traffic.Actions++;
                e.Action!();
                break;
        }

        return true;
    }

    /// <summary>Runs every event up to and including <paramref name="time"/>, then sets the clock to it.</summary>
    public void RunUntil(long time)
    {
        while (_queue.TryPeekTime(out var next) && next <= time)
        {
            Step();
        }

        _queue.AdvanceTo(time);
    }

    /// <summary>Runs events until <paramref name="done"/> holds or the clock would pass <paramref name="deadline"/>;
    /// true when <paramref name="done"/> holds.</summary>
    public bool RunUntil(Func<bool> done, long deadline)
    {
        while (!done())
        {
            if (!_queue.TryPeekTime(out var next) || next > deadline)
            {
                _queue.AdvanceTo(deadline);
                return done();
            }

            Step();
        }

        return true;
    }
}
