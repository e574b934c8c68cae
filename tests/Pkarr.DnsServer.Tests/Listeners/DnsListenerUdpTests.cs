using System.Net;
using System.Net.Sockets;
using Pkarr.DnsServer.Listeners;
using Pkarr.DnsServer.Query;
using static Pkarr.DnsServer.Tests.Listeners.ListenerFixture;

namespace Pkarr.DnsServer.Tests.Listeners;

public sealed class DnsListenerUdpTests
{
    [Fact]
    public async Task A_query_is_answered_to_its_sender_with_the_handlers_bytes()
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler);
        using var client = Udp();

        byte[] query = FakeQueryHandler.Query(7);
        await client.SendToAsync(query, listener.UdpEndPoint);
        byte[] response = await ReceiveAsync(client);

        Assert.Equal(7, FakeQueryHandler.IdOf(response));
        Assert.Equal(0x80, response[2] & 0x80);
        Assert.Equal(query.Length, response.Length);
        var call = Assert.Single(handler.Calls);
        Assert.Equal(new QueryContext(IPAddress.Loopback, DnsTransport.Udp), call.Context);
        Assert.Equal(query.Length, call.Length);
    }

    [Fact]
    public async Task A_slow_query_does_not_hold_back_a_fast_one()
    {
        var handler = new FakeQueryHandler();
        handler.Gate(1);
        await using var listener = await StartAsync(handler);
        using var client = Udp();

        await client.SendToAsync(FakeQueryHandler.Query(1), listener.UdpEndPoint);
        await client.SendToAsync(FakeQueryHandler.Query(2), listener.UdpEndPoint);
        Assert.Equal(2, FakeQueryHandler.IdOf(await ReceiveAsync(client)));

        handler.Release(1);
        Assert.Equal(1, FakeQueryHandler.IdOf(await ReceiveAsync(client)));
    }

    [Fact]
    public async Task Nothing_is_sent_when_the_handler_returns_null()
    {
        var handler = new FakeQueryHandler();
        handler.Unanswered.Add(3);
        await using var listener = await StartAsync(handler);
        using var client = Udp();

        await client.SendToAsync(FakeQueryHandler.Query(3), listener.UdpEndPoint);
        await client.SendToAsync(new byte[5], listener.UdpEndPoint);
        await client.SendToAsync(FakeQueryHandler.Query(4), listener.UdpEndPoint);

        // Datagrams are handled in order: the first answer to arrive is the third query's, so the others had none.
        Assert.Equal(4, FakeQueryHandler.IdOf(await ReceiveAsync(client)));
        Assert.Equal([3, 0, 4], handler.Ids);
    }

    [Fact]
    public async Task A_datagram_of_any_size_arrives_whole()
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler);
        using var client = Udp();

        byte[] query = FakeQueryHandler.Query(9);
        byte[] large = [.. query, .. new byte[4000]];
        await client.SendToAsync(large, listener.UdpEndPoint);
        byte[] response = await ReceiveAsync(client);

        Assert.Equal(large.Length, response.Length);
        Assert.Equal(large.Length, Assert.Single(handler.Calls).Length);
    }

    [Fact]
    public async Task Beyond_the_in_flight_budget_queries_are_dropped_and_then_answered_again()
    {
        var handler = new FakeQueryHandler();
        handler.Gate(1);
        var logger = new RecordingLogger<DnsListener>();
        await using var listener = await StartAsync(handler, new ListenerOptions { MaxQueriesInFlight = 1 }, logger: logger);
        using var client = Udp();

        await client.SendToAsync(FakeQueryHandler.Query(1), listener.UdpEndPoint);
        await client.SendToAsync(FakeQueryHandler.Query(2), listener.UdpEndPoint);
        await logger.WaitForAsync("dropped");
        handler.Release(1);
        Assert.Equal(1, FakeQueryHandler.IdOf(await ReceiveAsync(client)));

        await client.SendToAsync(FakeQueryHandler.Query(3), listener.UdpEndPoint);
        Assert.Equal(3, FakeQueryHandler.IdOf(await ReceiveAsync(client)));
        // Query 2 came while query 1 held the only place: it never reached the handler.
        Assert.Equal([1, 3], handler.Ids);
    }

    [Fact]
    public async Task An_answer_to_a_closed_port_does_not_stop_the_listener()
    {
        var handler = new FakeQueryHandler();
        handler.Gate(1);
        await using var listener = await StartAsync(handler);

        var gone = Udp();
        await gone.SendToAsync(FakeQueryHandler.Query(1), listener.UdpEndPoint);
        await WaitForCallsAsync(handler, 1);
        gone.Dispose();
        // The answer goes to a closed port: the ICMP port-unreachable comes back as an error on the listener's socket.
        handler.Release(1);

        using var client = Udp();
        for (ushort id = 2; id < 5; id++)
        {
            await client.SendToAsync(FakeQueryHandler.Query(id), listener.UdpEndPoint);
            Assert.Equal(id, FakeQueryHandler.IdOf(await ReceiveAsync(client)));
        }
    }

    [Fact]
    public async Task Dispose_cancels_queries_in_flight_and_stops_receiving()
    {
        var handler = new FakeQueryHandler();
        handler.Gate(1);
        var listener = await StartAsync(handler);
        using var client = Udp();
        await client.SendToAsync(FakeQueryHandler.Query(1), listener.UdpEndPoint);
        await WaitForCallsAsync(handler, 1);

        await listener.DisposeAsync().AsTask().WaitAsync(Patience);

        Assert.Equal([(ushort)1], handler.Cancelled);
        // The port is free again: nothing listens there any more.
        using var rebound = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        rebound.Bind(listener.UdpEndPoint);
    }

    [Fact]
    public async Task Answers_written_into_the_loops_send_buffer_reach_each_sender_whole_beside_answers_that_wait()
    {
        var fake = new FakeQueryHandler();
        var handler = new BufferWritingQueryHandler(fake);
        fake.Gate(100);
        await using var listener = await StartAsync(handler, new ListenerOptions { UdpReceiveLoops = 1 });
        using var first = Udp();
        using var second = Udp();

        // One loop, one send buffer: queries of different lengths from two clients, one of them waiting meanwhile.
        await first.SendToAsync(FakeQueryHandler.Query(100, "slow.test"), listener.UdpEndPoint);
        for (ushort id = 1; id <= 6; id++)
        {
            var client = id % 2 == 0 ? second : first;
            byte[] query = FakeQueryHandler.Query(id, new string('a', id * 10) + ".test");
            await client.SendToAsync(query, listener.UdpEndPoint);
            byte[] response = await ReceiveAsync(client);
            Assert.Equal(query.Length, response.Length);
            Assert.Equal(id, FakeQueryHandler.IdOf(response));
            Assert.Equal(query[3..], response[3..]);
        }

        fake.Release(100);
        byte[] slow = await ReceiveAsync(first);
        Assert.Equal(100, FakeQueryHandler.IdOf(slow));
        Assert.Equal(FakeQueryHandler.Query(100, "slow.test")[3..], slow[3..]);
        Assert.Equal(6, handler.Written);
    }

    [Fact]
    public async Task One_loop_tells_client_addresses_apart_and_answers_each_port()
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler, new ListenerOptions { UdpReceiveLoops = 1 });
        var second = IPAddress.Parse("127.0.0.2");
        using var a1 = Udp();
        using var a2 = Udp();
        using var b = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        b.Bind(new IPEndPoint(second, 0));

        // Ports of one address, then another address, then the first again: each answer goes to the port that asked,
        // and each query is the handler's with the address it came from.
        (Socket Client, IPAddress Address)[] order = [(a1, IPAddress.Loopback), (a2, IPAddress.Loopback), (b, second), (a1, IPAddress.Loopback)];
        for (ushort id = 1; id <= order.Length; id++)
        {
            var (client, address) = order[id - 1];
            await client.SendToAsync(FakeQueryHandler.Query(id), listener.UdpEndPoint);
            Assert.Equal(id, FakeQueryHandler.IdOf(await ReceiveAsync(client)));
            Assert.Equal(address, handler.Calls.Last().Context.Client);
        }
    }

    [Fact]
    public async Task Several_receive_loops_answer_many_client_ports_from_the_listeners_port_and_all_close_on_dispose()
    {
        var handler = new FakeQueryHandler();
        var listener = await StartAsync(handler, new ListenerOptions { UdpReceiveLoops = 4 });
        // Linux: a socket per loop on one port (SO_REUSEPORT); elsewhere the loops share one socket.
        Assert.Equal(OperatingSystem.IsLinux() ? 4 : 1, listener.UdpSocketCount);
        var clients = Enumerable.Range(0, 8).Select(_ => Udp()).ToArray();
        try
        {
            // The kernel spreads client ports over the sockets: every client gets its own answer, from the port it asked.
            for (ushort id = 1; id <= clients.Length; id++)
            {
                await clients[id - 1].SendToAsync(FakeQueryHandler.Query(id), listener.UdpEndPoint);
            }

            for (ushort id = 1; id <= clients.Length; id++)
            {
                using var timeout = new CancellationTokenSource(Patience);
                byte[] buffer = new byte[512];
                var received = await clients[id - 1].ReceiveFromAsync(buffer, SocketFlags.None,
                    new IPEndPoint(IPAddress.Any, 0), timeout.Token);
                Assert.Equal(id, FakeQueryHandler.IdOf(buffer.AsSpan(0, received.ReceivedBytes)));
                Assert.Equal(listener.UdpEndPoint, received.RemoteEndPoint);
            }

            Assert.Equal(clients.Length, handler.Calls.Count);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        await listener.DisposeAsync().AsTask().WaitAsync(Patience);

        // Every socket is closed: a socket without SO_REUSEPORT binds the UDP port, and TCP's, again.
        using var rebound = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        rebound.Bind(listener.UdpEndPoint);
        using var reboundTcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reboundTcp.Bind(listener.TcpEndPoint);
    }

    [Fact]
    public async Task A_UDP_port_held_by_a_socket_without_SO_REUSEPORT_is_refused_not_shared()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        var e = await Assert.ThrowsAsync<SocketException>(() => StartAsync(new FakeQueryHandler(),
            new ListenerOptions { UdpReceiveLoops = 4 }, endPoint: (IPEndPoint)holder.LocalEndPoint!));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
    }

    [Fact]
    public async Task A_dual_stack_listener_takes_IPv4_clients_as_v4_mapped_addresses()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return; // No IPv6 on this machine: nothing to prove.
        }

        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler, endPoint: new IPEndPoint(IPAddress.IPv6Any, 0));
        using var client = Udp();

        await client.SendToAsync(FakeQueryHandler.Query(5), new IPEndPoint(IPAddress.Loopback, listener.UdpEndPoint.Port));
        Assert.Equal(5, FakeQueryHandler.IdOf(await ReceiveAsync(client)));
        var address = Assert.Single(handler.Calls).Context.Client;
        Assert.True(address.IsIPv4MappedToIPv6);
        Assert.Equal(IPAddress.Loopback, address.MapToIPv4());

        using var tcp = await ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.TcpEndPoint.Port));
        await tcp.SendAsync(Frame(FakeQueryHandler.Query(6)));
        Assert.Equal(6, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
    }

    /// <summary>Waits until the handler has seen <paramref name="count"/> queries (bounded: 1000 polls of 10 ms).</summary>
    internal static async Task WaitForCallsAsync(FakeQueryHandler handler, int count)
    {
        for (int i = 0; i < 1000 && handler.Calls.Count < count; i++)
        {
            await Task.Delay(10);
        }

        Assert.True(handler.Calls.Count >= count, $"the handler saw {handler.Calls.Count} of {count} queries");
    }
}
