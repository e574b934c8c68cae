using System.Net;
using System.Net.Sockets;
using Mainline.Routing;
using Mainline.Rpc;

namespace Mainline.Tests;

/// <summary>
/// The caller-sent first query of a lookup (LocalNode.PrepareFirstQuery), the wait for its reply before the rest of the
/// lookup, the table copy it is chosen from, and the one verification shared by identical items.
/// </summary>
public sealed class FirstQueryTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static byte[] Seed(int i) => Enumerable.Range(i, 32).Select(b => (byte)b).ToArray();

    /// <summary>An id that differs from <paramref name="target"/> only in its last bit: closer than any random id.</summary>
    private static NodeId NextTo(NodeId target)
    {
        var bytes = target.ToArray();
        bytes[^1] ^= 1;
        return new NodeId(bytes);
    }

    [Fact]
    public void Snapshot_picks_secure_nodes_first_then_the_closest()
    {
        var own = NodeId.Random();
        var target = NodeId.Random();
        var table = new RoutingTable(own);
        var publicAddress = IPAddress.Parse("203.0.113.7");
        var insecureButClosest = new DhtNode(NextTo(target), new IPEndPoint(publicAddress, 1000));
        var secure = Enumerable.Range(0, 5).Select(i => new DhtNode(NodeId.CreateSecure(IPAddress.Parse($"198.51.100.{i + 1}")), new IPEndPoint(IPAddress.Parse($"198.51.100.{i + 1}"), 2000))).ToList();
        Assert.True(table.Add(insecureButClosest, 0));
        Assert.All(secure, n => Assert.True(table.Add(n, 0)));

        var snapshot = new RoutingSnapshot(table, readOnly: true);
        var expected = secure.OrderBy(n => n.Id, Comparer<NodeId>.Create(target.CompareDistance)).First();
        Assert.Equal(expected, snapshot.Closest(target));
        Assert.Equal(table.Closest(target, 1).Single(), snapshot.Closest(target));
        Assert.Equal(own, snapshot.Id);
        Assert.True(snapshot.ReadOnly);

        // Only insecure nodes left: the closest of them.
        var insecureOnly = new RoutingTable(own);
        insecureOnly.Add(insecureButClosest, 0);
        insecureOnly.Add(new DhtNode(NodeId.Random(), new IPEndPoint(IPAddress.Parse("203.0.113.8"), 1000)), 0);
        Assert.Equal(insecureButClosest, new RoutingSnapshot(insecureOnly, readOnly: false).Closest(target));
        Assert.Null(new RoutingSnapshot(new RoutingTable(own), readOnly: false).Closest(target));
    }

    [Fact]
    public void Table_version_changes_when_nodes_enter_or_leave()
    {
        var table = new RoutingTable(NodeId.Random());
        var node = new DhtNode(NodeId.Random(), new IPEndPoint(IPAddress.Loopback, 1));
        int v0 = table.Version;
        table.Add(node, 0);
        int v1 = table.Version;
        table.Add(node, 5); // refreshed, not changed
        Assert.NotEqual(v0, v1);
        Assert.Equal(v1, table.Version);
        table.Remove(node.Id);
        Assert.NotEqual(v1, table.Version);
    }

    [Fact]
    public void Identical_items_share_one_verification()
    {
        var item = MutableItem.Sign(Seed(3), "same value"u8, 7);
        var lookup = new Lookup(new LookupKey(item.Target, LookupKind.Get, null), null, 0);
        Assert.Null(lookup.AlreadyVerified(item.Key, item.Seq, item.EncodedValue, item.Signature));
        lookup.Deliver(new MutableValue(item));

        Assert.Same(item, lookup.AlreadyVerified(item.Key, item.Seq, [.. item.EncodedValue], [.. item.Signature]));
        var otherSignature = item.Signature.ToArray();
        otherSignature[0] ^= 1;
        Assert.Null(lookup.AlreadyVerified(item.Key, item.Seq, item.EncodedValue, otherSignature));
        Assert.Null(lookup.AlreadyVerified(item.Key, item.Seq + 1, item.EncodedValue, item.Signature));
        var otherValue = item.EncodedValue.ToArray();
        otherValue[^1] ^= 1;
        Assert.Null(lookup.AlreadyVerified(item.Key, item.Seq, otherValue, item.Signature));
    }

    [Fact]
    public async Task A_get_whose_closest_node_is_silent_finds_the_value_without_waiting_for_its_timeout()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var publisher = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var item = MutableItem.Sign(Seed(21), "behind a silent node"u8, 3);
        Assert.True((await publisher.PutMutableAsync(item, null, Ct())).Succeeded);

        var options = new DhtOptions
        {
            Bootstrap = net.Bootstrap, Port = 0, BindAddress = IPAddress.Loopback, Mode = DhtMode.Client, RequestTimeout = TimeSpan.FromSeconds(5),
        };
        await using var client = await Dht.CreateAsync(options, Ct());
        Assert.True(await client.BootstrappedAsync(Ct()));

        // A node that never answers, closer to the target than any other: the caller's first query goes to it.
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var fake = new DhtNode(NextTo(item.Target), (IPEndPoint)silent.Client.LocalEndPoint!);
        var node = client.Node;
        Assert.True(await node.InvokeAsync(() => node.Table.Add(fake, LocalNode.Now), Ct()));

        // The loop copies the changed table at the end of a lookup, or at a tick (bounded wait).
        await client.GetImmutableAsync(NodeId.Random(), Ct());
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (node.Snapshot?.Closest(item.Target) != fake && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20, Ct());
        }

        Assert.Equal(fake, node.Snapshot?.Closest(item.Target));
        while (silent.Available > 0)
        {
            await silent.ReceiveAsync(Ct()); // queries of the gets so far
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        MutableItem? first = null;
        await foreach (var got in client.GetMutableAsync(item.Key, null, null, Ct()))
        {
            first = got;
            break;
        }

        // Held for the first reply at most a few milliseconds, never for the 5-s request timeout.
        Assert.NotNull(first);
        Assert.Equal(item.Seq, first.Seq);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2.5), $"first value after {sw.Elapsed}");
        var query = await silent.ReceiveAsync(Ct()).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(Mainline.Krpc.KrpcCodec.TryDecode(query.Buffer, out var message) == Mainline.Krpc.DecodeStatus.Ok);
        Assert.Equal(item.Target, Assert.IsType<Mainline.Krpc.GetQuery>(message!.Query).Target);
    }
}
