using System.Net;
using System.Net.Sockets;
using Mainline.Krpc;

namespace Mainline.Tests.Hostile;

/// <summary>Helpers of the hostile-peer tests against one server node: its options, attacker sockets on loopback
/// addresses (127/8 is all local, so each test can pick its own source IPs and /24s), raw KRPC.</summary>
internal static class ServerAttack
{
    public static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    /// <summary>A server node on 127.0.0.1 with no bootstrap and the default limits, on <paramref name="clock"/>.</summary>
    public static Task<Dht> ServerAsync(Clock clock, Action<DhtOptions>? configure = null)
    {
        var options = new DhtOptions
        {
            Bootstrap = [],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            Mode = DhtMode.Server,
            TimeProvider = clock.Time,
        };
        configure?.Invoke(options);
        return Dht.CreateAsync(options, Ct());
    }

    /// <summary>A UDP socket on <paramref name="address"/> (a loopback address), OS-chosen port.</summary>
    public static UdpClient Socket(string address) => new(new IPEndPoint(IPAddress.Parse(address), 0));

    public static IPEndPoint EndPoint(this UdpClient udp) => (IPEndPoint)udp.Client.LocalEndPoint!;

    private static int _tid;

    /// <summary>Sends <paramref name="query"/> without waiting for a reply.</summary>
    public static void Send(UdpClient udp, IPEndPoint to, Query query) =>
        udp.Send(KrpcCodec.EncodeQuery(BitConverter.GetBytes(Interlocked.Increment(ref _tid)), query, default, false), to);

    /// <summary>The replies and errors that have arrived on <paramref name="udp"/>, read without waiting (the node's
    /// own queries, such as the ping confirming a query's sender, are skipped).</summary>
    public static List<byte[]> Drain(UdpClient udp)
    {
        var received = new List<byte[]>();
        IPEndPoint? any = null;
        for (var i = 0; i < 100_000 && udp.Available > 0; i++)
        {
            var datagram = udp.Receive(ref any);
            if (!IsQuery(datagram))
            {
                received.Add(datagram);
            }
        }

        return received;
    }

    /// <summary>True for a query of the node (a ping confirming a query's sender), not a reply or error.</summary>
    public static bool IsQuery(byte[] datagram) =>
        KrpcCodec.TryDecode(datagram, out var message) == DecodeStatus.Ok && message!.Kind == MessageKind.Query;

    /// <summary>
    /// Receives until <paramref name="enough"/> holds (each datagram awaited up to 10 s, so a loaded machine only
    /// slows the test), then until nothing more arrives for <paramref name="quietMs"/>: what came beyond enough
    /// is kept, so callers can assert upper bounds too. With <paramref name="repliesOnly"/>, the node's own queries
    /// (the ping confirming a query's sender) are skipped.
    /// </summary>
    public static async Task<List<byte[]>> ReceiveUntilQuietAsync(
        UdpClient udp, Func<List<byte[]>, bool>? enough = null, int quietMs = 500, bool repliesOnly = false)
    {
        var received = new List<byte[]>();
        for (var i = 0; i < 100_000; i++)
        {
            var waitMs = enough is not null && !enough(received) ? 10_000 : quietMs;
            using var quiet = new CancellationTokenSource(waitMs);
            try
            {
                var datagram = (await udp.ReceiveAsync(quiet.Token)).Buffer;
                if (!repliesOnly || !IsQuery(datagram))
                {
                    received.Add(datagram);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return received;
    }
}
