// One exchange with one upstream: UDP, then TCP when the UDP reply is truncated (see UpstreamForwarder.cs).

using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Forwarding;

internal sealed partial class UpstreamForwarder
{
    private enum ExchangeOutcome
    {
        Answered,
        TimedOut,
        Failed,
    }

    /// <summary>One exchange with <paramref name="upstream"/>: configured upstream <paramref name="index"/> (its
    /// timeout count kept), or -1 for a delegated server asked with RD = 0 (AskServerAsync).</summary>
    private async Task<Exchange> ExchangeAsync(IPEndPoint upstream, int index, DnsQuestion question, ForwardFlags flags, CancellationToken stopping)
    {
        ushort id = UpstreamWire.RandomId();

        // Two bytes ahead of the query for the TCP length prefix, so both transports send from one buffer.
        byte[] query = ArrayPool<byte>.Shared.Rent(2 + UpstreamWire.MaxQueryLength);
        byte[] reply = ArrayPool<byte>.Shared.Rent(UpstreamWire.MaxMessageLength);
        try
        {
            int queryLength = UpstreamWire.WriteQuery(query.AsSpan(2), id, question, flags, out int questionEnd, recursive: index >= 0);
            var message = query.AsMemory(2, queryLength);
            LogAsking(_logger, upstream, question.Name, question.Type, id, "udp");
            var exchange = await ExchangeUdpAsync(upstream, message, questionEnd, reply, stopping).ConfigureAwait(false);
            if (exchange.Outcome == ExchangeOutcome.Answered && exchange.Message is null)
            {
                // Truncated: the same question over TCP, with a budget of its own.
                _metrics.Upstream("truncated");
                LogAsking(_logger, upstream, question.Name, question.Type, id, "tcp");
                BinaryPrimitives.WriteUInt16BigEndian(query, (ushort)queryLength);
                exchange = await ExchangeTcpAsync(upstream, query.AsMemory(0, 2 + queryLength), questionEnd, reply, stopping).ConfigureAwait(false);
            }

            Record(index, upstream, question, exchange.Outcome);
            return exchange;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(query);
            ArrayPool<byte>.Shared.Return(reply);
        }
    }

    /// <summary>Answered with a null message means "truncated: ask over TCP".</summary>
    private Task<Exchange> ExchangeUdpAsync(IPEndPoint upstream, ReadOnlyMemory<byte> query, int questionEnd, byte[] buffer, CancellationToken stopping)
    {
        return BoundedAsync(upstream, OverUdpAsync, stopping);

        async Task<Exchange> OverUdpAsync(CancellationToken token)
        {
            using var socket = new Socket(upstream.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            await socket.ConnectAsync(upstream, token).ConfigureAwait(false);
            await socket.SendAsync(query, SocketFlags.None, token).ConfigureAwait(false);
            while (true)
            {
                int received = await socket.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
                if (!UpstreamWire.IsReplyTo(buffer.AsSpan(0, received), query.Span, questionEnd))
                {
                    _metrics.Upstream("mismatched");
                    continue;
                }

                return UpstreamWire.IsTruncated(buffer)
                    ? new Exchange(ExchangeOutcome.Answered, null, 0)
                    : Parsed(upstream, buffer.AsSpan(0, received));
            }
        }
    }

    private Task<Exchange> ExchangeTcpAsync(IPEndPoint upstream, ReadOnlyMemory<byte> framedQuery, int questionEnd, byte[] buffer, CancellationToken stopping)
    {
        return BoundedAsync(upstream, OverTcpAsync, stopping);

        async Task<Exchange> OverTcpAsync(CancellationToken token)
        {
            using var socket = new Socket(upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(upstream, token).ConfigureAwait(false);
            await socket.SendAsync(framedQuery, SocketFlags.None, token).ConfigureAwait(false);
            if (!await ReadExactlyAsync(socket, buffer.AsMemory(0, 2), token).ConfigureAwait(false))
            {
                return Unusable(upstream, "the TCP connection closed before a reply");
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(buffer);
            if (!await ReadExactlyAsync(socket, buffer.AsMemory(0, length), token).ConfigureAwait(false))
            {
                return Unusable(upstream, "the TCP connection closed inside a reply");
            }

            // On a connection of its own, a reply to another question is not a stray datagram: the upstream is wrong.
            if (!UpstreamWire.IsReplyTo(buffer.AsSpan(0, length), framedQuery.Span[2..], questionEnd))
            {
                _metrics.Upstream("mismatched");
                return Unusable(upstream, "the TCP reply does not match the query");
            }

            // TC over TCP cannot mean "retry elsewhere"; what came is all there is, and is not cached as truncated.
            buffer[2] &= 0xFD;
            return Parsed(upstream, buffer.AsSpan(0, length));
        }
    }

    /// <summary>Runs one transport's exchange within the timeout, on the forwarder's clock (the timer starts before
    /// the query leaves); a timeout or a socket error becomes the outcome instead of an exception.</summary>
    private async Task<Exchange> BoundedAsync(IPEndPoint upstream, Func<CancellationToken, Task<Exchange>> exchange, CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
        try
        {
            return await exchange(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            return new Exchange(ExchangeOutcome.TimedOut, null, 0);
        }
        catch (SocketException e)
        {
            // ICMP unreachable, connection refused, no route, no IPv6 here: this upstream cannot answer now.
            LogUpstreamSocketError(_logger, upstream, e.SocketErrorCode);
            return new Exchange(ExchangeOutcome.Failed, null, 0);
        }
    }

    private static async ValueTask<bool> ReadExactlyAsync(Socket socket, Memory<byte> destination, CancellationToken cancellationToken)
    {
        int at = 0;
        while (at < destination.Length)
        {
            int read = await socket.ReceiveAsync(destination[at..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }

            at += read;
        }

        return true;
    }

    private Exchange Parsed(IPEndPoint upstream, Span<byte> reply)
        => UpstreamWire.TryParseReply(reply, out var message)
            ? new Exchange(ExchangeOutcome.Answered, message, reply.Length)
            : Unusable(upstream, "the reply does not parse");

    private Exchange Unusable(IPEndPoint upstream, string reason)
    {
        LogUpstreamFailed(_logger, upstream, reason);
        return new Exchange(ExchangeOutcome.Failed, null, 0);
    }

    private void Record(int index, IPEndPoint upstream, DnsQuestion question, ExchangeOutcome outcome)
    {
        switch (outcome)
        {
            case ExchangeOutcome.Answered when index < 0:
                _metrics.Upstream("answered");
                LogOutcome(_logger, upstream, "answered", question.Name, question.Type);
                break;
            case ExchangeOutcome.TimedOut when index < 0:
                _metrics.Upstream("timeout");
                LogOutcome(_logger, upstream, "timed out", question.Name, question.Type);
                break;
            case ExchangeOutcome.Answered:
                _metrics.Upstream("answered");
                Volatile.Write(ref _consecutiveTimeouts[index], 0);
                LogOutcome(_logger, upstream, "answered", question.Name, question.Type);
                break;
            case ExchangeOutcome.TimedOut:
                _metrics.Upstream("timeout");
                int count = Interlocked.Increment(ref _consecutiveTimeouts[index]);
                if (count == FailingAfter || count % 100 == 0)
                {
                    LogKeepsTimingOut(_logger, upstream, count, _options.Timeout);
                }
                else
                {
                    LogOutcome(_logger, upstream, "timed out", question.Name, question.Type);
                }

                break;
            default:
                _metrics.Upstream("failed");
                break;
        }
    }

    private readonly record struct Exchange(ExchangeOutcome Outcome, DnsMessage? Message, int WireLength);
}
