// Queries written byte by byte and exchanged over UDP or TCP (RFC 1035 §4.2), for the tests that need exact control of
// the id, the flags and the EDNS record, or that send bytes no DNS library would. Replies are read with our codec.

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Tests.Tools;

internal static class RawDns
{
    public const int NoError = 0;
    public const int FormErr = 1;
    public const int ServFail = 2;
    public const int NxDomain = 3;
    public const int NotImp = 4;
    public const int Refused = 5;
    public const int BadVers = 16;

    /// <summary>A standard query (RD set) for <paramref name="name"/>; with an OPT record when <paramref name="udpSize"/> is given.</summary>
    public static byte[] Query(ushort id, string name, RecordType type, ushort? udpSize = 1232, bool recursionDesired = true)
    {
        var bytes = new List<byte>(64);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        header[2] = recursionDesired ? (byte)0x01 : (byte)0x00;
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], udpSize is null ? (ushort)0 : (ushort)1);
        bytes.AddRange(header.ToArray());
        bytes.AddRange(NameWire(name));
        bytes.Add((byte)((ushort)type >> 8));
        bytes.Add((byte)type);
        bytes.Add(0);
        bytes.Add(1);
        if (udpSize is ushort size)
        {
            bytes.AddRange([0, 0, 41, (byte)(size >> 8), (byte)size, 0, 0, 0, 0, 0, 0]);
        }

        return [.. bytes];
    }

    /// <summary>The wire form of a dotted name (ASCII labels; no escapes).</summary>
    public static byte[] NameWire(string name)
    {
        var bytes = new List<byte>(name.Length + 2);
        foreach (string label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    /// <summary>The full RCODE of a reply: the header's 4 bits plus the OPT record's upper 8 (RFC 6891 §6.1.3).</summary>
    public static int Rcode(DnsMessage reply)
    {
        int rcode = reply.Flags & 0x000F;
        foreach (var record in reply.Additionals)
        {
            if ((ushort)record.Type == 41)
            {
                rcode |= (int)(record.Ttl >> 24) << 4;
            }
        }

        return rcode;
    }

    public static bool Truncated(DnsMessage reply) => (reply.Flags & 0x0200) != 0;

    public static bool Authoritative(DnsMessage reply) => (reply.Flags & 0x0400) != 0;

    /// <summary>Sends one query over UDP and returns the parsed reply, or null when none came within <paramref name="timeout"/>.</summary>
    public static async Task<DnsMessage?> UdpAsync(IPEndPoint server, byte[] query, TimeSpan timeout)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await socket.SendToAsync(query, server);
        var buffer = new byte[65535];
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), deadline.Token);
                if (received.ReceivedBytes >= 2 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == BinaryPrimitives.ReadUInt16BigEndian(query))
                {
                    Assert.True(DnsMessage.TryParse(buffer.AsSpan(0, received.ReceivedBytes), out var reply, out var error),
                        $"the reply does not parse: {error}");
                    return reply;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (SocketException)
        {
            // ICMP port unreachable: nothing listens.
            return null;
        }
    }

    /// <summary>Sends one query over UDP and returns the parsed reply; fails when none came.</summary>
    public static async Task<DnsMessage> UdpRequiredAsync(IPEndPoint server, byte[] query, TimeSpan? timeout = null)
        => await UdpAsync(server, query, timeout ?? TimeSpan.FromSeconds(10))
            ?? throw new Xunit.Sdk.XunitException($"no UDP reply from {server} within {(timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds} s");

    /// <summary>Sends one length-framed query over a new TCP connection and returns the parsed reply.</summary>
    public static async Task<DnsMessage> TcpAsync(IPEndPoint server, byte[] query, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        using var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(server, deadline.Token);
        var stream = client.GetStream();
        var framed = new byte[query.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await stream.WriteAsync(framed, deadline.Token);
        var length = new byte[2];
        await stream.ReadExactlyAsync(length, deadline.Token);
        var reply = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
        await stream.ReadExactlyAsync(reply, deadline.Token);
        Assert.True(DnsMessage.TryParse(reply, out var message, out var error), $"the TCP reply does not parse: {error}");
        return message;
    }

    /// <summary>Asks until the answer has records (a key just published may still be on its way), for at most 20 s.</summary>
    public static async Task<DnsMessage> UntilAnsweredAsync(IPEndPoint server, string name, RecordType type)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        DnsMessage? last = null;
        for (ushort id = 1; DateTime.UtcNow < deadline; id++)
        {
            last = await UdpAsync(server, Query(id, name, type), TimeSpan.FromSeconds(6));
            if (last is not null && Rcode(last) == NoError && last.Answers.Count > 0)
            {
                return last;
            }

            await Task.Delay(200);
        }

        throw new Xunit.Sdk.XunitException($"{name} {type} was not answered within 20 s; last reply rcode " +
            (last is null ? "none" : Rcode(last).ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>A UDP or TCP port free on 127.0.0.1 for both protocols at the moment of asking.</summary>
    public static int FreePort()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            using var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            int port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken for UDP: another one.
            }
        }

        throw new InvalidOperationException("no port free for both UDP and TCP on 127.0.0.1");
    }
}
