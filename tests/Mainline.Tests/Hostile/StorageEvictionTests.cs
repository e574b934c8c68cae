using System.Net;
using System.Net.Sockets;
using Mainline.Krpc;
using Mainline.Server;
using static Mainline.Tests.Hostile.ServerAttack;

namespace Mainline.Tests.Hostile;

/// <summary>Issue 9, medium 6 (items): one address must not be able to flush the mutable store and then replay an
/// older item for a victim's key (a downgrade); honest writers on many addresses still store.</summary>
public sealed class StorageEvictionTests
{
    private static readonly byte[] VictimSeed = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    /// <summary>A get for the token, then the put; the put's reply.</summary>
    private static async Task<Message> PutAsync(UdpClient udp, IPEndPoint to, MutableItem item)
    {
        var id = NodeId.Random();
        var token = (await Raw.AskAsync(udp, to, new GetQuery(id, item.Target, null), Ct()))!.Response!.Token!;
        var put = new PutMutableQuery(id, token, item.KeyArray, item.SaltArray, item.Seq, item.SignatureArray, item.EncodedValueArray, null, null);
        return (await Raw.AskAsync(udp, to, put, Ct()))!;
    }

    [Fact]
    public async Task Flushing_the_store_from_one_address_does_not_let_an_older_item_replace_the_newer()
    {
        var clock = new Clock();
        await using var node = await ServerAsync(clock, o =>
        {
            o.RateLimitPerIp = 0; // a patient attacker spreads the same puts over minutes; only storage is tested
            o.RateLimitPerSubnet = 0;
            o.ReplyBytesPerSecond = 0;
        });
        var to = node.LocalEndPoint;
        var old = MutableItem.Sign(VictimSeed, "old address"u8, 1); // captured by the attacker when it was current
        var current = MutableItem.Sign(VictimSeed, "new address"u8, 2);
        using var victim = Socket("127.0.10.1");
        Assert.Equal(MessageKind.Response, (await PutAsync(victim, to, current)).Kind);

        using var attacker = Socket("127.0.11.1");
        var capacity = new ServerSettings().MaxMutableValues;
        var stored = 0;
        for (var i = 0; i < capacity; i++)
        {
            var seed = new byte[32];
            BitConverter.TryWriteBytes(seed, i + 1);
            var reply = await PutAsync(attacker, to, MutableItem.Sign(seed, "x"u8, 1));
            stored += reply.Kind == MessageKind.Response ? 1 : 0;
        }

        var replay = await PutAsync(attacker, to, old);
        Assert.Equal(302, replay.Error?.Code);
        var get = await Raw.AskAsync(victim, to, new GetQuery(NodeId.Random(), current.Target, null), Ct());
        Assert.Equal(2, get!.Response!.Seq);
        Assert.Equal(current.EncodedValueArray, get.Response.EncodedValue);
        Assert.InRange(stored, 1, new ServerSettings().MaxItemsPerIp);
    }

    [Fact]
    public void The_seq_high_water_mark_outlives_eviction_for_the_item_lifetime()
    {
        var settings = new ServerSettings { MaxMutableValues = 10, MaxItemsPerIp = 100 };
        var s = new Storage(settings);
        var flooder = IPAddress.Parse("203.0.113.9");
        var old = MutableItem.Sign(VictimSeed, "old"u8, 1);
        var current = MutableItem.Sign(VictimSeed, "new"u8, 2);
        Assert.Null(s.PutMutable(Put(current), 0, IPAddress.Parse("198.51.100.1")));
        for (var i = 0; i < settings.MaxMutableValues; i++)
        {
            Assert.Null(s.PutMutable(Put(MutableItem.Sign(VictimSeed, "x"u8, 1, [(byte)i])), 1, flooder));
        }

        Assert.Null(s.GetMutable(current.Target, 1)); // flushed out of the store
        Assert.Equal(302, s.PutMutable(Put(old), 2, flooder)?.Code);
        Assert.Null(s.GetMutable(current.Target, 2));
        Assert.Null(s.PutMutable(Put(current), 3, flooder)); // the same seq again is no downgrade

        // The mark lives as long as the item would have; after that, nothing is remembered.
        var lifetime = (long)settings.ItemLifetime.TotalMilliseconds;
        Assert.Equal(302, s.PutMutable(Put(old), 3 + lifetime, flooder)?.Code);
        Assert.Null(s.PutMutable(Put(old), 4 + lifetime, flooder));
    }

    [Fact]
    public void One_address_stores_at_most_its_quota_while_many_honest_addresses_fill_the_store()
    {
        var settings = new ServerSettings();
        var s = new Storage(settings);
        var attacker = IPAddress.Parse("203.0.113.9");
        var refused = 0;
        for (var i = 0; i < settings.MaxMutableValues; i++)
        {
            refused += s.PutMutable(Put(MutableItem.Sign(VictimSeed, "x"u8, 1, BitConverter.GetBytes(i))), 0, attacker) is { Code: 202 } ? 1 : 0;
        }

        Assert.Equal(settings.MaxMutableValues - settings.MaxItemsPerIp, refused);
        Assert.Equal(settings.MaxItemsPerIp, s.MutableCount);
        for (var i = 0; i < settings.MaxImmutableValues; i++)
        {
            var v = KrpcCodec.EncodeString(BitConverter.GetBytes(i));
            var error = s.PutImmutable(new PutImmutableQuery(NodeId.Random(), [1], v, null), 0, attacker);
            Assert.True(i < settings.MaxItemsPerIp ? error is null : error?.Code == 202);
        }

        Assert.Equal(settings.MaxItemsPerIp, s.ImmutableCount);

        // Honest writers, each under its quota, fill the whole store (evicting the attacker's items).
        var writers = (settings.MaxMutableValues / settings.MaxItemsPerIp) + 1;
        var honest = new List<MutableItem>();
        for (var w = 0; w < writers; w++)
        {
            var ip = new IPAddress([198, 51, 100, (byte)(w + 1)]);
            for (var i = 0; i < settings.MaxItemsPerIp; i++)
            {
                var item = MutableItem.Sign(VictimSeed, "honest"u8, 1, [(byte)w, (byte)i]);
                Assert.Null(s.PutMutable(Put(item), 1, ip));
                honest.Add(item);
            }
        }

        Assert.Equal(settings.MaxMutableValues, s.MutableCount);
        Assert.All(honest.TakeLast(settings.MaxMutableValues), h => Assert.NotNull(s.GetMutable(h.Target, 1)));

        // Evicted items no longer count against their writer: the attacker may store again.
        Assert.Null(s.PutMutable(Put(MutableItem.Sign(VictimSeed, "x"u8, 1, "again"u8)), 2, attacker));
    }

    private static PutMutableQuery Put(MutableItem item) =>
        new(NodeId.Random(), [1], item.KeyArray, item.SaltArray, item.Seq, item.SignatureArray, item.EncodedValueArray, null, null);
}
