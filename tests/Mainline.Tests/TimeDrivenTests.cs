using System.Net;
using System.Net.Sockets;
using Mainline.Krpc;

namespace Mainline.Tests;

/// <summary>Behaviour driven by the clock (timeouts, expiry, token rotation, purge), on a fake clock.</summary>
public sealed class TimeDrivenTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static DhtOptions Loopback(Clock clock, DhtMode mode, params EndPoint[] bootstrap) => new()
    {
        Bootstrap = [.. bootstrap],
        Port = 0,
        BindAddress = IPAddress.Loopback,
        Mode = mode,
        RateLimitPerIp = 0,
        TimeProvider = clock.Time,
    };

    [Fact]
    public async Task A_silent_node_ends_a_lookup_at_the_initial_soft_timeout_and_not_before()
    {
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var clock = new Clock();
        await using var node = await Dht.CreateAsync(Loopback(clock, DhtMode.Client, silent.Client.LocalEndPoint!), Ct());
        var find = node.FindNodeAsync(NodeId.Random(), Ct());
        await node.Node.InvokeAsync(() => true, Ct()); // the lookup has started, on the clock's time 0
        var query = await silent.ReceiveAsync(Ct()); // the join lookup's or this one's find_node
        Assert.Equal(DecodeStatus.Ok, KrpcCodec.TryDecode(query.Buffer, out var message));
        Assert.IsType<FindNodeQuery>(message!.Query);

        // No round trip measured yet: the lookup gives the query the initial soft timeout (1 s), not the 2-s request
        // timeout (NodeCore.Rtt.cs).
        await clock.AdvanceAsync(TimeSpan.FromSeconds(0.9), Ct(), node);
        Assert.False(find.IsCompleted);
        await clock.AdvanceAsync(TimeSpan.FromSeconds(0.2), Ct(), node);
        Assert.Empty(await find.WaitAsync(Ct()));
    }

    [Fact]
    public async Task Stored_items_expire_two_hours_after_their_last_put()
    {
        var clock = new Clock();
        await using var server = await Dht.CreateAsync(Loopback(clock, DhtMode.Server), Ct());
        await using var writer = await Dht.CreateAsync(Loopback(new Clock(), DhtMode.Client, server.LocalEndPoint), Ct());
        var mutable = MutableItem.Sign(new byte[32], "expires"u8, 1);
        Assert.Equal(1, (await writer.PutMutableAsync(mutable, null, Ct())).StoredOn);
        var immutable = await writer.PutImmutableAsync("expires too"u8.ToArray(), Ct());
        Assert.Equal(1, immutable.StoredOn);

        var storage = server.Node.Core;
        Task<bool> Held() => server.Node.InvokeAsync(
            () => storage.Storage.GetMutable(mutable.Target, storage.Now) is not null && storage.Storage.GetImmutable(immutable.Target, storage.Now) is not null,
            Ct());
        Task<bool> Gone() => server.Node.InvokeAsync(
            () => storage.Storage.GetMutable(mutable.Target, storage.Now) is null && storage.Storage.GetImmutable(immutable.Target, storage.Now) is null,
            Ct());

        await clock.AdvanceAsync(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1), Ct(), server);
        Assert.True(await Held());
        await clock.AdvanceAsync(TimeSpan.FromSeconds(2), Ct(), server);
        Assert.True(await Gone());
    }

    [Fact]
    public async Task Announced_peers_expire_after_45_minutes()
    {
        var clock = new Clock();
        await using var server = await Dht.CreateAsync(Loopback(clock, DhtMode.Server), Ct());
        await using var peer = await Dht.CreateAsync(Loopback(new Clock(), DhtMode.Client, server.LocalEndPoint), Ct());
        var hash = NodeId.Random();
        Assert.True((await peer.AnnouncePeerAsync(hash, 45678, Ct())).Succeeded);
        var node = server.Node;
        Task<int> Peers() => node.InvokeAsync(() => node.Core.Storage.GetPeers(hash, node.Now).Count, Ct());

        await clock.AdvanceAsync(TimeSpan.FromMinutes(45) - TimeSpan.FromSeconds(1), Ct(), server);
        Assert.Equal(1, await Peers());
        await clock.AdvanceAsync(TimeSpan.FromSeconds(2), Ct(), server);
        Assert.Equal(0, await Peers());
    }

    [Fact]
    public async Task A_token_is_accepted_for_one_rotation_and_refused_after_two()
    {
        var clock = new Clock();
        await using var server = await Dht.CreateAsync(Loopback(clock, DhtMode.Server), Ct());
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var id = NodeId.Random();
        var value = KrpcCodec.EncodeString("token test"u8);
        var target = Bep44.ImmutableTarget(value);

        var get = await Raw.AskAsync(udp, server.LocalEndPoint, new GetQuery(id, target, null), Ct());
        var token = get!.Response!.Token!;
        async Task<Message?> Put() => await Raw.AskAsync(udp, server.LocalEndPoint, new PutImmutableQuery(id, token, value, target), Ct());

        // Secrets rotate every 5 minutes; a token of the previous secret still counts.
        await clock.AdvanceAsync(TimeSpan.FromMinutes(6), Ct(), server);
        Assert.Equal(MessageKind.Response, (await Put())!.Kind);
        await clock.AdvanceAsync(TimeSpan.FromMinutes(5), Ct(), server);
        Assert.Equal(203, (await Put())!.Error!.Code);
    }

    [Fact]
    public async Task Purges_keep_answering_nodes_and_drop_a_node_after_two_missed_pings()
    {
        await using var live = await Testnet.CreateAsync(1, cancellationToken: Ct());
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var clock = new Clock();
        await using var server = await Dht.CreateAsync(Loopback(clock, DhtMode.Server), Ct());
        var node = server.Node;
        var liveNode = new DhtNode((await live.Nodes[0].GetInfoAsync(Ct())).Id, live.Nodes[0].LocalEndPoint);
        var silentNode = new DhtNode(NodeId.Random(), (IPEndPoint)silent.Client.LocalEndPoint!);
        Assert.True(await node.InvokeAsync(() => node.Core.Table.Add(liveNode, node.Now) && node.Core.Table.Add(silentNode, node.Now), Ct()));

        Task<bool> Known(DhtNode n) => node.InvokeAsync(() => node.Core.Table.Find(n.Id) is not null, Ct());
        async Task PurgeAndLetTheLiveNodeAnswer()
        {
            await clock.AdvanceAsync(TimeSpan.FromMinutes(5), Ct(), server);
            var answered = false;
            for (var attempt = 0; attempt < 200 && !answered; attempt++)
            {
                answered = await node.InvokeAsync(() => node.Core.Table.Find(liveNode.Id)?.MissedPings == 0, Ct());
                if (!answered)
                {
                    await Task.Delay(5, Ct());
                }
            }

            Assert.True(answered, "the live node's ping reply did not arrive");
        }

        await PurgeAndLetTheLiveNodeAnswer(); // first ping of both
        await PurgeAndLetTheLiveNodeAnswer(); // second ping of the silent node: missed one so far
        Assert.True(await Known(silentNode));
        await PurgeAndLetTheLiveNodeAnswer(); // two missed pings: dropped
        Assert.False(await Known(silentNode));
        Assert.True(await Known(liveNode));
    }
}

