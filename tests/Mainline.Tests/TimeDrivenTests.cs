using System.Net;
using System.Net.Sockets;
using Mainline.Krpc;

namespace Mainline.Tests;

/// <summary>The production driver's clock on a fake TimeProvider: a lookup's soft timeout fires through LocalNode's
/// poll loop. The rest of the node's time-driven behaviour (expiry, token rotation, purges) runs on virtual time, with
/// no socket: Core/VirtualTimeTests.cs.</summary>
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
