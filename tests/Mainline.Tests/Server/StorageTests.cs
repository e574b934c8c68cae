using System.Net;
using System.Text;
using Mainline.Krpc;
using Mainline.Server;

namespace Mainline.Tests.Server;

public sealed class TokensTests
{
    [Fact]
    public void Tokens_rotate_and_previous_is_accepted()
    {
        var tokens = new Tokens(0);
        var ip = IPAddress.Parse("1.2.3.4");
        var target = NodeId.Random();
        var t = tokens.Create(ip, target);
        Assert.Equal(4, t.Length);
        Assert.True(tokens.IsValid(t, ip, target));
        Assert.False(tokens.IsValid(t, IPAddress.Parse("1.2.3.5"), target));
        Assert.False(tokens.IsValid(t, ip, NodeId.Random()));
        tokens.MaybeRotate(Tokens.RotationMs - 1);
        Assert.True(tokens.IsValid(t, ip, target));
        tokens.MaybeRotate(Tokens.RotationMs);
        Assert.True(tokens.IsValid(t, ip, target));
        tokens.MaybeRotate(2 * Tokens.RotationMs);
        Assert.False(tokens.IsValid(t, ip, target));
    }
}

public sealed class StorageTests
{
    private static readonly byte[] Seed = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly NodeId Id = NodeId.Random();

    private static PutMutableQuery Put(MutableItem item, long? cas = null, NodeId? target = null) =>
        new(Id, [1], item.KeyArray, item.SaltArray, item.Seq, item.SignatureArray, item.EncodedValueArray, cas, target);

    [Fact]
    public void Mutable_rules()
    {
        var s = new Storage(new ServerSettings());
        var v1 = MutableItem.Sign(Seed, "one"u8, 1, "salt"u8);
        Assert.Null(s.PutMutable(Put(v1, cas: 7), 0)); // cas ignored when nothing is stored
        Assert.Equal(v1.Seq, s.GetMutable(v1.Target, 0)!.Seq);

        var v2 = MutableItem.Sign(Seed, "two"u8, 2, "salt"u8);
        Assert.Equal(301, s.PutMutable(Put(v2, cas: 0), 0)!.Code);
        Assert.Null(s.PutMutable(Put(v2, cas: 1), 0));
        Assert.Equal(302, s.PutMutable(Put(v1), 0)!.Code);
        Assert.Null(s.PutMutable(Put(v2), 0)); // same seq, same value: refresh
        var v2b = MutableItem.Sign(Seed, "other"u8, 2, "salt"u8);
        Assert.Equal(302, s.PutMutable(Put(v2b), 0)!.Code);

        // Signature is checked before stored state: a forged put learns nothing about the stored seq.
        var forged = Put(v2) with { Signature = new byte[64] };
        Assert.Equal(206, s.PutMutable(forged, 0)!.Code);
        Assert.Equal(206, s.PutMutable(Put(v2) with { Seq = 9 }, 0)!.Code);

        // Supplied target must match SHA1(k‖salt).
        Assert.Equal(203, s.PutMutable(Put(v2, target: NodeId.Random()), 0)!.Code);
        Assert.Equal(203, s.PutMutable(Put(v2) with { Seq = -1 }, 0)!.Code);
        Assert.Equal(207, s.PutMutable(Put(v2) with { Salt = new byte[65] }, 0)!.Code);
        Assert.Equal(205, s.PutMutable(Put(v2) with { EncodedValue = KrpcCodec.EncodeString(new byte[1001]) }, 0)!.Code);
    }

    [Fact]
    public void Immutable_rules_and_expiry()
    {
        var s = new Storage(new ServerSettings());
        var v = Encoding.ASCII.GetBytes("12:Hello World!");
        var target = Bep44.ImmutableTarget(v);
        Assert.Equal(203, s.PutImmutable(new PutImmutableQuery(Id, [1], v, NodeId.Random()), 0)!.Code);
        Assert.Null(s.PutImmutable(new PutImmutableQuery(Id, [1], v, target), 0));
        Assert.Equal(v, s.GetImmutable(target, 1000));
        Assert.Null(s.GetImmutable(target, (long)TimeSpan.FromHours(2).TotalMilliseconds + 1));
        Assert.Equal(205, s.PutImmutable(new PutImmutableQuery(Id, [1], KrpcCodec.EncodeString(new byte[1001]), null), 0)!.Code);
        Assert.Null(s.PutImmutable(new PutImmutableQuery(Id, [1], KrpcCodec.EncodeString(new byte[1000]), null), 0));
    }