/// <summary>Raw KRPC over UDP, as a foreign node would send it; replies are matched by transaction id.</summary>
internal static class Raw
{
    private static int _nextTid;

    /// <summary>Sends <paramref name="query"/> and returns the reply with its transaction id, or null after
    /// <paramref name="timeoutMs"/> (real time: a silence is what the caller expects then).</summary>
    public static Task<Message?> AskAsync(UdpClient udp, IPEndPoint to, Query query, CancellationToken cancellationToken, int timeoutMs = 2000)
    {
        var tid = BitConverter.GetBytes(Interlocked.Increment(ref _nextTid));
        return AskAsync(udp, to, KrpcCodec.EncodeQuery(tid, query, default, false), cancellationToken, timeoutMs);
    }

    /// <summary>Sends a datagram and returns the reply whose <c>t</c> equals the datagram's, skipping any other.</summary>
    public static async Task<Message?> AskAsync(UdpClient udp, IPEndPoint to, byte[] datagram, CancellationToken cancellationToken, int timeoutMs = 1000)
    {
        byte[]? tid = KrpcCodec.TryDecode(datagram, out var sent) is DecodeStatus.Ok or DecodeStatus.Malformed or DecodeStatus.UnknownMethod
            ? sent!.TransactionId
            : null;
        await udp.SendAsync(datagram, to, cancellationToken);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(timeoutMs);
        try
        {
            for (var received = 0; received < 100; received++)
            {
                var reply = await udp.ReceiveAsync(wait.Token);
                if (KrpcCodec.TryDecode(reply.Buffer, out var message) == DecodeStatus.Ok && message!.Kind != MessageKind.Query
                    && (tid is null || message.TransactionId.AsSpan().SequenceEqual(tid)))
                {
                    return message;
                }
            }

            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
