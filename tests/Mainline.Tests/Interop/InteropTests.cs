using System.Text.Json;

namespace Mainline.Tests.Interop;

/// <summary>Our node against libtorrent 2.0.8 and bittorrent-dht 11.0.12 on loopback, in both directions.</summary>
[Collection(InteropCollection.Name)]
public sealed class InteropTests(MixedNetwork net)
{
    private static readonly TimeSpan Op = TimeSpan.FromSeconds(40);

    private static CancellationToken Ct() => new CancellationTokenSource(Op).Token;

    private static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexStringLower(b);

    private static byte[] Seed(byte b) => Enumerable.Repeat(b, 32).ToArray();

    private static void Ok(JsonElement r, string what)
    {
        Assert.True(r.TryGetProperty("ok", out var ok) && ok.GetBoolean(), $"{what}: {r}");
    }

    [Fact]
    public async Task Mutable_put_by_us_is_read_by_libtorrent_and_bittorrent_dht()
    {
        var item = MutableItem.Sign(Seed(0x31), "from-csharp"u8, 5);
        var put = await net.Client.PutMutableAsync(item, null, Ct());
        Assert.True(put.Succeeded, put.ToString());

        var bd = await net.Bdht.CommandAsync(new { op = "get-mutable", pubkey = Hex(item.Key.Span), via = 3 }, Op);
        Ok(bd, "bittorrent-dht get-mutable");
        Assert.True(bd.GetProperty("found").GetBoolean(), bd.ToString());
        Assert.Equal(5, bd.GetProperty("seq").GetInt64());
        Assert.Equal(Hex("from-csharp"u8), bd.GetProperty("value").GetString());

        var lt = await net.LtAsync("get-mutable", "--pubkey", Hex(item.Key.Span), "--first");
        Ok(lt, "libtorrent get-mutable");
        Assert.Equal(5, lt.GetProperty("seq").GetInt64());
        Assert.Equal(Hex("from-csharp"u8), lt.GetProperty("v_hex").GetString());
    }

