using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay.Tests.RateLimiting;

/// <summary>dht_quota on the relay's own DHT node, over UDP: queries beyond it get no reply.</summary>
public sealed class DhtRateLimitTests
{
    /// <summary>A KRPC ping with transaction id <paramref name="tid"/> (two ASCII characters).</summary>
    private static byte[] Ping(string tid)
    {
        var id = new byte[20];
        Random.Shared.NextBytes(id);
        return [.. "d1:ad2:id20:"u8, .. id, .. "e1:q4:ping1:t2:"u8, .. Encoding.ASCII.GetBytes(tid), .. "1:y1:qe"u8];
    }

    /// <summary>The transaction id of the next reply, or null when none comes within the wait. The node's own
    /// queries are skipped: it pings a query's sender to file it in its routing table (a bounded loop, ended by
    /// the wait).</summary>
    private static async Task<string?> NextReplyAsync(UdpClient udp, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            string text;
            do
            {
                text = Encoding.Latin1.GetString((await udp.ReceiveAsync(timeout.Token)).Buffer);
            }
            while (text.EndsWith("1:y1:qe", StringComparison.Ordinal));

            int at = text.IndexOf("1:t2:", StringComparison.Ordinal);
            Assert.True(at >= 0, text);
            Assert.Contains("1:y1:r", text, StringComparison.Ordinal);
            return text.Substring(at + 5, 2);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    [Fact]
    public async Task Queries_above_dht_quota_are_dropped_until_a_token_comes_back()
    {
        var clock = new FakeTimeProvider();

        // A lone node (no testnet, no bootstrap), so the test's socket is the only one querying it.
        await using var relay = await RelayFixture.StartAsync(options =>
        {
            options.Testnet = false;
            options.Mainline.Bootstrap = [];
            options.RateLimiter = new RateLimiterSettings { DhtQuota = new Quota(1, QuotaUnit.Second), DhtBurst = 2 };
            options.RateLimitClock = clock;
        });
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var node = relay.Server.DhtEndPoint;
        var patient = TimeSpan.FromSeconds(10);

        udp.Send(Ping("p1"), node);
        Assert.Equal("p1", await NextReplyAsync(udp, patient));
        udp.Send(Ping("p2"), node);
        Assert.Equal("p2", await NextReplyAsync(udp, patient));

        // Over the burst: dropped. The next reply that arrives answers the query sent after the clock moved.
        udp.Send(Ping("p3"), node);
        udp.Send(Ping("p4"), node);
        Assert.Null(await NextReplyAsync(udp, TimeSpan.FromMilliseconds(300)));
        clock.Advance(TimeSpan.FromSeconds(1));
        udp.Send(Ping("p5"), node);
        Assert.Equal("p5", await NextReplyAsync(udp, patient));
        udp.Send(Ping("p6"), node);
        Assert.Null(await NextReplyAsync(udp, TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Without_limits_every_query_is_answered()
    {
        await using var relay = await RelayFixture.StartAsync(options =>
        {
            options.Testnet = false;
            options.Mainline.Bootstrap = [];
            options.RateLimiter = null;
        });
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        for (int i = 0; i < 6; i++)
        {
            string tid = "q" + i;
            udp.Send(Ping(tid), relay.Server.DhtEndPoint);
            Assert.Equal(tid, await NextReplyAsync(udp, TimeSpan.FromSeconds(10)));
        }
    }
}
