using System.Net;
using System.Net.Sockets;
using Mainline.Krpc;
using static Mainline.Tests.Hostile.ServerAttack;

namespace Mainline.Tests.Hostile;

/// <summary>Issue 9, medium 4: a server node must not be a free reflector. Spoofed sources spread over a /24,
/// large replies and floods of new sources each meet a limit; honest sources elsewhere are still answered.</summary>
public sealed class ReflectionTests
{
    private static readonly NodeId Attacker = NodeId.Random();

    [Fact]
    public async Task A_flood_from_every_address_of_one_slash24_is_limited_as_one_subnet()
    {
        var clock = new Clock();
        await using var node = await ServerAsync(clock);
        var to = node.LocalEndPoint;
        var defaults = new DhtOptions();
        var sources = new List<UdpClient>();
        try
        {
            for (var i = 0; i < 256; i++)
            {
                sources.Add(Socket($"127.0.5.{i}"));
            }

            const int PerSource = 3; // far below the per-IP burst: only the /24 limit can refuse these
            Assert.True(PerSource < defaults.RateLimitBurst);
            foreach (var udp in sources)
            {
                for (var q = 0; q < PerSource; q++)
                {
                    Send(udp, to, new PingQuery(Attacker));
                }
            }

            // Another /24 is answered (and its reply, on a loop that handles datagrams in order, says the flood is done).
            using var honest = Socket("127.0.9.1");
            Assert.NotNull(await Raw.AskAsync(honest, to, new PingQuery(NodeId.Random()), Ct(), 5000));
            var answered = sources.Sum(s => Drain(s).Count);
            var subnetBurst = (int)(defaults.RateLimitPerSubnet * 3);
            Assert.InRange(answered, 1, subnetBurst);

            // The /24 earns tokens back with time.
            await clock.AdvanceAsync(TimeSpan.FromSeconds(1), Ct(), node);
            Assert.NotNull(await Raw.AskAsync(sources[7], to, new PingQuery(Attacker), Ct(), 5000));
        }
        finally
        {
            sources.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task The_reply_byte_budget_caps_what_all_sources_draw_per_second()
    {
        const int Budget = 8192;
        var clock = new Clock();
        await using var node = await ServerAsync(clock, o =>
        {
            o.ReplyBytesPerSecond = Budget;
            o.RateLimitPerIp = 0;
            o.RateLimitPerSubnet = 0;
        });
        var to = node.LocalEndPoint;
        var value = KrpcCodec.EncodeString(new byte[1000]);
        var target = Bep44.ImmutableTarget(value);
        using (var writer = Socket("127.0.6.2"))
        {
            var token = (await Raw.AskAsync(writer, to, new GetQuery(NodeId.Random(), target, null), Ct()))!.Response!.Token!;
            var put = await Raw.AskAsync(writer, to, new PutImmutableQuery(NodeId.Random(), token, value, null), Ct());
            Assert.Equal(MessageKind.Response, put!.Kind);
        }

        await clock.AdvanceAsync(TimeSpan.FromSeconds(1), Ct(), node); // the writer's replies are paid for
        using var udp = Socket("127.0.6.1");
        for (var second = 0; second < 2; second++)
        {
            for (var q = 0; q < 40; q++) // 40 × ~85 bytes asking for 40 × ~1.2 KB
            {
                Send(udp, to, new GetQuery(Attacker, target, null));
            }

            var replies = await ReceiveUntilQuietAsync(udp, r => r.Sum(d => d.Length) >= 5 * 1000, repliesOnly: true);
            var bytes = replies.Sum(r => r.Length);
            Assert.All(replies, r => Assert.True(r.Length > 1000, "each reply carries the value"));
            Assert.InRange(bytes, 5 * 1000, Budget);
            await clock.AdvanceAsync(TimeSpan.FromSeconds(1), Ct(), node);
        }
    }

    [Fact]
    public async Task Tracking_many_new_sources_never_resets_an_attackers_bucket()
    {
        var clock = new Clock();
        await using var node = await ServerAsync(clock, o =>
        {
            o.RateLimitPerSubnet = 0;
            o.ReplyBytesPerSecond = 0;
        });
        var to = node.LocalEndPoint;
        using var witness = Socket("127.0.8.1");
        Assert.NotNull(await Raw.AskAsync(witness, to, new PingQuery(NodeId.Random()), Ct(), 5000));
        using var attacker = Socket("127.0.7.1");
        var burst = (int)new DhtOptions().RateLimitBurst;
        for (var q = 0; q < burst; q++)
        {
            Send(attacker, to, new PingQuery(Attacker));
        }

        Assert.Equal(burst, (await ReceiveUntilQuietAsync(attacker, r => r.Count >= burst, repliesOnly: true)).Count);
        Assert.Null(await Raw.AskAsync(attacker, to, new PingQuery(Attacker), Ct(), 300));

        // More new sources than the limiter tracks, spoofed (their replies go to closed loopback ports).
        var ping = KrpcCodec.EncodeQuery("pp"u8.ToArray(), new PingQuery(NodeId.Random()), default, false);
        for (var i = 0; i < 12_000; i++)
        {
            Assert.True(node.Node.Inject(ping, new IPEndPoint(new IPAddress([127, 100, (byte)(i >> 8), (byte)i]), 9)));
        }

        // The witness, tracked before the flood with tokens left, is answered; its reply also says the loop is
        // done with the flood. The attacker stays refused: its bucket was not forgotten.
        await node.Node.InvokeAsync(() => true, Ct());
        Assert.NotNull(await Raw.AskAsync(witness, to, new PingQuery(NodeId.Random()), Ct(), 10_000));
        Assert.Null(await Raw.AskAsync(attacker, to, new PingQuery(Attacker), Ct(), 300));

        // While every tracked bucket still matters a new source waits; once they have refilled it takes the place
        // of the source idle longest, and the attacker earns tokens back at its rate.
        using var late = Socket("127.0.8.2");
        Assert.Null(await Raw.AskAsync(late, to, new PingQuery(NodeId.Random()), Ct(), 300));
        await clock.AdvanceAsync(TimeSpan.FromSeconds(burst / new DhtOptions().RateLimitPerIp), Ct(), node);
        Assert.NotNull(await Raw.AskAsync(late, to, new PingQuery(NodeId.Random()), Ct(), 5000));
        Assert.NotNull(await Raw.AskAsync(attacker, to, new PingQuery(Attacker), Ct(), 5000));
    }

    [Fact]
    public void The_new_limits_are_validated()
    {
        var bad = new DhtOptions { RateLimitPerSubnet = -1, ReplyBytesPerSecond = 100 };
        var failures = DhtOptionsValidator.Failures(bad);
        Assert.Contains(failures, f => f.StartsWith("RateLimitPerSubnet ", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("ReplyBytesPerSecond ", StringComparison.Ordinal));
        Assert.Equal(2, failures.Count);
        Assert.Empty(DhtOptionsValidator.Failures(new DhtOptions { RateLimitPerSubnet = 0, ReplyBytesPerSecond = 0 }));
        Assert.Empty(DhtOptionsValidator.Failures(new DhtOptions { ReplyBytesPerSecond = 2048 }));
    }
}