    [Fact]
    public async Task Salted_mutable_put_by_us_is_read_by_bittorrent_dht()
    {
        var item = MutableItem.Sign(Seed(0x32), "salted"u8, 9, "interop"u8);
        Assert.True((await net.Client.PutMutableAsync(item, null, Ct())).Succeeded);
        var bd = await net.Bdht.CommandAsync(new { op = "get-mutable", pubkey = Hex(item.Key.Span), salt = Hex("interop"u8), via = 1 }, Op);
        Assert.True(bd.GetProperty("found").GetBoolean(), bd.ToString());
        Assert.Equal(9, bd.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Salted_mutable_put_by_bittorrent_dht_is_read_and_verified_by_us()
    {
        var seed = Seed(0x36);
        var bd = await net.Bdht.CommandAsync(new { op = "put-mutable", seed = Hex(seed), seq = 4, value = Hex("salted from bdht"u8), salt = Hex("js-salt"u8), via = 2 }, Op);
        Ok(bd, "bittorrent-dht salted put-mutable");
        var key = MutableItem.PublicKeyOf(seed);
        var got = await net.Client.GetMutableMostRecentAsync(key, "js-salt"u8.ToArray(), Ct());
        Assert.NotNull(got);
        Assert.Equal(4, got.Seq);
        Assert.Equal("salted from bdht"u8.ToArray(), got.Value.ToArray());
        Assert.Equal("js-salt"u8.ToArray(), got.Salt.ToArray());
        Assert.Equal(MutableItem.TargetOf(key, "js-salt"u8), got.Target);
        // The signature covers the salt: the same parts verify with it and fail without it.
        Assert.True(MutableItem.TryFromSigned(key, "js-salt"u8, 4, "salted from bdht"u8, got.Signature.Span, out _));
        Assert.False(MutableItem.TryFromSigned(key, default, 4, "salted from bdht"u8, got.Signature.Span, out _));
        // Without the salt it is another target, where nothing is stored.
        Assert.Null(await net.Client.GetMutableMostRecentAsync(key, default, Ct()));
    }

    [Fact]
    public async Task Mutable_items_put_by_them_are_read_by_us()
    {
        var seed = Seed(0x33);
        var bd = await net.Bdht.CommandAsync(new { op = "put-mutable", seed = Hex(seed), seq = 7, value = Hex("from-bdht"u8), via = 2 }, Op);
        Ok(bd, "bittorrent-dht put-mutable");
        var got = await net.Client.GetMutableMostRecentAsync(MutableItem.PublicKeyOf(seed), default, Ct());
        Assert.NotNull(got);
        Assert.Equal(7, got!.Seq);
        Assert.Equal("from-bdht"u8.ToArray(), got.Value.ToArray());

        // Our server nodes answered bittorrent-dht's get and put: at least one of them stores the item.
        var stored = 0;
        foreach (var n in net.Ours.Nodes)
        {
            if (await n.Node.InvokeAsync(() => n.Node.Core.Storage.GetMutable(got.Target, n.Node.Now), Ct()) is not null)
            {
                stored++;
            }
        }

        Assert.True(stored > 0, "no C# node stored the bittorrent-dht put");

        var ltSeed = Seed(0x34);
        var lt = await net.LtAsync("put-mutable", "--seed", Hex(ltSeed), "--value-hex", Hex("from-lt"u8));
        Ok(lt, "libtorrent put-mutable");
        var fromLt = await net.Client.GetMutableMostRecentAsync(MutableItem.PublicKeyOf(ltSeed), default, Ct());
        Assert.NotNull(fromLt);
        Assert.Equal(lt.GetProperty("seq").GetInt64(), fromLt!.Seq);
        Assert.Equal("from-lt"u8.ToArray(), fromLt.Value.ToArray());
    }

    [Fact]
    public async Task Immutable_items_both_ways()
    {
        var ours = await net.Client.PutImmutableAsync("immutable from csharp"u8.ToArray(), Ct());
        Assert.True(ours.Succeeded, ours.ToString());
        var bd = await net.Bdht.CommandAsync(new { op = "get-immutable", target = ours.Target.ToString(), via = 4 }, Op);
        Assert.True(bd.GetProperty("found").GetBoolean(), bd.ToString());
        Assert.Equal(Hex("immutable from csharp"u8), bd.GetProperty("value").GetString());
        var lt = await net.LtAsync("get-immutable", "--target", ours.Target.ToString());
        Ok(lt, "libtorrent get-immutable");
        Assert.Equal(Hex("immutable from csharp"u8), lt.GetProperty("v_hex").GetString());

        var bdPut = await net.Bdht.CommandAsync(new { op = "put-immutable", value = Hex("immutable from bdht"u8), via = 0 }, Op);
        Ok(bdPut, "bittorrent-dht put-immutable");
        Assert.Equal("immutable from bdht"u8.ToArray(), await net.Client.GetImmutableAsync(NodeId.Parse(bdPut.GetProperty("target").GetString()!), Ct()));

        var ltPut = await net.LtAsync("put-immutable", "--value-hex", Hex("immutable from lt"u8));
        Ok(ltPut, "libtorrent put-immutable");
        Assert.Equal("immutable from lt"u8.ToArray(), await net.Client.GetImmutableAsync(NodeId.Parse(ltPut.GetProperty("target").GetString()!), Ct()));
    }

    [Fact]
    public async Task Libtorrent_joins_and_reads_through_our_node_only()
    {
        var item = MutableItem.Sign(Seed(0x35), "via-our-node"u8, 11);
        Assert.True((await net.Client.PutMutableAsync(item, null, Ct())).Succeeded);
        // The libtorrent client knows only our client node: it must learn the network from our answers.
        var lt = await net.LtViaAsync(net.Client.LocalEndPoint.ToString(), "get-mutable", "--pubkey", Hex(item.Key.Span), "--first", "--min-nodes", "1");
        Ok(lt, "libtorrent get-mutable through our node");
        Assert.Equal(11, lt.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Our_nodes_are_in_their_routing_tables()
    {
        var ours = net.Ours.Bootstrap.Append(net.Client.LocalEndPoint).Select(e => e.ToString()).ToHashSet();

        var bd = await net.Bdht.CommandAsync(new { op = "tables" }, Op);
        var bdKnown = bd.GetProperty("nodes").EnumerateArray()
            .SelectMany(n => n.GetProperty("table").EnumerateArray())
            .Select(e => $"{e.GetProperty("host").GetString()}:{e.GetProperty("port").GetInt32()}")
            .Count(ours.Contains);
        Assert.True(bdKnown > 0, $"no C# node in bittorrent-dht tables: {bd}");

        net.Libtorrent.Signal("USR1");
        var lt = await net.Libtorrent.WaitForEventAsync("tables", Op);
        var ltKnown = CountEndpoints(lt, ours);
        Assert.True(ltKnown > 0, $"no C# node in libtorrent tables: {lt}");
    }

    private static int CountEndpoints(JsonElement element, HashSet<string> endpoints)
    {
        // The tables line nests endpoints as objects with host/port; count every match anywhere in it.
        var count = 0;
        void Walk(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    if (e.TryGetProperty("host", out var h) && e.TryGetProperty("port", out var p)
                        && endpoints.Contains($"{h.GetString()}:{p.GetInt32()}"))
                    {
                        count++;
                    }

                    foreach (var prop in e.EnumerateObject())
                    {
                        Walk(prop.Value);
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray())
                    {
                        Walk(item);
                    }

                    break;
            }
        }

        Walk(element);
        return count;
    }
}
