using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pkarr.DnsServer.Listeners;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Query;

namespace Pkarr.DnsServer.Tests.Listeners;

/// <summary>Starts listeners on loopback and talks to them; every wait is bounded.</summary>
internal static class ListenerFixture
{
    /// <summary>The bound of any one wait in these tests: far above what loopback needs, so a busy machine passes.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static Task<DnsListener> StartAsync(IDnsQueryHandler handler, ListenerOptions? options = null, IPEndPoint? endPoint = null,
        ILogger<DnsListener>? logger = null)
        => DnsListener.StartAsync(endPoint ?? new IPEndPoint(IPAddress.Loopback, 0), handler, options ?? new ListenerOptions(),
            new DnsMetrics(), logger ?? NullLogger<DnsListener>.Instance, CancellationToken.None);

    public static Socket Udp(AddressFamily family = AddressFamily.InterNetwork)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback, 0));
        return socket;
    }

    /// <summary>The next datagram, within <see cref="Patience"/>.</summary>
    public static async Task<byte[]> ReceiveAsync(Socket udp)
    {
        using var timeout = new CancellationTokenSource(Patience);
        byte[] buffer = new byte[65535];
        int read = await udp.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return buffer[..read];
    }

    public static async Task<Socket> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(endPoint, timeout.Token);
        return socket;
    }

    public static byte[] Frame(byte[] message) => [(byte)(message.Length >> 8), (byte)message.Length, .. message];

    /// <summary>The next framed message, or null when the server closed the connection (FIN or RST).</summary>
    public static async Task<byte[]?> ReadFrameAsync(Socket tcp)
    {
        byte[] prefix = new byte[2];
        if (!await ReadExactlyAsync(tcp, prefix))
        {
            return null;
        }

        byte[] message = new byte[(prefix[0] << 8) | prefix[1]];
        return await ReadExactlyAsync(tcp, message) ? message : null;
    }

    /// <summary>True when the server closed the connection (a read ends with 0 bytes or a reset) within
    /// <see cref="Patience"/>.</summary>
    public static async Task<bool> ClosedAsync(Socket tcp) => await ReadFrameAsync(tcp) is null;

    private static async Task<bool> ReadExactlyAsync(Socket tcp, byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(Patience);
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int read = await tcp.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    return false;
                }

                total += read;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return false;
        }

        return true;
    }
}
