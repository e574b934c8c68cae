// Server storage (shared spec §10.3, §6.1, §6.3): peers, immutable and mutable items, each an LRU with a
// capacity, plus time-based expiry (items 2 h after the last put, peers 45 min) that the reference lacks.
//
// Against eviction attacks (any address can put self-signed items and announce under any id):
// - each item is charged to the source IP of the put that stored it; an IP at its quota (MaxItemsPerIp per
//   store) cannot store new targets, so one address cannot flush the store;
// - the highest seq stored for a mutable target is remembered for the item lifetime, even after the item leaves
//   the store, so an older item replayed after an eviction is refused (302) rather than stored as current;
// - peers are keyed by their endpoint (not the id the announcer claims), at most MaxPeersPerIp per IP in one
//   info hash, so one address cannot take every slot.
//
// Mutable put validation, in this order (signature before stored state, so unsigned probes learn nothing):
//   len(v) > 1000 → 205; salt > 64 → 207; seq < 0 → 203; supplied target ≠ SHA1(k‖salt) → 203;
//   bad signature → 206; cas ≠ stored.seq → 301; seq < stored → 302; seq == stored: same v refreshes,
//   different v → 302; else store.
using System.Net;
using Mainline.Krpc;
using Mainline.Rpc;

namespace Mainline.Server;

internal sealed record StoredImmutable(byte[] EncodedValue, long StoredAt, IPAddress? Owner);

internal sealed record StoredMutable(MutableItem Item, long StoredAt, IPAddress? Owner);

/// <summary>The highest seq stored for a mutable target and when it was last put.</summary>
internal sealed record SeqMark(long Seq, long At);

/// <summary>How many items each source IP holds in one store.</summary>
internal sealed class IpQuota(int perIp)
{
    private readonly Dictionary<IPAddress, int> _held = [];

    public bool IsFull(IPAddress? ip) => ip is not null && _held.GetValueOrDefault(ip) >= perIp;

    public void Charge(IPAddress? ip)
    {
        if (ip is not null)
        {
            _held[ip] = _held.GetValueOrDefault(ip) + 1;
        }
    }

    public void Release(IPAddress? ip)
    {
        if (ip is not null && _held.TryGetValue(ip, out var n))
        {
            if (n <= 1)
            {
                _held.Remove(ip);
            }
            else
            {
                _held[ip] = n - 1;
            }
        }
    }
}

internal sealed record StoredPeer(IPEndPoint EndPoint, long StoredAt);

internal sealed class Storage
{
    /// <summary>Seq marks kept per mutable slot: a mark is ~100 bytes, so 10 × the store (1 MB by default)
    /// outlasts ten full flushes of the store within one item lifetime.</summary>
    private const int SeqMarksPerSlot = 10;

    private readonly ServerSettings _settings;
    private readonly Lru<NodeId, Lru<IPEndPoint, StoredPeer>> _peers;
    private readonly Lru<NodeId, StoredImmutable> _immutable;
    private readonly Lru<NodeId, StoredMutable> _mutable;
    private readonly Lru<NodeId, SeqMark> _seqMarks;
    private readonly IpQuota _immutableQuota;
    private readonly IpQuota _mutableQuota;
    private readonly IEntropy _entropy;

    /// <summary>A store with the limits of <paramref name="settings"/>; peer samples draw from
    /// <paramref name="entropy"/> (the OS's generator when null).</summary>
    public Storage(ServerSettings settings, IEntropy? entropy = null)
    {
        _settings = settings;
        _entropy = entropy ?? SystemEntropy.Instance;
        _immutableQuota = new(settings.MaxItemsPerIp);
        _mutableQuota = new(settings.MaxItemsPerIp);
        _peers = new(settings.MaxInfoHashes);
        _immutable = new(settings.MaxImmutableValues) { Removed = item => _immutableQuota.Release(item.Owner) };
        _mutable = new(settings.MaxMutableValues) { Removed = item => _mutableQuota.Release(item.Owner) };
        _seqMarks = new((int)Math.Min(int.MaxValue, (long)settings.MaxMutableValues * SeqMarksPerSlot));
    }

