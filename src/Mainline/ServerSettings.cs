namespace Mainline;

/// <summary>Storage capacities and lifetimes of a server-mode node (shared spec §10.3), checked by
/// <see cref="DhtOptionsValidator"/>: capacities at least 1, lifetimes positive.</summary>
public sealed class ServerSettings
{
    /// <summary>Info hashes kept for announce_peer. Default 2000, the reference's: a few hundred KiB at most.</summary>
    public int MaxInfoHashes { get; set; } = 2000;

    /// <summary>Peers kept per info hash. Default 500, the reference's: more than a get_peers reply ever returns.</summary>
    public int MaxPeersPerInfoHash { get; set; } = 500;

    /// <summary>Immutable items kept. Default 1000, the reference's: at most ~1 MB of values.</summary>
    public int MaxImmutableValues { get; set; } = 1000;

    /// <summary>Mutable items kept. Default 1000, the reference's: at most ~1 MB of values.</summary>
    public int MaxMutableValues { get; set; } = 1000;

    /// <summary>Immutable items, and separately mutable items, that one source IP may hold in the store. Default
    /// 50 (5% of the default capacities): a node stores an item only when it is among the 20 nodes closest to its
    /// target, so even a writer of a million keys (a relay) reaches one node of a ten-million-node DHT with a few
    /// of them, while one address can no longer flush the store (and then replay an older item into it).</summary>
    public int MaxItemsPerIp { get; set; } = 50;

    /// <summary>Peer slots one IP may hold in one info hash (one slot per IP and port); a new announce beyond it
    /// replaces that IP's oldest. Default 8: several clients behind one NAT may seed the same torrent, but one
    /// address can no longer take all <see cref="MaxPeersPerInfoHash"/> slots.</summary>
    public int MaxPeersPerIp { get; set; } = 8;

    /// <summary>How long an item lives after its last put. Default 2 h: BEP 44's minimum and libtorrent's, so
    /// writers that republish hourly never lose their item.</summary>
    public TimeSpan ItemLifetime { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How long an announced peer lives. Default 45 min: 1.5 × the usual 30-min announce interval.</summary>
    public TimeSpan PeerLifetime { get; set; } = TimeSpan.FromMinutes(45);
}
