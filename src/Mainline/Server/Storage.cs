// Server storage (shared spec §10.3, §6.1, §6.3): peers, immutable and mutable items, each an LRU with a
// capacity, plus time-based expiry (items 2 h after the last put, peers 45 min) that the reference lacks.
//
// Mutable put validation, in this order (signature before stored state, so unsigned probes learn nothing):
//   len(v) > 1000 → 205; salt > 64 → 207; seq < 0 → 203; supplied target ≠ SHA1(k‖salt) → 203;
//   bad signature → 206; cas ≠ stored.seq → 301; seq < stored → 302; seq == stored: same v refreshes,
//   different v → 302; else store.
using System.Net;
using System.Security.Cryptography;
using Mainline.Krpc;

namespace Mainline.Server;

internal sealed record StoredImmutable(byte[] EncodedValue, long StoredAt);

internal sealed record StoredMutable(MutableItem Item, long StoredAt);

internal sealed record StoredPeer(IPEndPoint EndPoint, long StoredAt);

internal sealed class Storage
{
    private readonly ServerSettings _settings;
    private readonly Lru<NodeId, Lru<NodeId, StoredPeer>> _peers;
    private readonly Lru<NodeId, StoredImmutable> _immutable;
    private readonly Lru<NodeId, StoredMutable> _mutable;

    public Storage(ServerSettings settings)
    {
        _settings = settings;
        _peers = new(settings.MaxInfoHashes);
        _immutable = new(settings.MaxImmutableValues);
        _mutable = new(settings.MaxMutableValues);
    }

    private long ItemLifetimeMs => (long)_settings.ItemLifetime.TotalMilliseconds;

    public int ImmutableCount => _immutable.Count;

    public int MutableCount => _mutable.Count;

    public void AddPeer(NodeId infoHash, NodeId announcer, IPEndPoint peer, long now)
    {
        if (!_peers.TryGet(infoHash, out var peers))
        {
            peers = new Lru<NodeId, StoredPeer>(_settings.MaxPeersPerInfoHash);
            _peers.Set(infoHash, peers);
        }

        peers.Set(announcer, new StoredPeer(peer, now));
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
            RandomNumberGenerator.Shuffle(all.AsSpan());
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
    public KrpcError? PutImmutable(PutImmutableQuery put, long now)
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

        _immutable.Set(target, new StoredImmutable(put.EncodedValue, now));
        return null;
    }

    /// <summary>Validates and stores a mutable put (token already checked); null on success, else the error.</summary>
    public KrpcError? PutMutable(PutMutableQuery put, long now)
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

        if (GetMutable(target, now) is { } stored)
        {
            if (put.Cas is { } cas && cas != stored.Seq)
            {
                return KrpcError.Create(ErrorCodes.CasMismatch, "CAS mismatched, re-read value and try again.");
            }

            if (put.Seq < stored.Seq
                || (put.Seq == stored.Seq && !put.EncodedValue.AsSpan().SequenceEqual(stored.EncodedValue.Span)))
            {
                return KrpcError.Create(ErrorCodes.SeqLessThanCurrent, "Sequence number less than current.");
            }
        }

        _mutable.Set(target, new StoredMutable(item!, now));
        return null;
    }

    /// <summary>The raw length of a byte-string value (as the reference measures); encoded length otherwise.</summary>
    private static int ValueLength(byte[] encodedValue) => Bep44.TryStringContent(encodedValue)?.Length ?? encodedValue.Length;
}
