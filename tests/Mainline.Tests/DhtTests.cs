using System.Net;
using System.Text;

namespace Mainline.Tests;

public sealed class DhtTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct() => new CancellationTokenSource(Limit).Token;

    private static byte[] Seed(int i) => Enumerable.Range(i, 32).Select(b => (byte)b).ToArray();

    [Fact]
    public async Task Three_node_testnet_nodes_know_each_other()
    {
        await using var net = await Testnet.CreateAsync(3, cancellationToken: Ct());
        foreach (var node in net.Nodes)
        {
            var info = await node.GetInfoAsync(Ct());
            Assert.Equal(2, info.RoutingTableSize);
            Assert.True(info.ServerMode);
            Assert.Equal(2, (await node.ExportBootstrapAsync(Ct())).Count);
        }
    }

    [Fact]
    public async Task Unseeded_testnet_bootstraps_from_node_zero()
    {
        await using var net = await Testnet.CreateAsync(10, seeded: false, cancellationToken: Ct());
        var first = await net.Nodes[0].GetInfoAsync(Ct());
        Assert.True(first.RoutingTableSize >= 5, $"node 0 knows {first.RoutingTableSize}");
        await using var client = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [net.Bootstrap[0]],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            Mode = DhtMode.Client,
        }, Ct());
        Assert.True(await client.BootstrappedAsync(Ct()));
        var info = await client.GetInfoAsync(Ct());
        Assert.True(info.RoutingTableSize >= 5);
        Assert.False(info.ServerMode);
        Assert.True(info.SizeEstimate > 0);
    }

    [Fact]
    public async Task Announce_and_get_peers()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        await using var b = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var hash = NodeId.Random();
        var put = await a.AnnouncePeerAsync(hash, 45555, Ct());
        Assert.Equal(PutStatus.Stored, put.Status);
        Assert.True(put.StoredOn >= 9, $"stored on {put.StoredOn}");
        var implied = await b.AnnouncePeerAsync(hash, null, Ct());
        Assert.True(implied.Succeeded);

        var peers = new HashSet<IPEndPoint>();
        await foreach (var list in a.GetPeersAsync(hash, Ct()))
        {
            peers.UnionWith(list);
        }

        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 45555), peers);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, b.LocalEndPoint.Port), peers);
    }

    [Fact]
    public async Task Put_and_get_immutable()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        await using var b = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var value = Encoding.ASCII.GetBytes("Hello World!");
        var put = await a.PutImmutableAsync(value, Ct());
        Assert.True(put.Succeeded);
        Assert.Equal("e5f96f6f38320f0f33959cb4d3d656452117aadb", put.Target.ToString());
        Assert.Equal(value, await b.GetImmutableAsync(put.Target, Ct()));
        Assert.Null(await b.GetImmutableAsync(NodeId.Random(), Ct()));
    }

    [Fact]
    public async Task Put_and_get_mutable_with_salt_and_seq_filter()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        await using var b = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var item = MutableItem.Sign(Seed(1), "hello"u8, 5, "salt"u8);
        var put = await a.PutMutableAsync(item, null, Ct());
        Assert.True(put.Succeeded);
        Assert.Equal(item.Target, put.Target);

        var got = new List<MutableItem>();
        await foreach (var m in b.GetMutableAsync(item.Key, Encoding.ASCII.GetBytes("salt"), null, Ct()))
        {
            got.Add(m);
        }

        // Every node of the store set returns the same item: the stream yields it once.
        var single = Assert.Single(got);
        Assert.Equal("hello"u8.ToArray(), single.Value.ToArray());
        Assert.Equal("salt"u8.ToArray(), single.Salt.ToArray());

        // Nothing newer than seq 5.
        await foreach (var m in b.GetMutableAsync(item.Key, Encoding.ASCII.GetBytes("salt"), 5, Ct()))
        {
            Assert.Fail($"unexpected item with seq {m.Seq}");
        }

        // Wrong salt: a different target, nothing there.
        Assert.Null(await b.GetMutableMostRecentAsync(item.Key, Encoding.ASCII.GetBytes("other"), Ct()));
        Assert.Equal(5, (await b.GetMutableMostRecentAsync(item.Key, "salt"u8.ToArray(), Ct()))!.Seq);
    }

    [Fact]
    public async Task Most_recent_wins_and_cas_and_seq_errors()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var v1 = MutableItem.Sign(Seed(2), "v1"u8, 1);
        var v2 = MutableItem.Sign(Seed(2), "v2"u8, 2);
        Assert.True((await a.PutMutableAsync(v1, null, Ct())).Succeeded);
        Assert.True((await a.PutMutableAsync(v2, 1, Ct())).Succeeded);
        var recent = await a.GetMutableMostRecentAsync(v1.Key, default, Ct());
        Assert.Equal(2, recent!.Seq);

        var v3 = MutableItem.Sign(Seed(2), "v3"u8, 3);
        var cas = await a.PutMutableAsync(v3, 1, Ct());
        Assert.Equal(PutStatus.CasFailed, cas.Status);
        Assert.Equal(301, cas.ErrorCode);

        var old = await a.PutMutableAsync(v1, null, Ct());
        Assert.Equal(PutStatus.NotMostRecent, old.Status);
        Assert.Equal(302, old.ErrorCode);
    }

    [Fact]
    public async Task Local_concurrency_rules()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var item = MutableItem.Sign(Seed(3), "same"u8, 10);
        var same = await Task.WhenAll(a.PutMutableAsync(item, null, Ct()), a.PutMutableAsync(item, null, Ct()));
        Assert.All(same, r => Assert.True(r.Succeeded));

        // A put that cannot finish yet (its only node never answers) is running while the others arrive.
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        silent.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        await using var slow = await Dht.CreateAsync(
            new DhtOptions { Bootstrap = [silent.LocalEndPoint!], Port = 0, BindAddress = System.Net.IPAddress.Loopback, Mode = DhtMode.Client, RequestTimeout = TimeSpan.FromMilliseconds(500) },
            Ct());
        var x = MutableItem.Sign(Seed(3), "x"u8, 11);
        var y = MutableItem.Sign(Seed(3), "y"u8, 12);
        var first = slow.PutMutableAsync(x, null, Ct());
        var conflict = await slow.PutMutableAsync(y, null, Ct());
        Assert.Equal(PutStatus.ConflictRisk, conflict.Status);
        var older = await slow.PutMutableAsync(MutableItem.Sign(Seed(3), "o"u8, 1), null, Ct());
        Assert.Equal(PutStatus.NotMostRecent, older.Status);
        Assert.Equal(PutStatus.NoClosestNodes, (await first).Status);

        // cas equal to the running put's seq replaces it; both callers get the newer put's result.
        var p1 = MutableItem.Sign(Seed(3), "p1"u8, 20);
        var p2 = MutableItem.Sign(Seed(3), "p2"u8, 21);
        var running = a.PutMutableAsync(p1, null, Ct());
        var replacing = a.PutMutableAsync(p2, 20, Ct());
        var results = await Task.WhenAll(running, replacing);
        Assert.All(results, r => Assert.True(r.Succeeded, r.Status.ToString()));
        Assert.Equal(21, (await a.GetMutableMostRecentAsync(p1.Key, default, Ct()))!.Seq);
    }

    [Fact]
    public async Task Put_without_any_node_is_no_closest_nodes()
    {
        await using var lonely = await Dht.CreateAsync(new DhtOptions { Bootstrap = [], Port = 0, BindAddress = IPAddress.Loopback }, Ct());
        var r = await lonely.PutImmutableAsync("x"u8.ToArray(), Ct());
        Assert.Equal(PutStatus.NoClosestNodes, r.Status);
    }

    [Fact]
    public async Task Streaming_get_yields_before_the_lookup_ends()
    {
        // 10 nodes and the silent one: a lookup visits every bootstrap address when there are at most 20.
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var item = MutableItem.Sign(Seed(4), "stream"u8, 1);
        Assert.True((await a.PutMutableAsync(item, null, Ct())).Succeeded);

        // A bootstrap node that never answers keeps the lookup open until the fake clock passes its timeout.
        using var silent = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var clock = new Clock();
        var options = net.ClientOptions();
        options.Bootstrap!.Add(silent.Client.LocalEndPoint!);
        options.TimeProvider = clock.Time;
        await using var b = await Dht.CreateAsync(options, Ct());
        await using var items = b.GetMutableAsync(item.Key, default, null, Ct()).GetAsyncEnumerator(Ct());
        Assert.True(await items.MoveNextAsync());
        Assert.Equal(item.Seq, items.Current.Seq);

        var end = items.MoveNextAsync().AsTask();
        Assert.False(end.IsCompleted);
        await clock.AdvanceAsync(options.RequestTimeout + TimeSpan.FromSeconds(1), Ct(), b);
        Assert.False(await end.WaitAsync(Ct()));
    }

    [Fact]
    public async Task Info_reports_public_address_and_not_firewalled_on_loopback()
    {
        await using var net = await Testnet.CreateAsync(5, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(DhtMode.Adaptive), Ct());
        Assert.True(await a.BootstrappedAsync(Ct()));
        var info = await Eventually(a, i => !i.Firewalled);

        Assert.Equal(a.LocalEndPoint, info.PublicEndPoint);
        Assert.False(info.Firewalled);
        Assert.False(info.ServerMode); // adaptive switches only at the 15-minute refresh
    }

    [Fact]
    public async Task Find_node_and_closest_nodes_are_sorted()
    {
        await using var net = await Testnet.CreateAsync(30, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var target = NodeId.Random();
        var nodes = await a.FindNodeAsync(target, Ct());
        Assert.Equal(20, nodes.Count);
        for (var i = 1; i < nodes.Count; i++)
        {
            Assert.True(target.CompareDistance(nodes[i - 1].Id, nodes[i].Id) < 0);
        }

        var store = await a.GetClosestNodesAsync(target, Ct());
        Assert.True(store.Count >= 20);
    }

    [Fact]
    public async Task Fifty_node_unseeded_network()
    {
        await using var net = await Testnet.CreateAsync(50, seeded: false, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [net.Bootstrap[0]],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            Mode = DhtMode.Client,
        }, Ct());
        Assert.True(await a.BootstrappedAsync(Ct()));
        var item = MutableItem.Sign(Seed(50), "fifty"u8, 1);
        var put = await a.PutMutableAsync(item, null, Ct());
        Assert.True(put.StoredOn >= 20, $"stored on {put.StoredOn}");
        await using var b = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [net.Bootstrap[49]],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            Mode = DhtMode.Client,
        }, Ct());
        Assert.Equal(1, (await b.GetMutableMostRecentAsync(item.Key, default, Ct()))!.Seq);
        var info = await b.GetInfoAsync(Ct());
        Assert.InRange(info.SizeEstimate, 10, 500);
    }

    [Fact]
    public async Task Lookups_on_a_fifty_node_testnet_see_no_timeouts()
    {
        // Every node answers, so a lookup ends when the last reply is in: on a clock that never moves, no request
        // can time out, and a reply lost to a burst past our receive buffer would leave the lookup hanging.
        await using var net = await Testnet.CreateAsync(50, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var item = MutableItem.Sign(Seed(51), "no timeouts"u8, 1);
        Assert.True((await a.PutMutableAsync(item, null, Ct())).StoredOn >= 20);
        var options = net.ClientOptions();
        options.TimeProvider = new Clock().Time;
        await using var b = await Dht.CreateAsync(options, Ct());
        var outcome = await b.GetMutableDetailedAsync(item.Key, default, null, Ct());
        Assert.Equal(0, outcome.Diagnostics.TimedOut);
        Assert.True(outcome.Diagnostics.Values >= 20, outcome.Diagnostics.ToString());
        Assert.Single(outcome.Items);
    }

    [Fact]
    public async Task Disposing_completes_running_streams()
    {
        // A bootstrap node that never answers, on a clock that never moves: the lookups cannot end by themselves.
        using var silent = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var node = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [silent.Client.LocalEndPoint!],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            TimeProvider = new Clock().Time,
        }, Ct());
        var items = node.GetMutableAsync(new byte[32], default, null, Ct()).GetAsyncEnumerator(Ct());
        var next = items.MoveNextAsync().AsTask(); // queues the lookup's start
        var find = node.FindNodeAsync(NodeId.Random(), Ct());
        // Commands run in order: once this one has, both lookups (and the join lookup) are running.
        Assert.Equal(3, await node.Node.InvokeAsync(() => node.Node.Core.LookupsStarted, Ct()));
        Assert.False(next.IsCompleted);
        await node.DisposeAsync();
        Assert.False(await next.WaitAsync(Ct()));
        Assert.Empty(await find.WaitAsync(Ct()));
        await items.DisposeAsync();
    }

    [Fact]
    public async Task Disposed_node_fails_calls()
    {
        var net = await Testnet.CreateAsync(1, cancellationToken: Ct());
        var node = net.Nodes[0];
        await net.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => node.GetInfoAsync(Ct()));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
        {
            await foreach (var _ in node.GetMutableAsync(new byte[32], default, null, Ct()))
            {
            }
        });
    }

    /// <summary>Polls the node's info until <paramref name="condition"/> holds: at most 100 times, 50 ms apart.</summary>
    internal static async Task<DhtInfo> Eventually(Dht node, Func<DhtInfo, bool> condition)
    {
        var info = await node.GetInfoAsync(Ct());
        for (var attempt = 0; attempt < 100 && !condition(info); attempt++)
        {
            await Task.Delay(50, Ct());
            info = await node.GetInfoAsync(Ct());
        }

        return info;
    }

    [Fact]
    public async Task Streams_started_as_the_node_stops_complete()
    {
        // A get posted just before the stop runs during shutdown; its lookup must end, not leave the caller waiting.
        await using var net = await Testnet.CreateAsync(5, cancellationToken: Ct());
        var node = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var streams = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            try
            {
                await foreach (var _ in node.GetMutableAsync(Enumerable.Repeat((byte)i, 32).ToArray(), default, null, Ct()))
                {
                }
            }
            catch (ObjectDisposedException)
            {
                // posted after the stop: refused at once, which is fine too
            }
        })).ToList();
        await node.DisposeAsync();
        await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(10));
    }
}
