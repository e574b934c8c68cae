// A resolver on loopback for the forwarder's tests: UDP and TCP on one port, recording every query it receives and
// answering with whatever the test's handlers return (several datagrams, none, garbage).

using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Tests.Forwarding;

/// <summary>A query the fake upstream received.</summary>
internal sealed record ReceivedQuery(DnsMessage Message, byte[] Bytes, IPEndPoint From, bool OverTcp)
{
    public DnsQuestion Question => Message.Questions[0];
}

internal sealed class FakeUpstream : IAsyncDisposable
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ReceivedQuery> _queries = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly Task _udpLoop;
    private readonly Task _tcpLoop;

    private FakeUpstream(Socket udp, Socket tcp)
    {
        _udp = udp;
        _tcp = tcp;
        EndPoint = (IPEndPoint)udp.LocalEndPoint!;
        _udpLoop = Task.Run(UdpLoopAsync);
        _tcpLoop = Task.Run(TcpLoopAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The datagrams sent back for a UDP query, in order (empty: silence). Default: a normal answer.</summary>
    public Func<ReceivedQuery, IReadOnlyList<byte[]>> Udp { get; set; } = q => [Replies.Answer(q)];

    /// <summary>The reply to a TCP query (null: close without one). Default: a normal answer.</summary>
    public Func<ReceivedQuery, byte[]?> Tcp { get; set; } = q => Replies.Answer(q);

    /// <summary>When set, UDP replies wait for it.</summary>
    public Task? Gate { get; set; }

    public int Count => _queries.Count;

    public IReadOnlyList<ReceivedQuery> Queries => [.. _queries];

    /// <summary>Binds UDP and TCP to one free port of <paramref name="address"/>; null when the address is not available.</summary>
    public static FakeUpstream? TryStart(IPAddress address)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            var tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                udp.Bind(new IPEndPoint(address, 0));
                tcp.Bind(udp.LocalEndPoint!);
                tcp.Listen(16);
                return new FakeUpstream(udp, tcp);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                udp.Dispose();
                tcp.Dispose();
            }
            catch (SocketException)
            {
                udp.Dispose();
                tcp.Dispose();
                return null;
            }
        }

        return null;
    }

    public static FakeUpstream Start() => TryStart(IPAddress.Loopback) ?? throw new InvalidOperationException("no free loopback port");

    /// <summary>Waits until at least <paramref name="count"/> queries arrived (bounded: fails after 10 s).</summary>
    public async Task WaitForQueriesAsync(int count)
    {
        using var limit = new CancellationTokenSource(WaitLimit);
        while (_queries.Count < count)
        {
            await _arrived.WaitAsync(limit.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Dispose();
        try
        {
            await Task.WhenAll(_udpLoop, _tcpLoop);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
        _arrived.Dispose();
    }

    private ReceivedQuery? Record(ReadOnlySpan<byte> bytes, IPEndPoint from, bool overTcp)
    {
        if (!DnsMessage.TryParse(bytes, out var message, out _) || message.Questions.Count != 1)
        {
            return null;
        }

        var query = new ReceivedQuery(message, bytes.ToArray(), from, overTcp);
        _queries.Enqueue(query);
        _arrived.Release();
        return query;
    }

    private async Task UdpLoopAsync()
    {
        var buffer = new byte[65535];
        EndPoint any = new IPEndPoint(EndPoint.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                continue;
            }

            var from = (IPEndPoint)received.RemoteEndPoint;
            if (Record(buffer.AsSpan(0, received.ReceivedBytes), from, overTcp: false) is { } query)
            {
                _ = ReplyAsync(query, from);
            }
        }
    }

    private async Task ReplyAsync(ReceivedQuery query, IPEndPoint to)
    {
        try
        {
            if (Gate is { } gate)
            {
                await gate.WaitAsync(WaitLimit, _stop.Token);
            }

            foreach (var datagram in Udp(query))
            {
                await _udp.SendToAsync(datagram, SocketFlags.None, to, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or TimeoutException)
        {
        }
    }

    private async Task TcpLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var connection = await _tcp.AcceptAsync(_stop.Token);
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        using (connection)
        {
            try
            {
                var prefix = new byte[2];
                await ReadExactlyAsync(connection, prefix);
                var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                await ReadExactlyAsync(connection, message);
                if (Record(message, (IPEndPoint)connection.RemoteEndPoint!, overTcp: true) is { } query && Tcp(query) is { } reply)
                {
                    var framed = new byte[2 + reply.Length];
                    BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)reply.Length);
                    reply.CopyTo(framed, 2);
                    await connection.SendAsync(framed, SocketFlags.None, _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or EndOfStreamException)
            {
            }
        }
    }

    private async Task ReadExactlyAsync(Socket socket, byte[] destination)
    {
        int at = 0;
        while (at < destination.Length)
        {
            int read = await socket.ReceiveAsync(destination.AsMemory(at), SocketFlags.None, _stop.Token);
            if (read == 0)
            {
                throw new EndOfStreamException();
            }

            at += read;
        }
    }
}

/// <summary>Replies the fake upstream sends.</summary>
internal static class Replies
{
    public const ushort NoError = 0x8180;   // QR, RD, RA
    public const ushort Truncated = 0x0200;

    public static readonly IPAddress Address = IPAddress.Parse("192.0.2.1");

    /// <summary>The upstream's own OPT record, which the forwarder must not pass on.</summary>
    public static ResourceRecord Opt() => new(DnsName.Root, (DnsClass)4096, 0, new UnknownData(RecordType.OPT, []));

    public static ResourceRecord A(string name, uint ttl, string address = "192.0.2.1")
        => new(DnsName.Parse(name), DnsClass.IN, ttl, new AData(IPAddress.Parse(address)));

    public static ResourceRecord Soa(string zone, uint ttl, uint minimum)
        => new(DnsName.Parse(zone), DnsClass.IN, ttl,
            new SoaData(DnsName.Parse("ns." + zone), DnsName.Parse("hostmaster." + zone), 1, 7200, 3600, 1209600, minimum));

    /// <summary>An A record of 192.0.2.1 with TTL 300 at the question's name.</summary>
    public static byte[] Answer(ReceivedQuery query) => Build(query, NoError, [new ResourceRecord(query.Question.Name, DnsClass.IN, 300, new AData(Address))]);

    public static byte[] Build(ReceivedQuery query, ushort flags, IReadOnlyList<ResourceRecord> answers, IReadOnlyList<ResourceRecord>? authorities = null)
        => new DnsMessage
        {
            Id = query.Message.Id,
            Flags = flags,
            Questions = query.Message.Questions,
            Answers = answers,
            Authorities = authorities ?? [],
            Additionals = [Opt()],
        }.Encode();

    /// <summary><paramref name="count"/> TXT records of 40 bytes each at the question's name.</summary>
    public static byte[] ManyTxt(ReceivedQuery query, int count, ushort flags = NoError)
    {
        var records = new ResourceRecord[count];
        for (int i = 0; i < count; i++)
        {
            records[i] = new ResourceRecord(query.Question.Name, DnsClass.IN, 300, TxtData.FromStrings($"record {i:D3} " + new string('x', 29)));
        }

        return Build(query, flags, records);
    }

    /// <summary>TC set, no records (what a resolver sends when the answer does not fit).</summary>
    public static byte[] TruncatedReply(ReceivedQuery query) => Build(query, NoError | Truncated, []);

    public static byte[] Rcode(ReceivedQuery query, int rcode, IReadOnlyList<ResourceRecord>? authorities = null)
        => Build(query, (ushort)(NoError | rcode), [], authorities);

    /// <summary>The bytes with the id changed.</summary>
    public static byte[] WithId(byte[] reply, ushort id)
    {
        var copy = (byte[])reply.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(copy, id);
        return copy;
    }
}
