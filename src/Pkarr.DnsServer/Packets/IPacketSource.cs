// Where the query logic gets a key's packet. The production source (PkarrPacketSource) keeps the last good packet of
// each key and refreshes it through the Pkarr client; tests use fakes.

using System.Net;
using Pkarr.DnsServer.Answering;
using Pkarr.Keys;

namespace Pkarr.DnsServer.Packets;

/// <summary>The outcome of <see cref="IPacketSource.GetAsync"/>.</summary>
internal enum PacketStatus
{
    /// <summary>A packet (<see cref="PacketLookup.Zone"/>), possibly stale while a refresh runs.</summary>
    Found,

    /// <summary>The network answered and nobody holds a packet for the key: NXDOMAIN.</summary>
    NotFound,

    /// <summary>No packet is known and the lookup failed or timed out: SERVFAIL, never NXDOMAIN, never cached.</summary>
    Failed,

    /// <summary>No packet is known and the client is over its lookup rate limit: REFUSED.</summary>
    RateLimited,
}

/// <summary>A packet lookup result.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Zone">The packet, indexed; set exactly when <paramref name="Status"/> is <see cref="PacketStatus.Found"/>.</param>
/// <param name="AgeSeconds">Seconds since the packet was last seen on the network (answer TTLs are decremented by it).</param>
internal sealed record PacketLookup(PacketStatus Status, PacketZone? Zone, uint AgeSeconds)
{
    public static PacketLookup NotFound { get; } = new(PacketStatus.NotFound, null, 0);

    public static PacketLookup Failed { get; } = new(PacketStatus.Failed, null, 0);

    public static PacketLookup RateLimited { get; } = new(PacketStatus.RateLimited, null, 0);
}

/// <summary>Gets the packet of a key for answering.</summary>
internal interface IPacketSource
{
    /// <summary>
    /// The packet of <paramref name="key"/>: a fresh cached one at once; a stale one at once while a background refresh
    /// runs; otherwise a network lookup, bounded in time (shared by every query for the same key), charged to
    /// <paramref name="client"/>'s lookup rate limit. Never returns a packet older than one it returned before.
    /// Never throws but <see cref="OperationCanceledException"/>.
    /// </summary>
    ValueTask<PacketLookup> GetAsync(PublicKey key, IPAddress client, CancellationToken cancellationToken);
}
