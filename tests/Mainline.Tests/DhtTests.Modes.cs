using System.Net;

namespace Mainline.Tests;

public sealed class DhtModesTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    [Fact]
    public async Task Adaptive_node_becomes_a_server_once_reachable()
    {
        await using var net = await Testnet.CreateAsync(5, cancellationToken: Ct());
        var options = net.ClientOptions(DhtMode.Adaptive);
        await using var node = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = options.Bootstrap,
            Port = 0,
            BindAddress = IPAddress.Loopback,
            Mode = DhtMode.Adaptive,
            RefreshInterval = TimeSpan.FromMilliseconds(500),
        }, Ct());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        DhtInfo info;
        do
        {
            await Task.Delay(100, Ct());
            info = await node.GetInfoAsync(Ct());
        }
        while (!info.ServerMode && DateTime.UtcNow < deadline);

        Assert.True(info.ServerMode);
        Assert.False(info.Firewalled);
    }

    [Fact]
    public async Task Forced_client_never_becomes_a_server()
    {
        await using var net = await Testnet.CreateAsync(3, cancellationToken: Ct());
        await using var node = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = net.Bootstrap,
            Port = 0,
            BindAddress = IPAddress.Loopback,
            Mode = DhtMode.Client,
            RefreshInterval = TimeSpan.FromMilliseconds(200),
        }, Ct());
        await node.BootstrappedAsync(Ct());
        await Task.Delay(1000, Ct());
        Assert.False((await node.GetInfoAsync(Ct())).ServerMode);
    }

    [Fact]
    public async Task Known_public_address_gives_a_secure_id_and_a_fresh_table()
    {
        await using var net = await Testnet.CreateAsync(5, cancellationToken: Ct());
        var node = net.Nodes[0];
        var before = await node.GetInfoAsync(Ct());
        var publicAddress = new IPEndPoint(IPAddress.Parse("124.31.75.21"), 6881);
        Assert.False(before.Id.IsValidFor(publicAddress.Address));
        // As if our own ping had come back through that public address (§5 step 4); no datagram goes there.
        await node.Node.InvokeAsync(() =>
        {
            node.Node.OnOwnPingReturned(publicAddress);
            return true;
        }, Ct());
        var after = await node.GetInfoAsync(Ct());
        Assert.True(after.Id.IsValidFor(publicAddress.Address));
        Assert.NotEqual(before.Id, after.Id);
        Assert.False(after.Firewalled);
        // The lookup for the new id, seeded from the old table, refills the new table.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while ((await node.GetInfoAsync(Ct())).RoutingTableSize == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct());
        }

        Assert.True((await node.GetInfoAsync(Ct())).RoutingTableSize > 0);
    }

    [Fact]
    public async Task Public_ip_option_seeds_a_secure_id()
    {
        await using var node = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            PublicIp = IPAddress.Parse("65.23.51.170"),
        }, Ct());
        var info = await node.GetInfoAsync(Ct());
        Assert.True(info.Id.IsValidFor(IPAddress.Parse("65.23.51.170")));
        Assert.Null(info.PublicEndPoint);
        Assert.True(info.Firewalled);
    }

    [Fact]
    public async Task Bootstrap_lists_resolve_literals_and_keep_defaults_with_extras()
    {
        var list = await Mainline.Rpc.LocalNode.ResolveAsync(["127.0.0.1:7000", "127.0.0.1:7000", "127.0.0.2:7001"], Ct());
        Assert.Equal(2, list.Count);
        await Assert.ThrowsAsync<ArgumentException>(() => Mainline.Rpc.LocalNode.ResolveAsync(["nonsense"], Ct()));
        await Assert.ThrowsAsync<ArgumentException>(() => Mainline.Rpc.LocalNode.ResolveAsync(["127.0.0.1:0"], Ct()));
        // Extras are added to an explicit list (and to the defaults when none is given: not resolved here,
        // tests never touch public hosts).
        await using var node = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = ["127.0.0.1:9"],
            ExtraBootstrap = ["127.0.0.1:10"],
            Port = 0,
            BindAddress = IPAddress.Loopback,
        }, Ct());
        Assert.Equal(2, node.Node.BootstrapNodes.Count);
    }

    [Fact]
    public async Task Second_put_reuses_fresh_tokens_without_a_lookup()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var seed = new byte[32];
        seed[0] = 42;
        Assert.True((await a.PutMutableAsync(MutableItem.Sign(seed, "1"u8, 1), null, Ct())).Succeeded);
        var lookups = await a.Node.InvokeAsync(() => a.Node.LookupsStarted, Ct());
        var second = await a.PutMutableAsync(MutableItem.Sign(seed, "2"u8, 2), 1, Ct());
        Assert.True(second.Succeeded);
        Assert.True(second.StoredOn >= 10);
        Assert.Equal(lookups, await a.Node.InvokeAsync(() => a.Node.LookupsStarted, Ct()));
    }

    [Fact]
    public async Task Detailed_get_reports_diagnostics()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var item = MutableItem.Sign(new byte[32], "d"u8, 3);
        Assert.True((await a.PutMutableAsync(item, null, Ct())).Succeeded);
        await using var b = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var all = await b.GetMutableDetailedAsync(item.Key, null, null, Ct());
        Assert.Equal(3, all.MostRecent!.Seq);
        Assert.Equal(all.Items.Count, all.Diagnostics.Values);
        Assert.True(all.Diagnostics.Values >= 10);
        Assert.Equal(0, all.Diagnostics.InvalidValues);
        Assert.True(all.Diagnostics.Queried >= all.Diagnostics.Responded);

        var newer = await b.GetMutableDetailedAsync(item.Key, null, 3, Ct());
        Assert.Empty(newer.Items);
        Assert.True(newer.Diagnostics.NoMoreRecent >= 10);
    }
}
