// The production packet source (spec pkarr.md §9.1 "Packet lookup", §3.8 freshness; the fixes of §9.5 "Freshness" and
// the wishes of §9.6): a table of the last good packet of each key, refreshed through the Pkarr client.
//
//   GetAsync ─▶ table entry ─┬─ packet, fresh ─────────────────────────────▶ Found (no lookup)
//                            ├─ packet, stale ─▶ Found at once ─▶ background refresh (if allowed, not backing off)
//                            ├─ packet, stale past ServeStaleTtl ─▶ backing off: Failed; else as "nothing"
//                            ├─ "not found", fresh ─────────────────────────▶ NotFound
//                            ├─ failed, backing off ────────────────────────▶ Failed
//                            └─ nothing ─▶ lookup limit ─▶ one lookup per key ─▶ wait ≤ LookupTimeout
//
// Freshness is clamp(min answer TTL, MinTtl, MaxTtl) from when the packet was last seen on the network (the relay's
// last-seen time when a relay served it), never reset by a lookup that did not see the packet again. A lookup never
// replaces a packet by an older one (§3.7 MoreRecentThan); "not found" and network failures never drop a held packet;
// failures are never remembered as "not found" and back off per key. A lookup is charged to the lookup limit of the
// client whose query starts it; a query that joins a running lookup causes no traffic and is not charged. The table
// is bounded by CacheBytes (packet bytes + a fixed overhead per entry), least recently used first; a key evicted and
// looked up again has no memory of what was served before. The hot path (a fresh or stale hit) takes no lock, writes
// nothing shared while no entry is added, and allocates nothing while the packet's age in seconds does not change.
//
// The resolve delegate is the network only (the host passes NetworkOnly to a client without a cache): a second
// cache underneath would serve its own stale copy as if just seen, pkdns's "updates appear one cycle late".

using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Pkarr.Client;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.RateLimiting;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Packets;

internal sealed partial class PkarrPacketSource : IPacketSource, IDisposable
{
    /// <summary>The weight of an entry beyond its packet's bytes: the key, the indexes, the bookkeeping.</summary>
    internal const long EntryOverhead = 256;

    private readonly Func<PublicKey, CancellationToken, Task<ResolveResult>> _resolve;
    private readonly PacketSourceOptions _options;
    private readonly DnsRateLimits _limits;
    private readonly DnsMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<PkarrPacketSource> _logger;
    private readonly ConcurrentDictionary<PublicKey, Entry> _entries = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _evicting = new();
    private long _bytes;
    private int _running;

    // Counts the entries created: a use notes it in the entry, so eviction's least recently used order has the grain
    // of insertions (uses between two insertions are not ordered among themselves, which eviction does not need).
    // A shared counter bumped on every hit would bounce its cache line between the receive loops on each query.
    private long _epoch;

    // resolve: the network (host passes (k, ct) => client.ResolveAsync(k, ResolvePolicy.NetworkOnly, ct)).
    public PkarrPacketSource(Func<PublicKey, CancellationToken, Task<ResolveResult>> resolve, PacketSourceOptions options,
        DnsRateLimits limits, DnsMetrics metrics, TimeProvider time, ILogger<PkarrPacketSource> logger)
    {
        _resolve = resolve ?? throw Error.ArgumentNull(nameof(resolve));
        _options = options ?? throw Error.ArgumentNull(nameof(options));
        _limits = limits ?? throw Error.ArgumentNull(nameof(limits));
        _metrics = metrics ?? throw Error.ArgumentNull(nameof(metrics));
        _time = time ?? throw Error.ArgumentNull(nameof(time));
        _logger = logger ?? throw Error.ArgumentNull(nameof(logger));
        options.Validate();
    }

    /// <summary>The weight of the table's entries (see <see cref="PacketSourceOptions.CacheBytes"/>).</summary>
    internal long CachedBytes => Interlocked.Read(ref _bytes);

