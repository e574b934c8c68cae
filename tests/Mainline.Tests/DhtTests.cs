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

        Assert.NotEmpty(got);
        Assert.All(got, m => Assert.Equal("hello"u8.ToArray(), m.Value));

        // Nothing newer than seq 5.
        await foreach (var m in b.GetMutableAsync(item.Key, Encoding.ASCII.GetBytes("salt"), 5, Ct()))
        {
            Assert.Fail($"unexpected item with seq {m.Seq}");
        }

        // Wrong salt: a different target, nothing there.
        Assert.Null(await b.GetMutableMostRecentAsync(item.Key, Encoding.ASCII.GetBytes("other"), Ct()));
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
        var recent = await a.GetMutableMostRecentAsync(v1.Key, null, Ct());
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
            new DhtOptions { Bootstrap = [silent.LocalEndPoint!.ToString()!], Port = 0, BindAddress = System.Net.IPAddress.Loopback, Mode = DhtMode.Client, RequestTimeout = TimeSpan.FromMilliseconds(500) },
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
        Assert.Equal(21, (await a.GetMutableMostRecentAsync(p1.Key, null, Ct()))!.Seq);
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
        await using var net = await Testnet.CreateAsync(20, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var item = MutableItem.Sign(Seed(4), "stream"u8, 1);
        Assert.True((await a.PutMutableAsync(item, null, Ct())).Succeeded);
        await using var b = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var sw = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan? first = null;
        var count = 0;
        await foreach (var _ in b.GetMutableAsync(item.Key, null, null, Ct()))
        {
            first ??= sw.Elapsed;
            count++;
        }

        Assert.True(count >= 10, $"{count} copies");
        Assert.True(first < sw.Elapsed);
        Assert.True(first < TimeSpan.FromSeconds(2), $"first value after {first}");
    }

    [Fact]
    public async Task Info_reports_public_address_and_not_firewalled_on_loopback()
    {
        await using var net = await Testnet.CreateAsync(5, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(DhtMode.Adaptive), Ct());
        Assert.True(await a.BootstrappedAsync(Ct()));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        DhtInfo info;
        do
        {
            await Task.Delay(50, Ct());
            info = await a.GetInfoAsync(Ct());
        }
        while (info.Firewalled && DateTime.UtcNow < deadline);

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
        Assert.Equal(1, (await b.GetMutableMostRecentAsync(item.Key, null, Ct()))!.Seq);
        var info = await b.GetInfoAsync(Ct());
        Assert.InRange(info.SizeEstimate, 10, 500);
    }

    [Fact]
    public async Task Lookups_on_a_fifty_node_testnet_see_no_timeouts()
    {
        // Every node answers, so a lookup must end as soon as the last reply is in, far below the 2-s timeout:
        // a long bootstrap list must not burst replies past our receive buffer.
        await using var net = await Testnet.CreateAsync(50, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var item = MutableItem.Sign(Seed(51), "no timeouts"u8, 1);
        Assert.True((await a.PutMutableAsync(item, null, Ct())).StoredOn >= 20);
        await using var b = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var outcome = await b.GetMutableDetailedAsync(item.Key, null, null, Ct());
        Assert.Equal(0, outcome.Diagnostics.TimedOut);
        Assert.True(outcome.Diagnostics.Values >= 20, outcome.Diagnostics.ToString());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1.5), $"lookup took {sw.Elapsed}");
    }

    [Fact]
    public async Task Disposing_completes_running_streams()
    {
        // A bootstrap node that never answers keeps the lookup running for the 2-s timeout.
        using var silent = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var node = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [silent.Client.LocalEndPoint!.ToString()!],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            RequestTimeout = TimeSpan.FromSeconds(20),
        }, Ct());
        var stream = Task.Run(async () =>
        {
            var n = 0;
            await foreach (var _ in node.GetMutableAsync(new byte[32], null, null, Ct()))
            {
                n++;
            }

            return n;
        });
        var find = node.FindNodeAsync(NodeId.Random(), Ct());
        await Task.Delay(200);
        await node.DisposeAsync();
        Assert.Equal(0, await stream.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Empty(await find.WaitAsync(TimeSpan.FromSeconds(5)));
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
            await foreach (var _ in node.GetMutableAsync(new byte[32], null, null, Ct()))
            {
            }
        });
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
                await foreach (var _ in node.GetMutableAsync([.. Enumerable.Repeat((byte)i, 32)], null, null, Ct()))
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
