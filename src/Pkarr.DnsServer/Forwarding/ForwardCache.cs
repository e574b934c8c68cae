// The forwarded-answer cache (shared spec pkarr.md §9.5 "Forwarded-answer cache", RFC 2308 §5, RFC 1035 §7.3).
//
// What is kept, and for how long:
//   NOERROR with answers      min TTL of the answers, clamped to [MinTtl, MaxTtl]
//   NXDOMAIN, NODATA          min(SOA TTL, SOA MINIMUM) of the authority SOA (RFC 2308 §5), at most MaxTtl;
//                             without an SOA, not at all (RFC 2308 §5: such answers should not be cached)
//   anything else             never: SERVFAIL, REFUSED, FORMERR, NOTIMP, referrals (NOERROR without answers or SOA),
//                             and timeouts or truncated replies, which never reach the cache
// A hit hands out the response with every TTL reduced by the whole seconds it spent here, never below 0.
//
// Bounded by bytes (each response weighs its wire size plus a fixed overhead for the objects), least recently used
// evicted first. Hits take no lock, because every receive loop hits the cache once per forwarded query: a hit only
// notes the current insertion count in the entry, and only when it differs. Stores and removals take one lock and
// keep a list in the order entries were placed; eviction looks at the oldest placed entry and, if it was hit since,
// places it again as the newest instead of evicting it (second chance). That is least-recently-used order at the
// grain of insertions: hits between two stores are not ordered among themselves, which eviction does not need.
// Entries keep their original TTLs and the time they were stored; the aged copy is built on the first hit of each
// second of age and handed out as is to every further hit in that second, so a busy name costs one lookup and no
// allocation.

using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Forwarding;

internal sealed class ForwardCache
{
    /// <summary>What a response costs beyond its wire bytes: the parsed objects, the node, the key.</summary>
    internal const int EntryOverhead = 256;

    private const int RcodeMask = 0x000F;
    private const int NoError = 0;
    private const int NameError = 3;

    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<ForwardKey, LinkedListNode<Entry>> _nodes = new();
    private readonly LinkedList<Entry> _order = new();
    private readonly long _capacity;
    private readonly uint _minTtl;
    private readonly uint _maxTtl;
    private readonly TimeProvider _time;
    private long _bytes;
    private int _count;

    // Counts insertions; written under the lock, read by hits without it.
    private long _epoch;

    public ForwardCache(long capacity, uint minTtl, uint maxTtl, TimeProvider time)
    {
        _capacity = capacity;
        _minTtl = minTtl;
        _maxTtl = maxTtl;
        _time = time;
    }

    /// <summary>Entries held now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Bytes held now (weights).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>
    /// How long <paramref name="response"/> may be cached, in seconds; 0 when it must not be (see the table above).
    /// </summary>
    public static uint Lifetime(DnsMessage response, uint minTtl, uint maxTtl)
    {
        if ((response.Flags & 0x0200) != 0)
        {
            return 0;
        }

        int rcode = response.Flags & RcodeMask;
        if (rcode == NoError && response.Answers.Count > 0)
        {
            uint min = uint.MaxValue;
            var answers = response.Answers;
            for (int i = 0; i < answers.Count; i++)
            {
                min = Math.Min(min, answers[i].Ttl);
            }

            return Math.Clamp(min, minTtl, maxTtl);
        }

        if (rcode is NoError or NameError)
        {
            var authorities = response.Authorities;
            for (int i = 0; i < authorities.Count; i++)
            {
                if (authorities[i].Data is SoaData soa)
                {
                    return Math.Min(Math.Min(authorities[i].Ttl, soa.Minimum), maxTtl);
                }
            }
        }

        return 0;
    }

    /// <summary>The cached response to <paramref name="key"/> with its TTLs aged, if a fresh one is held.</summary>
    public bool TryGet(in ForwardKey key, [NotNullWhen(true)] out ForwardResult? result)
    {
        long now = _time.GetTimestamp();
        if (!_nodes.TryGetValue(key, out var node))
        {
            result = null;
            return false;
        }

        var entry = node.Value;
        if (now >= entry.ExpiresAt)
        {
            lock (_gate)
            {
                // A store or an eviction may have replaced or removed it meanwhile.
                if (node.List is not null)
                {
                    Remove(node);
                }
            }

            result = null;
            return false;
        }

        // Reading before writing keeps a hot entry's cache line shared between the receive loops.
        long epoch = Volatile.Read(ref _epoch);
        if (entry.LastUsed != epoch)
        {
            entry.LastUsed = epoch;
        }

        long age = (now - entry.StoredAt) / _time.TimestampFrequency;
        var aged = entry.Aged;
        if (aged is null || aged.Age != age)
        {
            aged = new AgedResponse(age, new ForwardResult(ForwardStatus.Answered, Age(entry.Response, (uint)Math.Min(age, uint.MaxValue))));
            entry.Aged = aged;
        }

        result = aged.Result;
        return true;
    }

