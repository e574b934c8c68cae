using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Pkarr.DnsServer.Listeners;
using Pkarr.DnsServer.Query;
using static Pkarr.DnsServer.Tests.Listeners.ListenerFixture;

namespace Pkarr.DnsServer.Tests.Listeners;

public sealed class DnsListenerTcpTests
{
    [Fact]
    public async Task TCP_listens_on_the_UDP_port_and_answers_length_prefixed_messages()
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler);
        Assert.Equal(listener.UdpEndPoint, listener.TcpEndPoint);
        Assert.NotEqual(0, listener.TcpEndPoint.Port);

        using var tcp = await ConnectAsync(listener.TcpEndPoint);
        byte[] query = FakeQueryHandler.Query(11);
        await tcp.SendAsync(Frame(query));
        byte[]? response = await ReadFrameAsync(tcp);

        Assert.NotNull(response);
        Assert.Equal(11, FakeQueryHandler.IdOf(response));
        Assert.Equal(query.Length, response.Length);
        var call = Assert.Single(handler.Calls);
        Assert.Equal(DnsTransport.Tcp, call.Context.Transport);
        Assert.Equal(IPAddress.Loopback, call.Context.Client);
    }

    [Fact]
    public async Task Pipelined_queries_are_answered_as_they_complete()
    {
        var handler = new FakeQueryHandler();
        handler.Gate(1);
        await using var listener = await StartAsync(handler);
        using var tcp = await ConnectAsync(listener.TcpEndPoint);

        await tcp.SendAsync((byte[])[.. Frame(FakeQueryHandler.Query(1)), .. Frame(FakeQueryHandler.Query(2))]);
        Assert.Equal(2, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
        handler.Release(1);
        Assert.Equal(1, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
    }

    [Fact]
    public async Task Beyond_the_per_connection_bound_the_next_query_waits_to_be_read()
    {
        var handler = new FakeQueryHandler();
        handler.Gate(1);
        await using var listener = await StartAsync(handler, new ListenerOptions { MaxQueriesPerTcpConnection = 1 });
        using var tcp = await ConnectAsync(listener.TcpEndPoint);

        await tcp.SendAsync((byte[])[.. Frame(FakeQueryHandler.Query(1)), .. Frame(FakeQueryHandler.Query(2))]);
        await DnsListenerUdpTests.WaitForCallsAsync(handler, 1);
        handler.Release(1);

        // Query 2 is fast, yet answered second: it was not read while query 1 held the connection's only place.
        Assert.Equal(1, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
        Assert.Equal(2, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
    }

    [Fact]
    public async Task A_message_arriving_one_byte_at_a_time_is_read_whole()
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler);
        using var tcp = await ConnectAsync(listener.TcpEndPoint);

        byte[] frame = [.. Frame(FakeQueryHandler.Query(12)), .. Frame(FakeQueryHandler.Query(13))];
        foreach (byte b in frame)
        {
            await tcp.SendAsync(new[] { b });
        }

        Assert.Equal(12, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
        Assert.Equal(13, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(11)]
    public async Task A_length_shorter_than_a_header_closes_the_connection(int length)
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler);
        using var tcp = await ConnectAsync(listener.TcpEndPoint);

        await tcp.SendAsync((byte[])[0, (byte)length, .. new byte[length], .. Frame(FakeQueryHandler.Query(14))]);

        Assert.True(await ClosedAsync(tcp));
        Assert.Empty(handler.Calls);
    }

    [Fact]
    public async Task Nothing_is_written_when_the_handler_returns_null()
    {
        var handler = new FakeQueryHandler();
        handler.Unanswered.Add(15);
        await using var listener = await StartAsync(handler);
        using var tcp = await ConnectAsync(listener.TcpEndPoint);

        await tcp.SendAsync((byte[])[.. Frame(FakeQueryHandler.Query(15)), .. Frame(FakeQueryHandler.Query(16))]);

        Assert.Equal(16, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
        Assert.Equal([15, 16], handler.Ids);
    }

    [Fact]
    public async Task An_idle_connection_is_closed_after_the_timeout_and_not_before()
    {
        var time = new FakeTimeProvider();
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler, new ListenerOptions { Time = time, TcpIdleTimeout = TimeSpan.FromSeconds(10) });
        using var tcp = await ConnectAsync(listener.TcpEndPoint);

        // The timer restarts when an answer is written, before the client can read it.
        await tcp.SendAsync(Frame(FakeQueryHandler.Query(1)));
        Assert.Equal(1, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
        time.Advance(TimeSpan.FromSeconds(9));
        await tcp.SendAsync(Frame(FakeQueryHandler.Query(2)));
        Assert.Equal(2, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(await ClosedAsync(tcp));
        await WaitForNoConnectionsAsync(listener);
    }

    [Fact]
    public async Task A_query_being_answered_keeps_its_connection_open_past_the_timeout()
    {
        var time = new FakeTimeProvider();
        var handler = new FakeQueryHandler();
        handler.Gate(3);
        await using var listener = await StartAsync(handler, new ListenerOptions { Time = time, TcpIdleTimeout = TimeSpan.FromSeconds(10) });
        using var tcp = await ConnectAsync(listener.TcpEndPoint);

        await tcp.SendAsync(Frame(FakeQueryHandler.Query(3)));
        await DnsListenerUdpTests.WaitForCallsAsync(handler, 1);
        time.Advance(TimeSpan.FromSeconds(60));
        handler.Release(3);

        Assert.Equal(3, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
    }

    [Fact]
    public async Task A_client_that_sends_part_of_a_message_and_stalls_is_closed()
    {
        var time = new FakeTimeProvider();
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler, new ListenerOptions { Time = time, TcpIdleTimeout = TimeSpan.FromSeconds(10) });
        using var tcp = await ConnectAsync(listener.TcpEndPoint);
        await tcp.SendAsync(Frame(FakeQueryHandler.Query(4)));
        Assert.Equal(4, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));

        await tcp.SendAsync(Frame(FakeQueryHandler.Query(5))[..6]);
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(await ClosedAsync(tcp));
        Assert.Equal([4], handler.Ids);
    }

    [Fact]
    public async Task Connections_beyond_the_per_client_limit_are_closed_at_once()
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler, new ListenerOptions { MaxTcpConnectionsPerIp = 2 });
        using var first = await ConnectAsync(listener.TcpEndPoint);
        using var second = await ConnectAsync(listener.TcpEndPoint);
        await AssertAnsweredAsync(first, 1);
        await AssertAnsweredAsync(second, 2);

        using (var third = await ConnectAsync(listener.TcpEndPoint))
        {
            Assert.True(await ClosedAsync(third));
        }

        // A closed connection gives its place back.
        first.Dispose();
        await WaitForConnectionsAsync(listener, 1);
        using var fourth = await ConnectAsync(listener.TcpEndPoint);
        await AssertAnsweredAsync(fourth, 4);
        await AssertAnsweredAsync(second, 5);
    }

    [Fact]
    public async Task Connections_beyond_the_total_limit_are_closed_at_once()
    {
        var handler = new FakeQueryHandler();
        await using var listener = await StartAsync(handler, new ListenerOptions { MaxTcpConnections = 1 });
        using var first = await ConnectAsync(listener.TcpEndPoint);
        await AssertAnsweredAsync(first, 1);

        using var second = await ConnectAsync(listener.TcpEndPoint);
        Assert.True(await ClosedAsync(second));
        await AssertAnsweredAsync(first, 2);
    }

    [Fact]
    public async Task A_client_that_half_closes_still_gets_its_answers_then_the_connection_closes()
    {
        var handler = new FakeQueryHandler();
        handler.Gate(1);
        await using var listener = await StartAsync(handler);
        using var tcp = await ConnectAsync(listener.TcpEndPoint);

        await tcp.SendAsync((byte[])[.. Frame(FakeQueryHandler.Query(1)), .. Frame(FakeQueryHandler.Query(2))]);
        tcp.Shutdown(SocketShutdown.Send);
        Assert.Equal(2, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
        handler.Release(1);

        Assert.Equal(1, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
        Assert.True(await ClosedAsync(tcp));
        await WaitForNoConnectionsAsync(listener);
    }

    [Fact]
    public async Task A_client_that_resets_its_connection_leaves_the_listener_serving()
    {
        var handler = new FakeQueryHandler();
        handler.Gate(1);
        await using var listener = await StartAsync(handler);
        var abrupt = await ConnectAsync(listener.TcpEndPoint);
        await abrupt.SendAsync((byte[])[.. Frame(FakeQueryHandler.Query(1)), 0, 40, 1, 2, 3]);
        await DnsListenerUdpTests.WaitForCallsAsync(handler, 1);
        abrupt.LingerState = new LingerOption(true, 0);
        abrupt.Dispose();
        handler.Release(1);

        await WaitForNoConnectionsAsync(listener);
        using var tcp = await ConnectAsync(listener.TcpEndPoint);
        await AssertAnsweredAsync(tcp, 2);
    }

    [Fact]
    public async Task Dispose_closes_open_connections()
    {
        var handler = new FakeQueryHandler();
        handler.Gate(1);
        var listener = await StartAsync(handler);
        using var tcp = await ConnectAsync(listener.TcpEndPoint);
        await tcp.SendAsync(Frame(FakeQueryHandler.Query(1)));
        await DnsListenerUdpTests.WaitForCallsAsync(handler, 1);

        await listener.DisposeAsync().AsTask().WaitAsync(Patience);

        Assert.True(await ClosedAsync(tcp));
        Assert.Equal([(ushort)1], handler.Cancelled);
        Assert.Equal(0, listener.TcpConnectionCount);
    }

    [Fact]
    public async Task A_taken_TCP_port_is_refused_when_the_port_is_given()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var handler = new FakeQueryHandler();

        var e = await Assert.ThrowsAsync<SocketException>(() => StartAsync(handler, endPoint: (IPEndPoint)taken.LocalEndPoint!));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
    }

    [Fact]
    public async Task Options_that_would_answer_nothing_are_refused()
    {
        var handler = new FakeQueryHandler();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StartAsync(handler, new ListenerOptions { MaxQueriesInFlight = 0 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StartAsync(handler, new ListenerOptions { MaxQueriesPerTcpConnection = 0 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StartAsync(handler, new ListenerOptions { TcpIdleTimeout = TimeSpan.Zero }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => StartAsync(handler, new ListenerOptions { UdpReceiveLoops = 0 }));
        await using var valid = await StartAsync(handler, new ListenerOptions { MaxQueriesInFlight = 1, MaxQueriesPerTcpConnection = 1 });
    }

    private static async Task AssertAnsweredAsync(Socket tcp, ushort id)
    {
        await tcp.SendAsync(Frame(FakeQueryHandler.Query(id)));
        Assert.Equal(id, FakeQueryHandler.IdOf(await ReadFrameAsync(tcp)));
    }

    private static Task WaitForNoConnectionsAsync(DnsListener listener) => WaitForConnectionsAsync(listener, 0);

    /// <summary>Waits until the listener holds <paramref name="count"/> connections (bounded: 1000 polls of 10 ms).</summary>
    private static async Task WaitForConnectionsAsync(DnsListener listener, int count)
    {
        for (int i = 0; i < 1000 && listener.TcpConnectionCount != count; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(count, listener.TcpConnectionCount);
    }
}
