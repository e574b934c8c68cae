// The UDP side: blocking receive loops on threads of their own, each on its socket (see DnsListener). Every datagram
// is handed to the handler in the receive buffer (the handler reads it only during the call); an answer that is ready
// at once is sent from the loop's thread, out of the loop's send buffer when the handler wrote it there (a cached
// answer: no allocation, no copy, no shared write), and one that waits (a network lookup, an upstream) is sent by its
// own task.

using System.Net;
using System.Net.Sockets;
using Pkarr.DnsServer.Query;

namespace Pkarr.DnsServer.Listeners;

internal sealed partial class DnsListener
{
    /// <summary>Runs one receive loop on a thread of its own; the task completes when the loop ends.</summary>
    private Task StartUdpLoop(Socket udp)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                ReceiveUdp(udp);
                ended.TrySetResult();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug, not a client's doing: the thread ends without taking the process along; disposal reports it.
                ended.TrySetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "dns-udp",
        };
        thread.Start();
        return ended.Task;
    }

    /// <summary>Blocking receive, answer, send, the shape of unbound's worker loop: most queries (cached packets and
    /// answers, refusals) are answered synchronously, and an asynchronous receive would add a thread-pool hop and a
    /// context switch to each. Disposing the socket ends the blocking receive.</summary>
    private void ReceiveUdp(Socket udp)
    {
        var token = _stopping.Token;
        byte[] buffer = GC.AllocateUninitializedArray<byte>(MaxMessageLength);
        byte[] sendBuffer = GC.AllocateUninitializedArray<byte>(MaxMessageLength);
        // The sender's address as the kernel gives it (a sockaddr), filled in place by each receive and the destination
        // of the answer: no endpoint is made or serialized per datagram. The IPAddress the handler and the rate limits
        // need is read once per new sender address: clients send from many ports of one address (a resolver picks a
        // port per query, dnsperf has one per client), and the port is left out of the comparison.
        var sender = new SocketAddress(udp.AddressFamily);
        var any = new IPEndPoint(udp.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        var known = any.Serialize();
        IPAddress client = any.Address;
        while (!token.IsCancellationRequested)
        {
            int received;
            try
            {
                received = udp.ReceiveFrom(buffer, SocketFlags.None, sender);
            }
            catch (Exception e) when (e is ObjectDisposedException || (e is SocketException && token.IsCancellationRequested))
            {
                break;
            }
            catch (SocketException e)
            {
                // An ICMP error for an earlier send (port unreachable arrives as ConnectionReset or ConnectionRefused)
                // concerns one client that went away, not the socket.
                ListenerLog.UdpReceiveFailed(_logger, e.SocketErrorCode);
                continue;
            }

            if (!SameAddress(sender, known))
            {
                client = EndPointOf(sender).Address;
                known = Copy(sender);
            }

            var response = AnswerUdp(buffer.AsMemory(0, received), sendBuffer, udp, client, sender);
            if (!response.IsEmpty)
            {
                SendUdp(udp, response.Span, sender);
            }
        }
    }

    /// <summary>Whether two sockaddrs name one address, whatever their ports: a sockaddr_in or sockaddr_in6 holds its
    /// port in bytes 2 and 3, after the family.</summary>
    private static bool SameAddress(SocketAddress a, SocketAddress b)
    {
        var x = a.Buffer.Span[..a.Size];
        var y = b.Buffer.Span[..b.Size];
        return x.Length == y.Length && x.Length > 4 && x[..2].SequenceEqual(y[..2]) && x[4..].SequenceEqual(y[4..]);
    }

    private static SocketAddress Copy(SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }

    private static IPEndPoint EndPointOf(SocketAddress address) => (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address);

    /// <summary>Starts answering <paramref name="datagram"/>; returns the response when it is ready at once (the common
    /// case: cached packets, refusals), possibly in <paramref name="sendBuffer"/>, else empty (nothing to send, or a task
    /// sends it later).</summary>
    /// <remarks>The handler reads the query only during the call (it copies what it goes on with), so the datagram is
    /// handed over in the receive buffer. Only a query that goes on waiting takes a place in the in-flight budget: one
    /// answered at once holds nothing once the call returns, and counting it would have both loops write one shared
    /// counter twice per query. The budget is read before the call and taken after it, so the loops may overrun it by
    /// one query each.</remarks>
    private ReadOnlyMemory<byte> AnswerUdp(ReadOnlyMemory<byte> datagram, byte[] sendBuffer, Socket udp, IPAddress client,
        SocketAddress sender)
    {
        if (!HasRoom(client))
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var pending = StartUdpQuery(datagram, sendBuffer, new QueryContext(client, DnsTransport.Udp), _stopping.Token);
        if (!pending.IsCompleted)
        {
            // The loop refills its sender address with the next datagram: the task keeps a copy.
            Interlocked.Increment(ref _inFlight);
            _ = CompleteUdpAsync(pending, udp, Copy(sender));
            return ReadOnlyMemory<byte>.Empty;
        }

        return ResultOf(pending);
    }

    private async Task CompleteUdpAsync(ValueTask<ReadOnlyMemory<byte>> pending, Socket udp, SocketAddress sender)
    {
        var response = await AwaitQueryAsync(pending).ConfigureAwait(false);
        // The place is given back before sending, so a client that has its answer finds the budget free again.
        EndQuery();
        if (!response.IsEmpty)
        {
            SendUdp(udp, response.Span, sender);
        }
    }

    /// <summary>Sends synchronously, from a receive loop and from a task alike: a UDP send does not wait for the
    /// client, and one asynchronous operation would turn the socket non-blocking for good, making the loop's blocking
    /// receive an emulated one.</summary>
    private void SendUdp(Socket udp, ReadOnlySpan<byte> response, SocketAddress to)
    {
        try
        {
            udp.SendTo(response, SocketFlags.None, to);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client's network refused the datagram, or the listener is stopping: the client retries or gives up.
            // A failure path: the endpoint for the log is made here rather than kept per datagram.
            var client = EndPointOf(to);
            ListenerLog.UdpSendFailed(_logger, client, e.Message);
        }
    }

    /// <summary>Calls the handler with the loop's send buffer; a handler that throws (it must not) counts as no
    /// answer.</summary>
    private ValueTask<ReadOnlyMemory<byte>> StartUdpQuery(ReadOnlyMemory<byte> query, byte[] sendBuffer, QueryContext context,
        CancellationToken cancellationToken)
    {
        try
        {
            return Handler.HandleAsync(query, context, sendBuffer, cancellationToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return ValueTask.FromException<ReadOnlyMemory<byte>>(e);
        }
    }

    /// <summary>Calls the handler; a handler that throws (it must not) counts as no answer.</summary>
    internal ValueTask<byte[]?> StartQuery(ReadOnlyMemory<byte> query, QueryContext context, CancellationToken cancellationToken)
    {
        try
        {
            return Handler.HandleAsync(query, context, cancellationToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return ValueTask.FromException<byte[]?>(e);
        }
    }

    /// <summary>The response of a completed query, or the default (null, empty: no answer) when it failed or was
    /// cancelled.</summary>
    internal T? ResultOf<T>(ValueTask<T> completed)
    {
        try
        {
            return completed.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            NoAnswer(e);
            return default;
        }
    }

    /// <summary>Awaits the handler's response, or the default (null, empty: no answer) when it failed or was
    /// cancelled.</summary>
    internal async ValueTask<T?> AwaitQueryAsync<T>(ValueTask<T> pending)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            NoAnswer(e);
            return default;
        }
    }

    /// <summary>A cancelled query (the listener or the connection is closing) has no answer; a failed one (a bug: the
    /// handler never throws) is logged and has none either.</summary>
    private void NoAnswer(Exception e)
    {
        if (e is not OperationCanceledException)
        {
            ListenerLog.HandlerFailed(_logger, e);
        }
    }
}
