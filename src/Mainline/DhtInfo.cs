using System.Net;

namespace Mainline;

/// <summary>A snapshot of a node's state (shared spec §11.3).</summary>
/// <param name="Id">Our node id.</param>
/// <param name="LocalEndPoint">The bound UDP endpoint.</param>
/// <param name="PublicEndPoint">Our address as voted by repliers; null until known.</param>
/// <param name="Firewalled">True until our own ping through the public address came back.</param>
/// <param name="ServerMode">True when answering queries.</param>
/// <param name="SizeEstimate">Estimated number of DHT nodes.</param>
/// <param name="SizeEstimateStdDev">Relative standard deviation of <paramref name="SizeEstimate"/>.</param>
/// <param name="RoutingTableSize">Nodes in the routing table.</param>
public sealed record DhtInfo(
    NodeId Id, IPEndPoint LocalEndPoint, IPEndPoint? PublicEndPoint, bool Firewalled, bool ServerMode,
    long SizeEstimate, double SizeEstimateStdDev, int RoutingTableSize);
