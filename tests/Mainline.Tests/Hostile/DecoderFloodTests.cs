using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Mainline.Bencode;
using Mainline.Krpc;

namespace Mainline.Tests.Hostile;

/// <summary>Issue 9, High 1: datagrams built to make the decoder slow must not freeze the node's loop.</summary>
public sealed class DecoderFloodTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private const string Id20 = "abcdefghij0123456789";

    /// <summary>One dictionary of <paramref name="count"/> distinct 2-byte keys in ascending order, each with an
    /// empty string value: 6 bytes per entry, the cheapest way to make a key-by-key duplicate check quadratic.</summary>
    internal static byte[] DistinctKeys(int count)
    {
        var bytes = new List<byte>(2 + (count * 6)) { (byte)'d' };
        for (var i = 0; i < count; i++)
        {
            bytes.AddRange("2:"u8.ToArray());
            bytes.Add((byte)(i >> 8));
            bytes.Add((byte)i);
            bytes.AddRange("0:"u8.ToArray());
        }

        bytes.Add((byte)'e');
        return [.. bytes];
    }

    private static byte[] Hostile(string variant) => variant switch
    {
        // ~30 KB: just under the old 10,000-token cap, so the old reader walks all of it.
        "distinct keys, 30 KB" => DistinctKeys(4_990),
        "distinct keys, under 4 KiB" => DistinctKeys(680),
        "deep nesting" => B(new string('l', 15_000) + new string('e', 15_000)),
        "huge list" => B("d1:al" + string.Concat(Enumerable.Repeat("0:", 9_990)) + "ee"),
        "many tokens" => B("d1:ad" + string.Concat(Enumerable.Range(0, 3_000).Select(i => $"4:{i:D4}i{i}e")) + "ee"),
        _ => throw new ArgumentException(variant, nameof(variant)),
    };

    public static TheoryData<string> Variants() =>
        ["distinct keys, 30 KB", "distinct keys, under 4 KiB", "deep nesting", "huge list", "many tokens"];

    /// <summary>The largest honest datagram a node receives: a BEP 44 get reply with a 1000-byte value, 20 IPv4
    /// nodes, a token, key, signature and seq, plus the BEP 42 <c>ip</c> and a version.</summary>
    internal static byte[] LargestHonestReply()
    {
        var nodes = Enumerable.Range(0, 20)
            .Select(i => new DhtNode(NodeId.Random(), new IPEndPoint(IPAddress.Parse($"10.0.{i}.1"), 6881 + i)))
            .ToList();
        var response = new Response
        {
            Id = NodeId.Random(),
            Nodes = nodes,
            Token = new byte[20],
            EncodedValue = KrpcCodec.EncodeString(new byte[1000]),
            Key = new byte[32],
            Seq = 1_700_000_000_000_000,
            Signature = new byte[64],
        };
        return KrpcCodec.EncodeResponse("aa"u8, response, "LT\u0002\u0008"u8.ToArray(), new IPEndPoint(IPAddress.Parse("203.0.113.7"), 6881));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task A_flood_of_hostile_datagrams_does_not_delay_a_ping(string variant)
    {
        await using var net = await Testnet.CreateAsync(1, cancellationToken: Ct());
        var node = net.Nodes[0];
        var datagram = Hostile(variant);

        // Spoofable: no reply is needed, so the flood comes from many sources (injected as the socket would
        // deliver them, which no receive buffer can drop) and from one real socket.
        for (var i = 0; i < 100; i++)
        {
            Assert.True(node.Node.Inject(datagram, new IPEndPoint(IPAddress.Parse($"198.51.100.{i + 1}"), 6881)));
        }

        using var attacker = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        for (var i = 0; i < 10; i++)
        {
            await attacker.SendAsync(datagram, node.LocalEndPoint, Ct());
        }

        using var honest = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var clock = Stopwatch.StartNew();

        // Generous: an unhindered loop answers in well under a millisecond; the old decoder needed ~10 s here.
        var reply = await Raw.AskAsync(honest, node.LocalEndPoint, B($"d1:ad2:id20:{Id20}e1:q4:ping1:t2:pp1:y1:qe"), Ct(), 3000);
        Assert.True(reply is { Kind: MessageKind.Response }, $"{variant}: no ping reply within 3 s (waited {clock.ElapsedMilliseconds} ms)");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Decoding_a_hostile_datagram_costs_at_most_20_honest_ones(string variant)
    {
        // The reader alone, without the node's size gate: its cost must be linear in what it reads, and it stops
        // reading at its caps. Timed relative to the largest honest datagram (minimum of several rounds, so a
        // busy machine slows both sides alike): 3–6× here (a refused 256-item list allocates its items), where
        // the quadratic reader took 600–8,000× (the 30 KB dictionary ~40 ms a datagram).
        var hostile = Hostile(variant);
        var honest = LargestHonestReply();
        Assert.Equal(DecodeStatus.Ok, KrpcCodec.TryDecode(honest, out _));
        Assert.Equal(DecodeStatus.Drop, KrpcCodec.TryDecode(hostile, out _));

        var hostileTicks = MinTicks(hostile);
        var honestTicks = MinTicks(honest);
        Assert.True(hostileTicks <= 20 * honestTicks, $"{variant}: {hostileTicks} ticks per 20 decodes vs {honestTicks} for the honest reply");
    }

    private static long MinTicks(byte[] datagram)
    {
        var best = long.MaxValue;
        for (var round = 0; round < 7; round++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 20; i++)
            {
                KrpcCodec.TryDecode(datagram, out _);
            }

            best = Math.Min(best, clock.ElapsedTicks);
        }

        return best;
    }

    [Fact]
    public async Task Datagrams_over_4_KiB_are_dropped_before_decoding()
    {
        await using var net = await Testnet.CreateAsync(1, cancellationToken: Ct());
        var to = net.Nodes[0].LocalEndPoint;
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));

        // A ping padded with an unknown key to an exact length: unknown keys are ignored, so only the size decides.
        byte[] Ping(string tid, int length)
        {
            var head = $"d1:ad2:id20:{Id20}e1:q4:ping1:t2:{tid}1:y1:q2:zz";
            var padding = length - head.Length - "e".Length;
            var digits = padding.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + 1;
            var text = head + (padding - digits).ToString(System.Globalization.CultureInfo.InvariantCulture) + ":"
                + new string('x', padding - digits) + "e";
            var bytes = B(text);
            Assert.Equal(length, bytes.Length);
            return bytes;
        }

        var atLimit = await Raw.AskAsync(udp, to, Ping("ok", Limits.MaxDatagramLength), Ct(), 3000);
        Assert.True(atLimit is { Kind: MessageKind.Response });
        Assert.Null(await Raw.AskAsync(udp, to, Ping("no", Limits.MaxDatagramLength + 1), Ct(), 300));
        Assert.Null(await Raw.AskAsync(udp, to, Ping("nn", 30_000), Ct(), 300));
        Assert.True(await Raw.AskAsync(udp, to, Ping("o2", 100), Ct(), 3000) is { Kind: MessageKind.Response });
    }
}