    /// <summary>Stores <paramref name="response"/> (already without OPT) if its kind is cacheable.</summary>
    /// <param name="key">The question it answers.</param>
    /// <param name="response">The response.</param>
    /// <param name="wireLength">Its size on the wire.</param>
    /// <returns>Whether it was stored.</returns>
    public bool TryAdd(in ForwardKey key, DnsMessage response, int wireLength)
    {
        uint lifetime = Lifetime(response, _minTtl, _maxTtl);
        long weight = (long)wireLength + EntryOverhead;
        if (lifetime == 0 || weight > _capacity)
        {
            return false;
        }

        long now = _time.GetTimestamp();
        var entry = new Entry(key, response, now, now + (lifetime * _time.TimestampFrequency), weight)
        {
            Aged = new AgedResponse(0, new ForwardResult(ForwardStatus.Answered, response)),
        };
        lock (_gate)
        {
            if (_nodes.TryGetValue(key, out var existing))
            {
                Remove(existing);
            }

            while (_bytes + weight > _capacity && _order.Last is { } oldest)
            {
                if (oldest.Value.LastUsed > oldest.Value.Placed && now < oldest.Value.ExpiresAt)
                {
                    // Hit since it was placed: it goes to the front, and the next oldest is looked at.
                    _order.RemoveLast();
                    oldest.Value.Placed = _epoch;
                    _order.AddFirst(oldest);
                }
                else
                {
                    Remove(oldest);
                }
            }

            entry.Placed = entry.LastUsed = _epoch;
            _nodes[key] = _order.AddFirst(entry);
            _bytes += weight;
            _count++;
            Volatile.Write(ref _epoch, _epoch + 1);
        }

        return true;
    }

    /// <summary><paramref name="response"/> with every TTL lowered by <paramref name="seconds"/>, never below 0.</summary>
    internal static DnsMessage Age(DnsMessage response, uint seconds)
    {
        if (seconds == 0)
        {
            return response;
        }

        return new DnsMessage
        {
            Id = response.Id,
            Flags = response.Flags,
            Questions = response.Questions,
            Answers = Age(response.Answers, seconds),
            Authorities = Age(response.Authorities, seconds),
            Additionals = Age(response.Additionals, seconds),
        };
    }

    private static IReadOnlyList<ResourceRecord> Age(IReadOnlyList<ResourceRecord> records, uint seconds)
    {
        if (records.Count == 0)
        {
            return records;
        }

        var aged = new ResourceRecord[records.Count];
        for (int i = 0; i < aged.Length; i++)
        {
            var record = records[i];
            aged[i] = record.Ttl == 0 ? record : record with { Ttl = record.Ttl > seconds ? record.Ttl - seconds : 0 };
        }

        return aged;
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _order.Remove(node);
        _nodes.TryRemove(node.Value.Key, out _);
        _bytes -= node.Value.Weight;
        _count--;
    }

    private sealed class Entry(ForwardKey key, DnsMessage response, long storedAt, long expiresAt, long weight)
    {
        public ForwardKey Key { get; } = key;

        public DnsMessage Response { get; } = response;

        public long StoredAt { get; } = storedAt;

        public long ExpiresAt { get; } = expiresAt;

        public long Weight { get; } = weight;

        /// <summary>The insertion count when it was last put at the front of the order; under the lock.</summary>
        public long Placed { get; set; }

        /// <summary>The insertion count at its last hit; written without the lock, so a racing hit may be missed,
        /// which costs at most an early eviction.</summary>
        public long LastUsed
        {
            get => Volatile.Read(ref field);
            set => Volatile.Write(ref field, value);
        }

        /// <summary>The last aged copy handed out; replaced (not mutated) when the age in seconds changes, so readers
        /// racing on it see one whole copy or the other.</summary>
        public AgedResponse? Aged
        {
            get => Volatile.Read(ref field);
            set => Volatile.Write(ref field, value);
        }
    }

    private sealed record AgedResponse(long Age, ForwardResult Result);
}