    private long ItemLifetimeMs => (long)_settings.ItemLifetime.TotalMilliseconds;

    public int ImmutableCount => _immutable.Count;

    public int MutableCount => _mutable.Count;

    /// <summary>Stores (or refreshes) <paramref name="peer"/> for <paramref name="infoHash"/>; past its IP's quota
    /// in this info hash, the new endpoint takes the place of that IP's oldest.</summary>
    public void AddPeer(NodeId infoHash, IPEndPoint peer, long now)
    {
        if (!_peers.TryGet(infoHash, out var peers))
        {
            peers = new Lru<IPEndPoint, StoredPeer>(_settings.MaxPeersPerInfoHash);
            _peers.Set(infoHash, peers);
        }

        if (!peers.TryGet(peer, out _))
        {
            var lifetime = (long)_settings.PeerLifetime.TotalMilliseconds;
            peers.RemoveWhere(p => now - p.StoredAt > lifetime);
            var sameIp = peers.Values.Where(p => p.EndPoint.Address.Equals(peer.Address)).ToList();
            if (sameIp.Count >= _settings.MaxPeersPerIp)
            {
                peers.Remove(sameIp[^1].EndPoint); // values run from the most to the least recently announced
            }
        }

        peers.Set(peer, new StoredPeer(peer, now));
    }

    /// <summary>Up to <paramref name="max"/> live peers, a uniform random sample when there are more.</summary>
    public List<IPEndPoint> GetPeers(NodeId infoHash, long now, int max = 10)
    {
        if (!_peers.TryGet(infoHash, out var peers))
        {
            return [];
        }

        var lifetime = (long)_settings.PeerLifetime.TotalMilliseconds;
        peers.RemoveWhere(p => now - p.StoredAt > lifetime);
        var all = peers.Values.Select(p => p.EndPoint).ToArray();
        if (all.Length > max)
        {
            _entropy.Shuffle(all.AsSpan());
            return [.. all.Take(max)];
        }

        return [.. all];
    }

    public byte[]? GetImmutable(NodeId target, long now)
    {
        if (_immutable.TryGet(target, out var item))
        {
            if (now - item.StoredAt <= ItemLifetimeMs)
            {
                return item.EncodedValue;
            }

            _immutable.Remove(target);
        }

        return null;
    }

    public MutableItem? GetMutable(NodeId target, long now)
    {
        if (_mutable.TryGet(target, out var item))
        {
            if (now - item.StoredAt <= ItemLifetimeMs)
            {
                return item.Item;
            }

            _mutable.Remove(target);
        }

        return null;
    }

    /// <summary>Validates and stores an immutable put (token already checked); null on success, else the error.</summary>
    /// <param name="put">The put.</param>
    /// <param name="now">The node's clock.</param>
    /// <param name="source">The IP the put came from, charged with the item; null charges nobody (local writes).</param>
    public KrpcError? PutImmutable(PutImmutableQuery put, long now, IPAddress? source = null)
    {
        if (ValueLength(put.EncodedValue) > MutableItem.MaxValueLength)
        {
            return KrpcError.Create(ErrorCodes.ValueTooBig, "Message (v field) too big.");
        }

        var target = Bep44.ImmutableTarget(put.EncodedValue);
        if (put.Target is { } supplied && supplied != target)
        {
            return KrpcError.Create(ErrorCodes.Protocol, "Target doesn't match the sha1 hash of v field");
        }

        var owner = source;
        if (_immutable.TryGet(target, out var stored))
        {
            owner = stored.Owner; // a refresh keeps the item charged to whoever stored it
        }
        else if (_immutableQuota.IsFull(source))
        {
            RemoveExpired(_immutable, i => i.StoredAt, now);
            if (_immutableQuota.IsFull(source))
            {
                return QuotaFull();
            }
        }

        _immutable.Set(target, new StoredImmutable(put.EncodedValue, now, owner));
        _immutableQuota.Charge(owner);
        return null;
    }

