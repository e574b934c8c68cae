using System.Net;
using Mainline.Rpc;

namespace Mainline.Tests.Core;

/// <summary>
/// A few NodeCores on 127.0.0.1 exchanging datagrams in memory: no socket, no thread, no clock. Delivery is
/// instant and in order; time moves only when <see cref="RunUntil"/> jumps to the next deadline.
/// </summary>
internal sealed class CoreNetwork
{
    private readonly Dictionary<IPEndPoint, NodeCore> _byEndPoint = [];

    public List<NodeCore> Cores { get; } = [];

    /// <summary>Every datagram delivered, in delivery order (what the cores sent to each other).</summary>
    public List<(IPEndPoint From, IPEndPoint To, byte[] Datagram)> Log { get; } = [];

    public long Now { get; private set; }

    /// <summary>Datagrams to endpoints no core listens on (they vanish, as to a silent host).</summary>
    public int Lost { get; private set; }

    public static DhtOptions Options(DhtMode mode = DhtMode.Server) => Testnet.NodeOptions([], mode, TimeProvider.System);

    /// <summary>Adds a core at 127.0.0.1:<paramref name="port"/> whose randomness comes from <paramref name="seed"/>.</summary>
    public NodeCore Add(int port, ulong seed, IReadOnlyList<IPEndPoint>? bootstrap = null, NodeId? id = null, DhtOptions? options = null)
    {
        var entropy = new SeededEntropy(seed);
        Span<byte> idBytes = stackalloc byte[NodeId.Size];
        entropy.Fill(idBytes);
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        var core = new NodeCore(options ?? Options(), bootstrap ?? [], id ?? new NodeId(idBytes), endPoint, entropy, Now);
        Cores.Add(core);
        _byEndPoint[endPoint] = core;
        return core;
    }

    /// <summary>Delivers every waiting datagram, and those the deliveries cause, until none is left (bounded).</summary>
    public void Pump(int maxDatagrams = 10_000)
    {
        var delivered = 0;
        bool any;
        do
        {
            any = false;
            foreach (var core in Cores)
            {
                while (core.TryTakeOutgoing(out var outgoing))
                {
                    any = true;
                    Assert.True(++delivered <= maxDatagrams, "the cores did not go quiet");
                    Log.Add((core.LocalEndPoint, outgoing.To, outgoing.Datagram));
                    if (_byEndPoint.TryGetValue(outgoing.To, out var to))
                    {
                        to.Receive(outgoing.Datagram, core.LocalEndPoint, Now);
                    }
                    else
                    {
                        Lost++;
                    }
                }
            }
        }
        while (any);
    }

    /// <summary>Pumps, then moves time from deadline to deadline (ticking the cores due) until
    /// <paramref name="done"/> holds; fails past <paramref name="maxMs"/> of virtual time, or when one instant's
    /// deliveries pass <paramref name="maxDatagrams"/>.</summary>
    public void RunUntil(Func<bool> done, long maxMs = 60_000, int maxDatagrams = 10_000)
    {
        var end = Now + maxMs;
        Pump(maxDatagrams);
        while (!done())
        {
            var next = Cores.Min(c => c.NextDeadline);
            Assert.True(next <= end, "the condition did not hold in time");
            Now = Math.Max(Now, next);
            TickDue();
            Pump(maxDatagrams);
        }
    }

    /// <summary>Pumps, then moves time to <paramref name="time"/>, ticking the cores at each deadline on the way.</summary>
    public void AdvanceTo(long time, int maxDatagrams = 10_000)
    {
        Pump(maxDatagrams);
        while (true)
        {
            var next = Cores.Min(c => c.NextDeadline);
            if (next > time)
            {
                Now = Math.Max(Now, time);
                return;
            }

            Now = Math.Max(Now, next);
            TickDue();
            Pump(maxDatagrams);
        }
    }

    private void TickDue()
    {
        foreach (var core in Cores)
        {
            if (core.NextDeadline <= Now)
            {
                core.Tick(Now);
            }
        }
    }

    /// <summary>Runs <paramref name="command"/> on <paramref name="core"/> at the network's time.</summary>
    public T Run<T>(NodeCore core, Func<NodeCore, T> command)
    {
        core.SetTime(Now);
        return command(core);
    }
}
