using System.Net;
using System.Net.Sockets;
using System.Text;
using CsCheck;
using Mainline.Bencode;
using Mainline.Krpc;

namespace Mainline.Tests;

/// <summary>Raw datagrams against a server node on 127.0.0.1, as a foreign client would send them.</summary>
public sealed class ServerHandlerTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>The reply to <paramref name="datagram"/> (matched by transaction id), or null after <paramref name="timeoutMs"/>.</summary>
    private static Task<Message?> Ask(UdpClient udp, IPEndPoint to, byte[] datagram, int timeoutMs = 1000) =>
        Raw.AskAsync(udp, to, datagram, Ct(), timeoutMs);

    private static UdpClient Client() => new(new IPEndPoint(IPAddress.Loopback, 0));

    private const string Id20 = "abcdefghij0123456789";

    [Theory]
    [InlineData("xy")]
    [InlineData("12345678")]
    public async Task Any_tid_is_echoed_and_reply_carries_ip_and_v(string tid)
    {
        await using var net = await Testnet.CreateAsync(1, cancellationToken: Ct());
        using var udp = Client();
        var m = await Ask(udp, net.Nodes[0].LocalEndPoint, B($"d1:ad2:id20:{Id20}e1:q4:ping1:t{tid.Length}:{tid}1:y1:qe"));
        Assert.NotNull(m);
        Assert.Equal(B(tid), m!.TransactionId);
        Assert.Equal(MessageKind.Response, m.Kind);
        Assert.Equal((IPEndPoint)udp.Client.LocalEndPoint!, m.ExternalAddress);
        Assert.Equal(B("CS\0\u0001"), m.Version);
        Assert.False(m.ReadOnly);
    }

    [Fact]
    public async Task Protocol_errors_and_unknown_methods()
    {
        await using var net = await Testnet.CreateAsync(3, cancellationToken: Ct());
        var to = net.Nodes[0].LocalEndPoint;
        using var udp = Client();
        var k = new string('K', 32);
        var noSig = await Ask(udp, to, B($"d1:ad2:id20:{Id20}1:k32:{k}3:seqi1e5:token4:abcd1:v1:xe1:q3:put1:t2:aa1:y1:qe"));
        Assert.Equal(203, noSig!.Error!.Code);
        var unknown = await Ask(udp, to, B($"d1:ad2:id20:{Id20}e1:q5:hello1:t2:ab1:y1:qe"));
        Assert.Equal(204, unknown!.Error!.Code);
        var likeFindNode = await Ask(udp, to, B($"d1:ad2:id20:{Id20}6:target20:{Id20}e1:q5:hello1:t2:ac1:y1:qe"));
        Assert.True(likeFindNode!.Response!.Nodes!.Count >= 2);
        var badToken = await Ask(udp, to, B($"d1:ad2:id20:{Id20}5:token4:abcd1:v1:xe1:q3:put1:t2:ad1:y1:qe"));
        Assert.Equal(203, badToken!.Error!.Code);
        Assert.Equal(203, (await Ask(udp, to, B("d1:t2:xy1:y1:qe")))!.Error!.Code); // a usable t but no q/a
        Assert.Null(await Ask(udp, to, B("d1:y1:qe"), 300)); // no t: never answered
    }

    [Fact]
    public async Task Get_put_round_trip_over_raw_krpc()
    {
        await using var net = await Testnet.CreateAsync(1, cancellationToken: Ct());
        var to = net.Nodes[0].LocalEndPoint;
        using var udp = Client();
        var item = MutableItem.Sign(new byte[32], "v"u8, 3);
        var id = new NodeId(B(Id20));
        var get = await Ask(udp, to, KrpcCodec.EncodeQuery(B("g1"), new GetQuery(id, item.Target, null), default, false));
        var token = get!.Response!.Token!;
        var put = new PutMutableQuery(id, token, item.KeyArray, null, 3, item.SignatureArray, item.EncodedValueArray, null, null);
        Assert.Equal(MessageKind.Response, (await Ask(udp, to, KrpcCodec.EncodeQuery(B("p1"), put, default, false)))!.Kind);
        var again = await Ask(udp, to, KrpcCodec.EncodeQuery(B("g2"), new GetQuery(id, item.Target, null), default, false));
        Assert.Equal(3, again!.Response!.Seq);
        Assert.Equal(item.EncodedValueArray, again.Response.EncodedValue);
        var newer = await Ask(udp, to, KrpcCodec.EncodeQuery(B("g3"), new GetQuery(id, item.Target, 3), default, false));
        Assert.Equal(3, newer!.Response!.Seq);
        Assert.Null(newer.Response.EncodedValue);
        Assert.Null(newer.Response.Signature);
        // A token from another target is refused.
        var other = MutableItem.Sign(new byte[32], "v"u8, 3, "s"u8);
        var wrong = new PutMutableQuery(id, token, other.KeyArray, other.SaltArray, 3, other.SignatureArray, other.EncodedValueArray, null, null);
        Assert.Equal(203, (await Ask(udp, to, KrpcCodec.EncodeQuery(B("p2"), wrong, default, false)))!.Error!.Code);
    }

    [Fact]
    public async Task A_get_reply_with_a_1000_byte_value_fits_one_unfragmented_datagram()
    {
        // libtorrent reads into a 1500-byte buffer: a reply with the value and all 20 nodes (~1.7 KB) is lost there.
        await using var net = await Testnet.CreateAsync(25, cancellationToken: Ct());
        var to = net.Nodes[0].LocalEndPoint;
        using var udp = Client();
        var item = MutableItem.Sign(new byte[32], new byte[1000], 7);
        var id = new NodeId(B(Id20));
        var get = await Ask(udp, to, KrpcCodec.EncodeQuery(B("g1"), new GetQuery(id, item.Target, null), default, false));
        Assert.Equal(20, get!.Response!.Nodes!.Count);
        var put = new PutMutableQuery(id, get.Response.Token!, item.KeyArray, null, 7, item.SignatureArray, item.EncodedValueArray, null, null);
        Assert.Equal(MessageKind.Response, (await Ask(udp, to, KrpcCodec.EncodeQuery(B("p1"), put, default, false)))!.Kind);

        await udp.SendAsync(KrpcCodec.EncodeQuery(B("g2"), new GetQuery(id, item.Target, null), default, false), to);
        using var cts = new CancellationTokenSource(2000);
        var reply = await udp.ReceiveAsync(cts.Token);
        Assert.InRange(reply.Buffer.Length, 1100, 1472);
        Assert.Equal(DecodeStatus.Ok, KrpcCodec.TryDecode(reply.Buffer, out var m));
        Assert.Equal(item.EncodedValueArray, m!.Response!.EncodedValue);
        Assert.NotEmpty(m.Response.Nodes!);
    }

    [Fact]
    public async Task Client_mode_does_not_answer_and_sends_ro()
    {
        await using var net = await Testnet.CreateAsync(1, cancellationToken: Ct());
        await using var client = await Dht.CreateAsync(net.ClientOptions(DhtMode.Client), Ct());
        using var udp = Client();
        Assert.Null(await Ask(udp, client.LocalEndPoint, B($"d1:ad2:id20:{Id20}e1:q4:ping1:t2:xy1:y1:qe"), 300));
    }

    [Fact]
    public async Task Request_filter_and_rate_limit()
    {
        var clock = new Clock();
        var options = new DhtOptions
        {
            Bootstrap = [],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            Mode = DhtMode.Server,
            RateLimitPerIp = 0.5,
            RateLimitBurst = 3,
            RequestFilter = r => r.Method != "find_node",
            TimeProvider = clock.Time,
        };
        await using var node = await Dht.CreateAsync(options, Ct());
        using var udp = Client();
        Assert.Null(await Ask(udp, node.LocalEndPoint, B($"d1:ad2:id20:{Id20}6:target20:{Id20}e1:q9:find_node1:t2:f11:y1:qe"), 300));
        Assert.NotNull(await Ask(udp, node.LocalEndPoint, B($"d1:ad2:id20:{Id20}e1:q4:ping1:t2:p01:y1:qe")));

        async Task<int> Answered(int pings)
        {
            var answered = 0;
            for (var i = 0; i < pings; i++)
            {
                if (await Ask(udp, node.LocalEndPoint, B($"d1:ad2:id20:{Id20}e1:q4:ping1:t2:q{i}1:y1:qe"), 200) is not null)
                {
                    answered++;
                }
            }

            return answered;
        }

        // The rate limit comes before the filter: the dropped find_node and the ping used two of the burst of 3,
        // and the clock stands still.
        Assert.Equal(1, await Answered(4));
        await clock.AdvanceAsync(TimeSpan.FromSeconds(2), Ct(), node); // 0.5/s: one more token
        Assert.Equal(1, await Answered(3));
    }

    [Fact]
    public async Task Get_reply_whose_key_does_not_hash_to_the_target_is_ignored()
    {
        // A malicious node answers every get with a validly self-signed item of *another* key.
        using var evil = Client();
        var evilId = NodeId.Random();
        var honest = MutableItem.Sign(Enumerable.Repeat((byte)7, 32).ToArray(), "real"u8, 1);
        var forged = MutableItem.Sign(Enumerable.Repeat((byte)9, 32).ToArray(), "fake"u8, 99);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var server = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                UdpReceiveResult r;
                try
                {
                    r = await evil.ReceiveAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                if (KrpcCodec.TryDecode(r.Buffer, out var m) != DecodeStatus.Ok || m!.Query is null)
                {
                    continue;
                }

                var reply = m.Query is GetQuery
                    ? new Response { Id = evilId, Token = B("tokn"), Key = forged.KeyArray, Seq = forged.Seq, Signature = forged.SignatureArray, EncodedValue = forged.EncodedValueArray }
                    : new Response { Id = evilId };
                await evil.SendAsync(KrpcCodec.EncodeResponse(m.TransactionId, reply, default, r.RemoteEndPoint), r.RemoteEndPoint);
            }
        });

        await using var client = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [evil.Client.LocalEndPoint!],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            Mode = DhtMode.Client,
        }, Ct());
        var outcome = await client.GetMutableDetailedAsync(honest.Key, default, null, Ct());
        Assert.Empty(outcome.Items);
        Assert.Null(outcome.MostRecent);
        Assert.Equal(1, outcome.Diagnostics.InvalidValues);
        await stop.CancelAsync();
        await server;
    }

    [Fact]
    public async Task Fuzzed_datagrams_never_break_the_server()
    {
        await using var net = await Testnet.CreateAsync(3, cancellationToken: Ct());
        var node = net.Nodes[0];
        var id = new NodeId(B(Id20));
        var item = MutableItem.Sign(new byte[32], "keep"u8, 1);
        // Store an item first; fuzzing must not corrupt it.
        await using (var writer = await Dht.CreateAsync(net.ClientOptions(), Ct()))
        {
            Assert.True((await writer.PutMutableAsync(item, null, Ct())).Succeeded);
        }

        var seeds = new[]
        {
            KrpcCodec.EncodeQuery(B("aa"), new PingQuery(id), default, false),
            KrpcCodec.EncodeQuery(B("ab"), new FindNodeQuery(id, id), default, false),
            KrpcCodec.EncodeQuery(B("ac"), new GetPeersQuery(id, id), default, false),
            KrpcCodec.EncodeQuery(B("ad"), new AnnouncePeerQuery(id, id, 1, false, B("abcd")), default, false),
            KrpcCodec.EncodeQuery(B("ae"), new GetQuery(id, item.Target, 0), default, false),
            KrpcCodec.EncodeQuery(B("af"), new PutMutableQuery(id, B("abcd"), item.KeyArray, null, 2, item.SignatureArray, KrpcCodec.EncodeString("evil"u8), 1, item.Target), default, false),
            KrpcCodec.EncodeQuery(B("ag"), new PutImmutableQuery(id, B("abcd"), B("1:x"), null), default, false),
            KrpcCodec.EncodeResponse(B("\0\0\0\u0001"), new Response { Id = id, Nodes = [new DhtNode(id, new IPEndPoint(IPAddress.Loopback, 9))] }, default, new IPEndPoint(IPAddress.Loopback, 1)),
            KrpcCodec.EncodeError(B("\0\0\0\u0002"), KrpcError.Create(201, "x"), default, new IPEndPoint(IPAddress.Loopback, 1)),
        };
        // Replies to the fuzzed queries go to a socket of ours, never to a port another test may use.
        using var sink = Client();
        var from = (IPEndPoint)sink.Client.LocalEndPoint!;
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int, Gen.Byte, Gen.Int[0, 3], Gen.Byte.Array[0, 40]).Sample((s, at, b, op, random) =>
        {
            byte[] datagram;
            if (op == 3)
            {
                datagram = random;
            }
            else
            {
                var bytes = seeds[s].ToList();
                var i = (int)((uint)at % (uint)bytes.Count);
                switch (op)
                {
                    case 0: bytes[i] = b; break;
                    case 1: bytes.RemoveAt(i); break;
                    default: bytes.Insert(i, b); break;
                }

                datagram = [.. bytes];
            }

            Assert.True(node.Node.Inject(datagram, from));
        }, iter: 100_000, threads: 1);

        // The loop drains the queue and still answers; the stored item is intact.
        Assert.True(await node.Node.InvokeAsync(() => true, Ct()));
        using var udp = Client();
        Assert.NotNull(await Ask(udp, node.LocalEndPoint, seeds[0], 5000));
        var stored = await node.Node.InvokeAsync(() => node.Node.Core.Storage.GetMutable(item.Target, node.Node.Now), Ct());
        Assert.Equal(item.SignatureArray, stored!.Signature);
        // The other two testnet nodes are still known (fuzzed find_nodes may add requesters: §7.2 exception (a)).
        var known = await node.ExportBootstrapAsync(Ct());
        Assert.Contains(net.Nodes[1].LocalEndPoint, known);
        Assert.Contains(net.Nodes[2].LocalEndPoint, known);
    }
}
