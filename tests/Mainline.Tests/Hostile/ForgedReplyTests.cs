using System.Buffers.Binary;
using System.Net;
using Mainline.Krpc;

namespace Mainline.Tests.Hostile;

/// <summary>
/// Issue 9, Medium 3: a reply counts only when it comes from the exact endpoint queried, and transaction ids do
/// not tell an off-path forger what the next one is.
/// </summary>
public sealed class ForgedReplyTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    private static readonly byte[] Seed = [.. Enumerable.Range(40, 32).Select(b => (byte)b)];

    private static DhtOptions Options(Clock clock, params EndPoint[] bootstrap) => new()
    {
        Bootstrap = bootstrap,
        Port = 0,
        BindAddress = IPAddress.Loopback,
        Mode = DhtMode.Client,
        TimeProvider = clock.Time,
    };

    private static Response ItemReply(NodeId id, MutableItem item) => new()
    {
        Id = id,
        Token = [9, 9],
        Key = item.KeyArray,
        Seq = item.Seq,
        Signature = item.SignatureArray,
        EncodedValue = item.EncodedValueArray,
    };

    private static async Task<List<long>> CollectAsync(IAsyncEnumerable<MutableItem> items)
    {
        var seqs = new List<long>();
        await foreach (var item in items)
        {
            seqs.Add(item.Seq);
        }

        return seqs;
    }

    [Theory]
    [InlineData("127.0.0.1", 1)] // same IP, other port
    [InlineData("127.0.0.2", 0)] // same port, other IP
    [InlineData("203.0.113.9", 0)] // a spoofed public source, same port
    public async Task A_reply_from_another_source_is_ignored_and_the_real_one_still_counts(string forgedIp, int portOffset)
    {
        var ct = Ct();
        var clock = new Clock();
        using var peer = new RawPeer(NodeId.Random());
        await using var client = await Dht.CreateAsync(Options(clock, peer.EndPoint), ct);
        var real = MutableItem.Sign(Seed, "real"u8, 1);
        var forged = MutableItem.Sign(Seed, "forged"u8, 2);

        var seqs = CollectAsync(client.GetMutableAsync(real.Key, default, null, ct));
        var (query, from) = await peer.ReceiveQueryAsync(ct);
        while (query.Query is not GetQuery)
        {
            (query, from) = await peer.ReceiveQueryAsync(ct); // the node's own find_node, as its table is empty
        }

        var forgedFrom = new IPEndPoint(IPAddress.Parse(forgedIp), peer.EndPoint.Port + portOffset);
        Assert.True(client.Node.Inject(KrpcCodec.EncodeResponse(query.TransactionId, ItemReply(peer.Id, forged), [], from), forgedFrom));

        // The forged reply neither delivers its item nor completes the request: the real reply is still awaited.
        Assert.Contains(peer.EndPoint, await client.Node.InvokeAsync(client.Node.Core.PendingEndPoints, ct));
        peer.Reply(query, from, ItemReply(peer.Id, real));
        Assert.Equal([1L], await seqs);
    }

    [Fact]
    public async Task No_request_goes_to_the_unspecified_address_so_no_source_can_answer_it()
    {
        var ct = Ct();
        var clock = new Clock();
        using var peer = new RawPeer(NodeId.Random());
        var unspecified = new IPEndPoint(IPAddress.Any, peer.EndPoint.Port);
        await using var client = await Dht.CreateAsync(Options(clock, unspecified), ct);
        var real = MutableItem.Sign(Seed, "real"u8, 1);
        var forged = MutableItem.Sign(Seed, "forged"u8, 2);

        var seqs = CollectAsync(client.GetMutableAsync(real.Key, default, null, ct));
        var pending = await client.Node.InvokeAsync(client.Node.Core.PendingEndPoints, ct);
        if (pending.Count > 0)
        {
            // Linux delivers a datagram sent to 0.0.0.0 to the local host: the peer sees the query.
            var (query, from) = await peer.ReceiveQueryAsync(ct);
            client.Node.Inject(KrpcCodec.EncodeResponse(query.TransactionId, ItemReply(peer.Id, forged), [], from), new IPEndPoint(IPAddress.Parse("203.0.113.9"), peer.EndPoint.Port));
            await clock.AdvanceAsync(TimeSpan.FromSeconds(3), ct, client);
        }

        Assert.Empty(pending);
        Assert.Empty(await seqs);
    }

    [Fact]
    public async Task Transaction_ids_are_four_random_bytes_without_a_stride()
    {
        const int Samples = 64;
        var ct = Ct();
        var clock = new Clock();
        using var peer = new RawPeer(NodeId.Random());
        await using var client = await Dht.CreateAsync(Options(clock, peer.EndPoint), ct);
        await client.Node.InvokeAsync(
            () =>
            {
                for (var i = 0; i < Samples; i++)
                {
                    client.Node.Core.StartLookup(new Mainline.Rpc.LookupKey(NodeId.Random(), Mainline.Rpc.LookupKind.FindNode, null), null);
                }

                return true;
            }, ct);

        var tids = new List<uint>();
        for (var i = 0; i < Samples; i++)
        {
            var (query, _) = await peer.ReceiveQueryAsync(ct);
            Assert.True(query.TransactionId.Length >= 4);
            tids.Add(BinaryPrimitives.ReadUInt32BigEndian(query.TransactionId));
        }

        Assert.Equal(Samples, tids.Distinct().Count());
        var strides = tids.Zip(tids.Skip(1), (a, b) => unchecked(b - a)).Distinct().Count();
        Assert.True(strides >= Samples - 4, $"only {strides} distinct steps between {Samples} consecutive ids");

        // Every bit varies: a counter keeps its high bits; random ids set each bit about half of the time
        // (outside 12..52 of 64 has a probability below 1e-6 per bit).
        for (var bit = 0; bit < 32; bit++)
        {
            var set = tids.Count(t => (t & (1u << bit)) != 0);
            Assert.InRange(set, 12, 52);
        }
    }
}