    /// <summary>Validates and stores a mutable put (token already checked); null on success, else the error.</summary>
    /// <param name="put">The put.</param>
    /// <param name="now">The node's clock.</param>
    /// <param name="source">The IP the put came from, charged with the item; null charges nobody (local writes).</param>
    public KrpcError? PutMutable(PutMutableQuery put, long now, IPAddress? source = null)
    {
        if (ValueLength(put.EncodedValue) > MutableItem.MaxValueLength)
        {
            return KrpcError.Create(ErrorCodes.ValueTooBig, "Message (v field) too big.");
        }

        if (put.Salt is { Length: > MutableItem.MaxSaltLength })
        {
            return KrpcError.Create(ErrorCodes.SaltTooBig, "salt (salt field) too big.");
        }

        if (put.Seq < 0)
        {
            return KrpcError.Create(ErrorCodes.Protocol, "Negative sequence number.");
        }

        var target = Bep44.MutableTarget(put.Key, put.Salt);
        if (put.Target is { } supplied && supplied != target)
        {
            return KrpcError.Create(ErrorCodes.Protocol, "Target doesn't match the sha1 hash of k and salt");
        }

        if (!MutableItem.TryFromEncoded(put.Key, put.Salt, put.Seq, put.EncodedValue, put.Signature, out var item))
        {
            return KrpcError.Create(ErrorCodes.InvalidSignature, "Invalid signature");
        }

        var owner = source;
        if (GetMutable(target, now) is { } stored)
        {
            if (put.Cas is { } cas && cas != stored.Seq)
            {
                return KrpcError.Create(ErrorCodes.CasMismatch, "CAS mismatched, re-read value and try again.");
            }

            if (put.Seq < stored.Seq
                || (put.Seq == stored.Seq && !put.EncodedValue.AsSpan().SequenceEqual(stored.EncodedValue.Span)))
            {
                return SeqLessThanCurrent();
            }

            _mutable.TryGet(target, out var entry);
            owner = entry.Owner; // an update keeps the item charged to whoever stored it
        }
        else
        {
            if (_seqMarks.TryGet(target, out var mark) && now - mark.At <= ItemLifetimeMs && put.Seq < mark.Seq)
            {
                return SeqLessThanCurrent(); // evicted, but a newer seq was stored within the item lifetime
            }

            if (_mutableQuota.IsFull(source))
            {
                RemoveExpired(_mutable, i => i.StoredAt, now);
                if (_mutableQuota.IsFull(source))
                {
                    return QuotaFull();
                }
            }
        }

        _mutable.Set(target, new StoredMutable(item!, now, owner));
        _mutableQuota.Charge(owner);
        _seqMarks.Set(target, new SeqMark(
            _seqMarks.TryGet(target, out var previous) && now - previous.At <= ItemLifetimeMs ? Math.Max(previous.Seq, put.Seq) : put.Seq,
            now));
        return null;
    }

    private void RemoveExpired<T>(Lru<NodeId, T> store, Func<T, long> storedAt, long now) =>
        store.RemoveWhere(item => now - storedAt(item) > ItemLifetimeMs);

    private static KrpcError SeqLessThanCurrent() => KrpcError.Create(ErrorCodes.SeqLessThanCurrent, "Sequence number less than current.");

    private static KrpcError QuotaFull() => KrpcError.Create(ErrorCodes.Server, "Storage quota of this address is full.");

    /// <summary>The raw length of a byte-string value (as the reference measures); encoded length otherwise.</summary>
    private static int ValueLength(byte[] encodedValue) => Bep44.TryStringContent(encodedValue)?.Length ?? encodedValue.Length;
}
