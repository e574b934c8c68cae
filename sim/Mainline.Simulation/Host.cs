// A simulated machine: an address, a NAT flag, a lifetime, and whatever answers its datagrams.
using System.Net;

namespace Mainline.Simulation;

/// <summary>
/// One machine on the virtual network. Subclasses decide what it does with a datagram and its timer: an honest
/// node runs the real protocol logic (HonestHost), a hostile one a small responder of its own.
/// </summary>
internal abstract class Host
{
    private Dictionary<uint, long>? _natMappings;

    protected Host(Simulation simulation, uint address, NodeId id)
    {
        Simulation = simulation;
        Address = address;
        EndPoint = new IPEndPoint(Addresses.ToIPAddress(address), Addresses.Port);
        Id = id;
    }

    public Simulation Simulation { get; }

    public uint Address { get; }

    /// <summary>One endpoint object per host, handed to every node that hears from it.</summary>
    public IPEndPoint EndPoint { get; }

    public NodeId Id { get; protected set; }

    public bool Alive { get; internal set; } = true;

    /// <summary>
    /// Behind a NAT or firewall: datagrams from an address this host has not sent to within the NAT's mapping
    /// time are dropped (a port-restricted cone NAT). Replies to its own queries come in; so does a query from a
    /// node it queried moments ago, which is how such nodes enter routing tables on the real DHT.
    /// </summary>
    public bool Unresponsive { get; internal set; }

    public long JoinedAt { get; internal set; }

    /// <summary>When churn takes the host away; <see cref="long.MaxValue"/> for never.</summary>
    public long DepartsAt { get; internal set; } = long.MaxValue;

    /// <summary>Datagrams sent so far (the loss model's per-sender counter).</summary>
    internal long SentCount { get; set; }

    /// <summary>The partition whose agenda holds the host's events (see Simulation).</summary>
    internal int Partition { get; set; }

    /// <summary>The time of the host's one live timer event, or <see cref="long.MaxValue"/>.</summary>
    internal long TimerAt { get; set; } = long.MaxValue;

    /// <summary>A datagram from <paramref name="from"/> arrives at <see cref="Simulation.Now"/>.</summary>
    public abstract void Receive(byte[] datagram, Host from);

    /// <summary>The timer set with <see cref="Simulation.SetTimer"/> is due.</summary>
    public virtual void OnTimer()
    {
    }

    /// <summary>The host leaves the network (churn): it frees what it holds.</summary>
    public virtual void OnDeparted()
    {
    }

    /// <summary>Records an outgoing datagram in the NAT (only for unresponsive hosts).</summary>
    internal void NoteSent(uint to, long now)
    {
        if (!Unresponsive)
        {
            return;
        }

        _natMappings ??= [];
        if (_natMappings.Count >= 512 && !_natMappings.ContainsKey(to))
        {
            // Expired mappings go when the table grows; the order of removal does not change which remain.
            var horizon = now - Simulation.Model.Options.NatMappingMs;
            foreach (var (address, at) in _natMappings)
            {
                if (at < horizon)
                {
                    _natMappings.Remove(address);
                }
            }
        }

        _natMappings[to] = now;
    }

    /// <summary>Whether a datagram from <paramref name="from"/> gets through to this host at <paramref name="now"/>.</summary>
    internal bool Admits(uint from, long now) =>
        !Unresponsive
        || (_natMappings is not null && _natMappings.TryGetValue(from, out var at) && now - at <= Simulation.Model.Options.NatMappingMs);
}