    /// <summary>The number of keys in the table.</summary>
    internal int Count => _entries.Count;

    /// <summary>Network lookups running now.</summary>
    internal int RunningLookups => Volatile.Read(ref _running);

    /// <summary>The weight of an entry holding <paramref name="packet"/>.</summary>
    internal static long WeightOf(SignedPacket packet) => EntryOverhead + packet.Bytes.Length;

    /// <summary>The running lookup of <paramref name="key"/> (its result is in the table when it ends), or null.</summary>
    internal Task<PacketLookup>? RunningLookup(PublicKey key)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return null;
        }

        lock (entry)
        {
            return entry.Flight?.Done.Task;
        }
    }

    /// <summary>Whether the table holds a packet for <paramref name="key"/>, and which.</summary>
    internal SignedPacket? HeldPacket(PublicKey key) =>
        _entries.TryGetValue(key, out var entry) ? entry.Held?.Zone?.Packet : null;

    /// <inheritdoc />
    public ValueTask<PacketLookup> GetAsync(PublicKey key, IPAddress client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        cancellationToken.ThrowIfCancellationRequested();
        var now = Timestamp.WallClock(_time);
        if (_entries.TryGetValue(key, out var entry))
        {
            Touch(entry);
            if (TryAnswer(entry.Held, now, out var answer, out bool refresh))
            {
                if (refresh)
                {
                    TryRefresh(entry, client);
                }

                return new ValueTask<PacketLookup>(answer);
            }
        }

        return LookUpAsync(key, client, cancellationToken);
    }

    /// <summary>Cancels the running lookups; their waiters get <see cref="PacketStatus.Failed"/> unless they
    /// already ended. Held packets are still served afterwards, but no lookup starts.</summary>
    public void Dispose() => _stopping.Cancel();

    /// <summary>
    /// Answers from what the table holds, if it can: a packet (fresh, or stale with <paramref name="refresh"/> set when
    /// a refresh may start now), a "not found" still fresh, a failure still backing off. Counts the cache result.
    /// </summary>
    private bool TryAnswer(Held? held, Timestamp now, out PacketLookup answer, out bool refresh)
    {
        refresh = false;
        switch (held?.Kind)
        {
            case HeldKind.Packet:
                uint age = AgeOf(held.LastSeen, now);
                if (!held.Servable(age, _options.ServeStaleTtl))
                {
                    // Too stale to vouch for: only a lookup that sees the packet again can answer, and none starts
                    // while the key backs off.
                    answer = PacketLookup.Failed;
                    if (now < held.RefreshAt)
                    {
                        _metrics.PacketCache(PacketCacheResult.Miss);
                        return true;
                    }

                    return false;
                }

                bool fresh = age < held.Ttl;
                refresh = !fresh && now >= held.RefreshAt;
                _metrics.PacketCache(fresh ? PacketCacheResult.Fresh : PacketCacheResult.Stale);
                answer = held.Found(age);
                return true;
            case HeldKind.NotFound when now < held.RefreshAt:
                _metrics.PacketCache(PacketCacheResult.Fresh);
                answer = PacketLookup.NotFound;
                return true;
            case HeldKind.Failed when now < held.RefreshAt:
                _metrics.PacketCache(PacketCacheResult.Miss);
                answer = PacketLookup.Failed;
                return true;
            default:
                answer = PacketLookup.Failed;
                return false;
        }
    }

    /// <summary>The slow path: nothing usable is held, so the query joins the key's lookup or starts it.</summary>
    private async ValueTask<PacketLookup> LookUpAsync(PublicKey key, IPAddress client, CancellationToken cancellationToken)
    {
        Flight? flight = null;

        // An entry removed by eviction between the dictionary read and the lock is replaced by a new one; eviction only
        // removes entries without a lookup, so a second round succeeds in practice and three bound it.
        for (int round = 0; round < 3 && flight is null; round++)
        {
            var now = Timestamp.WallClock(_time);
            var entry = EntryOf(key);
            Flight? launch = null;
            PacketLookup? answer = null;
            lock (entry)
            {
                if (entry.Removed)
                {
                    continue;
                }

                if (TryAnswer(entry.Held, now, out var held, out bool refresh))
                {
                    // A lookup ended since the lock-free read.
                    answer = held;
                    if (refresh && entry.Flight is null && TryBegin(entry, client) is null)
                    {
                        launch = entry.Flight;
                    }
                }
                else if (entry.Flight is null)
                {
                    var refusal = TryBegin(entry, client);
                    if (refusal is not null)
                    {
                        // Refused queries for unknown keys leave nothing behind: a flood of them cannot push
                        // packets out of the table.
                        if (entry.Held is null)
                        {
                            Remove(entry);
                        }

                        _metrics.PacketCache(PacketCacheResult.Miss);
                        return refusal;
                    }

                    flight = launch = entry.Flight;
                }
                else
                {
                    flight = entry.Flight;
                }
            }

            if (launch is not null)
            {
                Launch(entry, launch);

                // The new entry is safe from eviction while its lookup runs.
                EvictIfNeeded();
            }

            if (answer is not null)
            {
                return answer;
            }
        }

        if (flight is null)
        {
            return PacketLookup.Failed;
        }

        _metrics.PacketCache(PacketCacheResult.Miss);
        try
        {
            return await flight.Done.Task.WaitAsync(_options.LookupTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogWaitTimedOut(_logger, key, _options.LookupTimeout.TotalSeconds);
            return PacketLookup.Failed;
        }
    }

    /// <summary>Starts a background refresh of a stale packet, charged to <paramref name="client"/>; when the client
    /// is over its limit, or too many lookups run, the stale packet is served without one.</summary>
    private void TryRefresh(Entry entry, IPAddress client)
    {
        Flight? flight;
        lock (entry)
        {
            if (entry.Removed || entry.Flight is not null || TryBegin(entry, client) is not null)
            {
                return;
            }

            flight = entry.Flight;
        }

        Launch(entry, flight!);
    }

    /// <summary>The table entry of <paramref name="key"/>, created (and weighed) when missing.</summary>
    private Entry EntryOf(PublicKey key)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            Touch(entry);
            return entry;
        }

        // Uses from now on rank above the new entry.
        var created = new Entry(key) { LastUse = Interlocked.Increment(ref _epoch) - 1 };
        entry = _entries.GetOrAdd(key, created);
        if (ReferenceEquals(entry, created))
        {
            Interlocked.Add(ref _bytes, created.Weight);
        }

        return entry;
    }

    /// <summary>Notes a use of <paramref name="entry"/> for eviction; writes only when the epoch moved, so a hot entry's
    /// cache line stays shared between the receive loops.</summary>
    private void Touch(Entry entry)
    {
        long epoch = Volatile.Read(ref _epoch);
        if (entry.LastUse != epoch)
        {
            entry.LastUse = epoch;
        }
    }

    /// <summary>Under <c>lock (entry)</c>: takes the entry out of the table for good.</summary>
    private void Remove(Entry entry)
    {
        entry.Removed = true;
        Interlocked.Add(ref _bytes, -entry.Weight);
        _entries.TryRemove(new KeyValuePair<PublicKey, Entry>(entry.Key, entry));
    }

    private static uint AgeOf(Timestamp lastSeen, Timestamp now) =>
        now <= lastSeen ? 0 : (uint)Math.Min((now.Microseconds - lastSeen.Microseconds) / 1_000_000, uint.MaxValue);

    private static Timestamp After(Timestamp now, TimeSpan span) => now.AddMicroseconds((ulong)(span.Ticks / 10));

    /// <summary>Evicts least recently used entries (never one with a running lookup) down to 90% of the bound, so
    /// eviction runs once per many insertions rather than on each.</summary>
    private void EvictIfNeeded()
    {
        long bound = _options.CacheBytes;
        if (Interlocked.Read(ref _bytes) <= bound || !_evicting.TryEnter())
        {
            return;
        }

        try
        {
            long target = bound - (bound / 10);
            var entries = _entries.ToArray();
            var uses = new long[entries.Length];
            for (int i = 0; i < entries.Length; i++)
            {
                uses[i] = entries[i].Value.LastUse;
            }

            Array.Sort(uses, entries);
            foreach (var (_, entry) in entries)
            {
                if (Interlocked.Read(ref _bytes) <= target)
                {
                    break;
                }

                lock (entry)
                {
                    if (entry.Flight is null && !entry.Removed)
                    {
                        Remove(entry);
                    }
                }
            }
        }
        finally
        {
            _evicting.Exit();
        }
    }

    private enum HeldKind : byte
    {
        Packet,
        NotFound,
        Failed,
    }

    /// <summary>What the table knows of a key at one moment; immutable, replaced whole under the entry's lock.</summary>
    private sealed class Held
    {
        private PacketLookup? _found;

        public required HeldKind Kind { get; init; }

        /// <summary>The packet, indexed once (set exactly for <see cref="HeldKind.Packet"/>).</summary>
        public PacketZone? Zone { get; init; }

        /// <summary>When the packet was last seen on the network, or when "not found" or the failure was learnt.</summary>
        public required Timestamp LastSeen { get; init; }

        /// <summary>The packet's freshness lifetime: clamp(min answer TTL, MinTtl, MaxTtl).</summary>
        public uint Ttl { get; init; }

        /// <summary>No lookup starts before this: the end of freshness, of a "not found", or of a failure back-off.</summary>
        public required Timestamp RefreshAt { get; init; }

        /// <summary>Failed lookups in a row.</summary>
        public int Failures { get; init; }

        /// <summary>Entry weight while this is held.</summary>
        public long Weight => EntryOverhead + (Zone?.Packet.Bytes.Length ?? 0);

        /// <summary>Whether the packet may be served at <paramref name="age"/>: within its freshness lifetime and
        /// <paramref name="serveStaleTtl"/> seconds past it.</summary>
        public bool Servable(uint age, uint serveStaleTtl) => age < (ulong)Ttl + serveStaleTtl;

        /// <summary>The same knowledge with a new time for the next lookup.</summary>
        public Held Recheck(Timestamp refreshAt, int failures) => new()
        {
            Kind = Kind,
            Zone = Zone,
            LastSeen = LastSeen,
            Ttl = Ttl,
            RefreshAt = refreshAt,
            Failures = failures,
        };

        /// <summary>The Found result at <paramref name="age"/>, reused while the age in seconds does not change.</summary>
        public PacketLookup Found(uint age)
        {
            var found = _found;
            if (found is null || found.AgeSeconds != age)
            {
                found = new PacketLookup(PacketStatus.Found, Zone, age);
                _found = found;
            }

            return found;
        }
    }

    /// <summary>A key's table entry. <see cref="Held"/> is read without a lock; everything else changes under
    /// <c>lock (entry)</c>.</summary>
    private sealed class Entry(PublicKey key)
    {
        public PublicKey Key { get; } = key;

        public volatile Held? Held;

        /// <summary>The key's running lookup, shared by every query for the key.</summary>
        public Flight? Flight;

        /// <summary>Set when eviction took the entry out of the table; it then never gets a lookup again.</summary>
        public bool Removed;

        /// <summary>The weight counted in the table's total for this entry.</summary>
        public long Weight = EntryOverhead;

        /// <summary>The epoch of the last use, for eviction (higher: more recent); written without a lock, approximate by
        /// design.</summary>
        public long LastUse;
    }

    /// <summary>One network lookup of a key: its result for waiters, its deadline, when it started.</summary>
    private sealed class Flight(CancellationTokenSource deadline, long started)
    {
        public TaskCompletionSource<PacketLookup> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Deadline { get; } = deadline;

        public long Started { get; } = started;
    }
}
