// Settings of the packet source (PkarrPacketSource): how long a packet and a "not found" stay fresh, how much the table
// of packets may hold, and how long a query waits for a network lookup. Defaults are pkdns's (spec §9.1, §9.2) where
// it has the setting.

namespace Pkarr.DnsServer.Packets;

internal sealed class PacketSourceOptions
{
    /// <summary>Lower bound of a packet's freshness lifetime in seconds (pkdns <c>dns.min_ttl</c>, 60): a packet whose
    /// records have shorter TTLs is still not looked up again sooner.</summary>
    public uint MinTtl { get; init; } = 60;

    /// <summary>Upper bound of a packet's freshness lifetime in seconds (pkdns <c>dns.max_ttl</c>, 86 400).</summary>
    public uint MaxTtl { get; init; } = 86400;

    /// <summary>Seconds a "not found" is remembered before the key is looked up again; 60 as pkdns's
    /// <c>min_ttl</c>, which it uses for this. Also how long a held packet is served without a new lookup after the
    /// network said "not found" for it.</summary>
    public uint NegativeTtl { get; init; } = 60;

    /// <summary>Seconds past its freshness lifetime a held packet is still served while lookups of its key fail or
    /// run (RFC 8767 serve-stale; 3 days, the upper end of §5's recommendation). Past that the packet is served only
    /// after a lookup sees it again; until then queries get SERVFAIL, since a packet unseen for days may be one its
    /// owner withdrew. 0: a stale packet is never served, every query past the freshness waits for a lookup. The
    /// packet is kept either way, so a lookup never goes back to an older one.</summary>
    public uint ServeStaleTtl { get; init; } = 3 * 86400;

    /// <summary>Bound of the table, in bytes: each entry weighs its packet's bytes plus a fixed overhead
    /// (<see cref="PkarrPacketSource.EntryOverhead"/>; "not found" markers weigh the overhead alone). 100 MiB as
    /// pkdns's <c>dht_cache_mb</c>. Least recently used entries go first.</summary>
    public long CacheBytes { get; init; } = 100L << 20;

    /// <summary>How long a query waits for a network lookup before it fails (SERVFAIL); the lookup itself goes on and
    /// its result is kept. 4 s: below the 5 s a stub resolver waits before it retries.</summary>
    public TimeSpan LookupTimeout { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Network lookups running at once, over all keys; beyond, a query that needs one fails and a stale packet
    /// is served without a refresh. 256: far above what the lookup rate limits let through, far below what a DHT node
    /// handles.</summary>
    public int MaxConcurrentLookups { get; init; } = 256;

    /// <summary>A lookup still running after this long is cancelled and counts as a timeout, so a hung resolve
    /// never blocks a key for good. 60 s: well above any DHT query.</summary>
    public TimeSpan MaxLookupTime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>After a lookup fails (no responses, an error), the key is not looked up again for this long; each
    /// further failure doubles it, up to <see cref="MaxFailureBackoff"/>. 2 s: a network outage costs one lookup per
    /// key every few seconds, not one per query.</summary>
    public TimeSpan FailureBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Upper bound of the failure back-off (30 s): a key is looked up again soon after the network returns.</summary>
    public TimeSpan MaxFailureBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws when a setting is out of range.</summary>
    internal void Validate()
    {
        if (MinTtl > MaxTtl)
        {
            throw Error.InvalidTtlBounds(MinTtl, MaxTtl);
        }

        if (CacheBytes < 0)
        {
            throw Error.NegativePacketCacheBytes(CacheBytes);
        }

        if (MaxConcurrentLookups < 1)
        {
            throw Error.NotPositive(nameof(MaxConcurrentLookups), MaxConcurrentLookups);
        }

        RequirePositive(LookupTimeout, nameof(LookupTimeout));
        RequirePositive(MaxLookupTime, nameof(MaxLookupTime));
        RequirePositive(FailureBackoff, nameof(FailureBackoff));
        RequirePositive(MaxFailureBackoff, nameof(MaxFailureBackoff));
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw Error.NotPositiveTime(name, value);
        }
    }
}