    [Fact]
    public void Lru_capacity()
    {
        var s = new Storage(new ServerSettings { MaxImmutableValues = 3 });
        var targets = new List<NodeId>();
        for (var i = 0; i < 5; i++)
        {
            var v = KrpcCodec.EncodeString(BitConverter.GetBytes(i));
            targets.Add(Bep44.ImmutableTarget(v));
            s.PutImmutable(new PutImmutableQuery(Id, [1], v, null), 0);
        }

        Assert.Equal(3, s.ImmutableCount);
        Assert.Null(s.GetImmutable(targets[0], 0));
        Assert.NotNull(s.GetImmutable(targets[4], 0));
    }

    [Fact]
    public void Mutable_items_expire_two_hours_after_their_last_put()
    {
        var s = new Storage(new ServerSettings());
        var v1 = MutableItem.Sign(Seed, "lives"u8, 1);
        long hour = (long)TimeSpan.FromHours(1).TotalMilliseconds;
        Assert.Null(s.PutMutable(Put(v1), 0));
        Assert.NotNull(s.GetMutable(v1.Target, 2 * hour)); // the last millisecond of its life
        Assert.Null(s.PutMutable(Put(v1), hour)); // the same item again: refreshed
        Assert.NotNull(s.GetMutable(v1.Target, 3 * hour));
        Assert.Null(s.GetMutable(v1.Target, (3 * hour) + 1));
        Assert.Equal(0, s.MutableCount);
        // Once expired, an older seq is accepted again: nothing is stored to compare with.
        Assert.Null(s.PutMutable(Put(MutableItem.Sign(Seed, "older"u8, 0)), (3 * hour) + 2));
    }

    [Fact]
    public void Mutable_capacity_evicts_the_least_recently_used()
    {
        var s = new Storage(new ServerSettings { MaxMutableValues = 2 });
        var items = Enumerable.Range(0, 3).Select(i => MutableItem.Sign(Seed, "v"u8, 1, [(byte)i])).ToList();
        Assert.Null(s.PutMutable(Put(items[0]), 0));
        Assert.Null(s.PutMutable(Put(items[1]), 0));
        Assert.NotNull(s.GetMutable(items[0].Target, 0)); // a read counts as use: items[1] is now the oldest
        Assert.Null(s.PutMutable(Put(items[2]), 0));
        Assert.Equal(2, s.MutableCount);
        Assert.NotNull(s.GetMutable(items[0].Target, 0));
        Assert.Null(s.GetMutable(items[1].Target, 0));
        Assert.NotNull(s.GetMutable(items[2].Target, 0));
    }

    [Fact]
    public void Info_hash_and_peer_capacities()
    {
        var s = new Storage(new ServerSettings { MaxInfoHashes = 2, MaxPeersPerInfoHash = 3 });
        var hashes = Enumerable.Range(0, 3).Select(_ => NodeId.Random()).ToList();
        foreach (var hash in hashes)
        {
            s.AddPeer(hash, new IPEndPoint(IPAddress.Loopback, 1), 0);
        }

        Assert.Empty(s.GetPeers(hashes[0], 0)); // the oldest info hash was evicted
        Assert.Single(s.GetPeers(hashes[1], 0));
        Assert.Single(s.GetPeers(hashes[2], 0));

        for (var port = 2; port <= 5; port++)
        {
            s.AddPeer(hashes[2], new IPEndPoint(IPAddress.Loopback, port), 0);
        }

        var kept = s.GetPeers(hashes[2], 0);
        Assert.Equal(3, kept.Count);
        Assert.Equal([3, 4, 5], kept.Select(p => p.Port).Order());
    }

    [Fact]
    public void Peers_sample_and_expire()
    {
        var s = new Storage(new ServerSettings());
        var hash = NodeId.Random();
        for (var i = 0; i < 30; i++)
        {
            s.AddPeer(hash, new IPEndPoint(new IPAddress([10, 0, 0, (byte)(i + 1)]), 1000 + i), 0);
        }

        Assert.Equal(10, s.GetPeers(hash, 0).Count);
        Assert.Equal(10, s.GetPeers(hash, 0).Distinct().Count());
        Assert.Empty(s.GetPeers(hash, (long)TimeSpan.FromMinutes(46).TotalMilliseconds));
        Assert.Empty(s.GetPeers(NodeId.Random(), 0));
    }
}
