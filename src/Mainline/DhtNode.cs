using System.Net;

namespace Mainline;

/// <summary>A DHT node: its id and its IPv4 UDP endpoint.</summary>
/// <param name="Id">The node's id.</param>
/// <param name="EndPoint">The node's IPv4 address and UDP port.</param>
public sealed record DhtNode(NodeId Id, IPEndPoint EndPoint)
{
    /// <summary>True when the id is BEP 42-valid for the address (exempt addresses always are).</summary>
    public bool IsSecure => Id.IsValidFor(EndPoint.Address);

    /// <summary>The first 21 bits of the id: BEP 42 allows one node per IP and prefix.</summary>
    internal int Prefix21 => Id.Prefix21;

    /// <inheritdoc/>
    public override string ToString() => $"{Id}@{EndPoint}";
}
