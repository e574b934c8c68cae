using System.Net;
using System.Net.Sockets;
using Mainline.Krpc;

namespace Mainline.Tests.Hostile;

/// <summary>A hand-driven KRPC peer on a loopback UDP socket: it reads queries and answers what the test says.</summary>
internal sealed class RawPeer : IDisposable
{
    private static readonly byte[] PeerVersion = [(byte)'T', (byte)'T', 0, 1];

    public RawPeer(NodeId id, IPAddress? address = null)
    {
        Id = id;
        Socket = new UdpClient(new IPEndPoint(address ?? IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)Socket.Client.LocalEndPoint!;
    }

    public NodeId Id { get; }

    public UdpClient Socket { get; }

    public IPEndPoint EndPoint { get; }

    public DhtNode Node => new(Id, EndPoint);

    /// <summary>The next datagram that decodes as a query (others are skipped).</summary>
    public async Task<(Message Query, IPEndPoint From)> ReceiveQueryAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < 10_000; i++)
        {
            var received = await Socket.ReceiveAsync(cancellationToken);
            if (KrpcCodec.TryDecode(received.Buffer, out var message) == DecodeStatus.Ok && message!.Kind == MessageKind.Query)
            {
                return (message, received.RemoteEndPoint);
            }
        }

        throw new InvalidOperationException("no query among 10,000 datagrams");
    }

    public void Reply(Message query, IPEndPoint to, Response response, IPEndPoint? claimedAddress = null) =>
        Socket.Send(KrpcCodec.EncodeResponse(query.TransactionId, response, PeerVersion, claimedAddress ?? to), to);

    /// <summary>Answers every query with <paramref name="answer"/> (null: stays silent) until cancelled.</summary>
    public Task AnswerAllAsync(Func<Message, Response?> answer, CancellationToken cancellationToken, IPEndPoint? claimedAddress = null) =>
        Task.Run(
            async () =>
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    (Message Query, IPEndPoint From) q;
                    try
                    {
                        q = await ReceiveQueryAsync(cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    if (answer(q.Query) is { } response)
                    {
                        Reply(q.Query, q.From, response, claimedAddress);
                    }
                }
            },
            CancellationToken.None);

    /// <summary>An id that shares all but the low bits of the last byte with <paramref name="target"/>.</summary>
    public static NodeId Near(NodeId target, int i)
    {
        var bytes = target.Bytes.ToArray();
        bytes[19] ^= (byte)(i + 1);
        return new NodeId(bytes);
    }

    /// <summary>The target of a lookup query (find_node, get_peers or get).</summary>
    public static NodeId TargetOf(Query query) => query switch
    {
        FindNodeQuery f => f.Target,
        GetPeersQuery g => g.InfoHash,
        GetQuery g => g.Target,
        _ => query.Id,
    };

    public void Dispose() => Socket.Dispose();
}

/// <summary>Helpers to drive a node on a fake clock through a lookup that waits on silent nodes.</summary>
internal static class Attack
{
    /// <summary>Waits (bounded) until every request the node has in flight goes to <paramref name="silent"/> (or
    /// to itself); returns the others still pending then.</summary>
    public static async Task<List<IPEndPoint>> OthersPendingAsync(Dht node, IReadOnlySet<IPEndPoint> silent, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 400; i++)
        {
            var pending = await node.Node.InvokeAsync(node.Node.Core.PendingEndPoints, cancellationToken);
            // The node's ping to its own voted address (§5) waits too: a client-mode node does not answer it.
            var others = pending.Where(p => !silent.Contains(p) && !p.Equals(node.LocalEndPoint)).ToList();
            if (others.Count == 0 || i == 399)
            {
                return others;
            }

            await Task.Delay(10, cancellationToken);
        }

        return [];
    }

    /// <summary>Moves the clock past the request timeout whenever only silent nodes are pending, until
    /// <paramref name="task"/> completes (at most <paramref name="rounds"/> times).</summary>
    public static async Task AdvanceUntilAsync(
        Task task, Dht node, Clock clock, IReadOnlySet<IPEndPoint> silent, CancellationToken cancellationToken, int rounds = 10)
    {
        for (var i = 0; i < rounds && !task.IsCompleted; i++)
        {
            Assert.Empty(await OthersPendingAsync(node, silent, cancellationToken)); // an honest node's reply never arrived
            if (task.IsCompleted)
            {
                break;
            }

            await clock.AdvanceAsync(TimeSpan.FromSeconds(2.5), cancellationToken, node);
        }

        await task.WaitAsync(cancellationToken);
    }
}
