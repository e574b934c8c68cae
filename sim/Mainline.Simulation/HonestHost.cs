// An honest node: Mainline's own protocol logic (NodeCore) driven on virtual time. The simulator feeds it
// datagrams and timer calls, takes every datagram it wants to send after each call, and keeps one timer event at
// its next deadline.
using System.Net;
using Mainline.Rpc;

namespace Mainline.Simulation;

/// <summary>A host running the real node logic.</summary>
internal sealed class HonestHost : Host
{
    private NodeCore? _core;

    public HonestHost(Simulation simulation, uint address, NodeId id, DhtOptions options, IReadOnlyList<IPEndPoint> bootstrap, ulong entropySeed)
        : base(simulation, address, id)
    {
        _core = new NodeCore(options, bootstrap, id, EndPoint, new SeededEntropy(entropySeed), simulation.Now);
    }

    /// <summary>The node's logic; gone once the host departed.</summary>
    public NodeCore Core => _core ?? throw new InvalidOperationException("The host has departed.");

    /// <summary>The host's slot in its scenario's list of live hosts (for O(1) removal).</summary>
    internal int LiveIndex { get; set; } = -1;

    /// <summary>Runs <paramref name="command"/> on the node at the current virtual time, then sends what it queued.</summary>
    public void Run(Action<NodeCore> command) => Run(core =>
    {
        command(core);
        return 0;
    });

    /// <summary>Runs <paramref name="command"/> on the node at the current virtual time, then sends what it queued.</summary>
    public T Run<T>(Func<NodeCore, T> command)
    {
        var core = Core;
        core.SetTime(Simulation.Now);
        var result = command(core);
        Flush();
        return result;
    }

    public override void Receive(byte[] datagram, Host from)
    {
        if (_core is { } core)
        {
            core.Receive(datagram, from.EndPoint, Simulation.Now);
            Flush();
        }
    }

    public override void OnTimer()
    {
        if (_core is { } core)
        {
            core.Tick(Simulation.Now);
            Flush();
        }
    }

    public override void OnDeparted()
    {
        // The node vanishes without a word (its lookups' callbacks never fire), as a peer that goes offline.
        _core = null;
    }

    /// <summary>Sends every queued datagram and sets the timer to the node's next deadline.</summary>
    public void Flush()
    {
        if (_core is not { } core)
        {
            return;
        }

        while (core.TryTakeOutgoing(out var outgoing))
        {
            Simulation.Send(this, outgoing.Datagram, outgoing.To);
        }

        Simulation.SetTimer(this, core.NextDeadline);
    }
}
