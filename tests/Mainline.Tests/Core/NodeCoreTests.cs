using System.Net;
using System.Security.Cryptography;
using Mainline.Krpc;
using Mainline.Rpc;

namespace Mainline.Tests.Core;

/// <summary>NodeCore driven directly: no socket, thread or clock; time and randomness come from the test.</summary>
public sealed class NodeCoreTests
{
    private static readonly IPEndPoint Nowhere = new(IPAddress.Loopback, 9); // no core listens there

    /// <summary>Node A (no bootstrap) and nodes B and C bootstrapping from it, joined.</summary>
    private static (CoreNetwork Net, NodeCore A, NodeCore B, NodeCore C) Joined()
    {
        var net = new CoreNetwork();
        var a = net.Add(7001, seed: 1);
        var b = net.Add(7002, seed: 2, [a.LocalEndPoint]);
        var c = net.Add(7003, seed: 3, [a.LocalEndPoint]);
        var bJoin = net.Run(b, core => core.StartSelfLookup());
        net.RunUntil(() => bJoin.Done);
        var cJoin = net.Run(c, core => core.StartSelfLookup());
        net.RunUntil(() => cJoin.Done);
        return (net, a, b, c);
    }

    [Fact]
    public void Three_cores_complete_a_find_node()
    {
        var (net, a, b, c) = Joined();
        Assert.NotNull(b.Table.Find(a.Id));
        Assert.NotNull(a.Table.Find(b.Id)); // A learnt B from its find_node, once B answered A's ping

        var lookup = net.Run(c, core => core.StartLookup(new LookupKey(b.Id, LookupKind.FindNode, null), null));
        net.RunUntil(() => lookup.Done);

        Assert.Equal(b.Id, lookup.ResultNodes[0].Node.Id);
        Assert.Equal(b.LocalEndPoint, lookup.ResultNodes[0].Node.EndPoint);
        Assert.Contains(lookup.ResultNodes, n => n.Node.Id == a.Id);
        Assert.Equal(0, net.Lost);
        Assert.Equal(0, net.Now); // every reply arrived at once: no timeout ran
    }

    [Fact]
    public void A_mutable_put_is_stored_and_a_get_from_another_core_returns_it()
    {
        var (net, a, b, c) = Joined();
        var item = MutableItem.Sign(Enumerable.Repeat((byte)7, 32).ToArray(), "sans-io"u8, 5);
        PutResult? result = null;
        net.Run(b, core =>
        {
            core.StartPut(new PutOperation(PutKind.Mutable, item.Target) { Item = item }, r => result = r);
            return true;
        });
        net.RunUntil(() => result is not null);

        Assert.Equal(PutStatus.Stored, result!.Status);
        Assert.Equal(2, result.StoredOn); // A and C, which gave B tokens
        Assert.False(result.Stopped);
        Assert.Equal(item.Seq, a.Storage.GetMutable(item.Target, net.Now)!.Seq);
        Assert.Equal(item.Seq, c.Storage.GetMutable(item.Target, net.Now)!.Seq);
        Assert.Null(b.Storage.GetMutable(item.Target, net.Now)); // a node does not write to itself

        var values = new List<LookupValue>();
        var get = net.Run(a, core => core.StartLookup(new LookupKey(item.Target, LookupKind.Get, null), null));
        get.Subscribe(values.Add);
        net.RunUntil(() => get.Done);

        var got = Assert.IsType<MutableValue>(Assert.Single(values)).Item;
        Assert.Equal(item.Seq, got.Seq);
        Assert.Equal("sans-io"u8.ToArray(), got.Value.ToArray());
        Assert.Equal(1, get.Diagnostics.Values); // C holds it; A itself is not queried
    }

    [Fact]
    public void Next_deadline_is_the_first_request_expiry_and_the_tick_at_it_times_the_request_out()
    {
        var net = new CoreNetwork();
        var core = net.Add(7001, seed: 1);
        core.SetTime(1000);
        var lookup = core.StartLookup(
            new LookupKey(NodeId.Random(), LookupKind.FindNode, null), null, [new DhtNode(NodeId.Random(), Nowhere)]);
        Assert.True(core.TryTakeOutgoing(out var query));
        Assert.True(query.IsQuery);
        Assert.Equal(Nowhere, query.To);
        Assert.False(core.TryTakeOutgoing(out _));

        // No round trip measured yet: the lookup waits for the query up to the initial soft timeout, and the request
        // itself lives until the request timeout.
        var soft = 1000 + NodeCore.InitialSoftTimeoutMs;
        var expiry = 1000 + (long)CoreNetwork.Options().RequestTimeout.TotalMilliseconds;
        Assert.Equal(soft, core.NextDeadline);
        core.Tick(soft - 1);
        Assert.False(lookup.Done);
        Assert.Equal(soft, core.NextDeadline);

        core.Tick(soft);
        Assert.True(lookup.Done);
        Assert.Equal(1, lookup.Diagnostics.Queried);
        Assert.Equal(1, core.PendingCount);
        Assert.Equal(expiry, core.NextDeadline);

        core.Tick(expiry - 1);
        Assert.Equal(1, core.PendingCount);
        core.Tick(expiry);
        Assert.Equal(0, core.PendingCount);
        Assert.Equal(CoreNetwork.Options().PurgeInterval.TotalMilliseconds, core.NextDeadline); // maintenance next
    }

    [Fact]
    public void A_reply_removes_its_request_from_the_deadline()
    {
        var net = new CoreNetwork();
        var a = net.Add(7001, seed: 1);
        var b = net.Add(7002, seed: 2);
        net.Run(a, core => core.StartLookup(new LookupKey(NodeId.Random(), LookupKind.FindNode, null), null, [new DhtNode(b.Id, b.LocalEndPoint)]));
        Assert.Equal(NodeCore.InitialSoftTimeoutMs, a.NextDeadline);
        net.Pump();
        Assert.Equal(0, a.PendingCount);
        Assert.Equal((long)CoreNetwork.Options().PurgeInterval.TotalMilliseconds, a.NextDeadline);
    }

    [Fact]
    public void An_empty_table_with_a_bootstrap_list_retries_at_once_then_every_five_seconds()
    {
        var net = new CoreNetwork();
        var core = net.Add(7001, seed: 1, [Nowhere]);
        Assert.Equal(0, core.NextDeadline); // the first join is due at the start
        core.Tick(0);
        Assert.Equal(1, core.LookupsStarted);
        var timeout = (long)CoreNetwork.Options().RequestTimeout.TotalMilliseconds;
        Assert.Equal(NodeCore.InitialSoftTimeoutMs, core.NextDeadline); // the join's find_node; no retry while it runs
        core.Tick(timeout);
        Assert.Equal(5000, core.NextDeadline);
        core.Tick(4999);
        Assert.Equal(1, core.LookupsStarted);
        core.Tick(5000);
        Assert.Equal(2, core.LookupsStarted);
    }

    /// <summary>Eight cores join (one bootstrap address never answers, so requests time out too), one puts a
    /// mutable item and another gets it: every datagram they exchanged, in order.</summary>
    private static List<byte[]> JoinPutAndGet(ulong seed)
    {
        var net = new CoreNetwork();
        var first = net.Add(7000, seed);
        for (var i = 1; i < 8; i++)
        {
            var core = net.Add(7000 + i, seed + ((ulong)i * 100), [first.LocalEndPoint, Nowhere]);
            var join = net.Run(core, c => c.StartSelfLookup());
            net.RunUntil(() => join.Done);
        }

        var item = MutableItem.Sign(new byte[32], "same"u8, 1);
        PutResult? put = null;
        net.Run(net.Cores[2], core =>
        {
            core.StartPut(new PutOperation(PutKind.Mutable, item.Target) { Item = item }, r => put = r);
            return true;
        });
        net.RunUntil(() => put is not null);
        Assert.Equal(PutStatus.Stored, put!.Status);

        var values = new List<LookupValue>();
        var get = net.Run(net.Cores[7], core => core.StartLookup(new LookupKey(item.Target, LookupKind.Get, null), null));
        get.Subscribe(values.Add);
        net.RunUntil(() => get.Done);
        Assert.NotEmpty(values);
        Assert.True(net.Now > 0); // the silent address made requests time out
        return [.. net.Log.Select(d => d.Datagram)];
    }

    [Fact]
    public void One_seed_gives_the_same_transaction_ids_and_bytes_twice_and_another_seed_does_not()
    {
        static List<byte[]> Tids(List<byte[]> datagrams) =>
            [.. datagrams.Select(d => KrpcCodec.TryDecode(d, out var m) == DecodeStatus.Ok ? m!.TransactionId.ToArray() : [])];

        var first = JoinPutAndGet(42);
        var second = JoinPutAndGet(42);
        var other = JoinPutAndGet(43);

        Assert.True(first.Count > 10);
        Assert.Equal(first, second);
        Assert.Equal(Tids(first), Tids(second));
        Assert.NotEqual(Tids(first), Tids(other));
        Assert.NotEqual(first, other);
    }

    /// <summary>
    /// The same run in another process gives the same bytes: hash codes of ids, addresses and strings are seeded
    /// per process, so an outcome that depended on iterating a hash container would change this digest from one
    /// test run to the next. A deliberate change of what the node sends changes it too: then update it.
    /// </summary>
    [Fact]
    public void One_seed_gives_the_same_bytes_in_every_process()
    {
        var digest = new Digest();
        foreach (var datagram in JoinPutAndGet(42))
        {
            digest.Append(datagram);
        }

        Assert.Equal(ExpectedDigest, digest.Hex());
    }

    private const string ExpectedDigest = "d80e89f210595963391bc8ebefcf53bf49aadb40809aca4b0017bd5c7f393c07";

    [Fact]
    public void The_core_reads_no_clock_its_time_moves_only_through_the_entry_points()
    {
        var net = new CoreNetwork();
        var core = net.Add(7001, seed: 1);
        Assert.Equal(0, core.Now);
        core.SetTime(5);
        var lookup = core.StartLookup(new LookupKey(NodeId.Random(), LookupKind.FindNode, null), null, [new DhtNode(NodeId.Random(), Nowhere)]);
        Assert.Equal(5, core.Now);
        Assert.Equal(5, lookup.StartedAt);
        core.SetTime(3); // time never goes back
        Assert.Equal(5, core.Now);
        core.Receive(new byte[] { 1, 2, 3 }, Nowhere, 7);
        Assert.Equal(7, core.Now);
        core.Tick(9);
        Assert.Equal(9, core.Now);
        Assert.Equal(5 + NodeCore.InitialSoftTimeoutMs, core.NextDeadline); // sent at 5
    }

    [Fact]
    public void Garbage_is_dropped_or_answered_never_thrown()
    {
        var net = new CoreNetwork();
        var core = net.Add(7001, seed: 1);
        var random = new SeededEntropy(9);
        for (var i = 0; i < 500; i++)
        {
            var datagram = new byte[random.Next(200)];
            random.Fill(datagram);
            core.Receive(datagram, new IPEndPoint(IPAddress.Loopback, 2000 + i), i);
        }

        core.Receive("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"u8.ToArray(), Nowhere, 600);
        Assert.True(core.TryTakeOutgoing(out Outgoing reply));
        while (core.TryTakeOutgoing(out var next))
        {
            reply = next;
        }

        Assert.False(reply.IsQuery);
        Assert.Equal(Nowhere, reply.To);
        Assert.Equal(DecodeStatus.Ok, KrpcCodec.TryDecode(reply.Datagram, out var message));
        Assert.Equal(core.Id, message!.Response!.Id); // the ping after the garbage is still answered
    }

    [Fact]
    public void Shutdown_ends_puts_as_stopped_and_lookups_with_what_they_have()
    {
        var net = new CoreNetwork();
        var core = net.Add(7001, seed: 1, [Nowhere]);
        var item = MutableItem.Sign(new byte[32], "stopped"u8, 1);
        var results = new List<PutResult>();
        core.StartPut(new PutOperation(PutKind.Mutable, item.Target) { Item = item }, results.Add);
        var lookup = core.StartLookup(new LookupKey(NodeId.Random(), LookupKind.Get, null), null);
        var ended = 0;
        lookup.OnCompleted(_ => ended++);
        Assert.Empty(results);

        core.Shutdown();

        Assert.True(Assert.Single(results).Stopped);
        Assert.Equal(1, ended);
        Assert.True(lookup.Done);
        Assert.Equal(0, core.OutgoingCount);
        Assert.Equal(long.MaxValue, core.NextDeadline);
        core.StartPut(new PutOperation(PutKind.Immutable, item.Target) { EncodedValue = "1:x"u8.ToArray() }, results.Add);
        Assert.True(results[1].Stopped);
        Assert.True(core.StartLookup(new LookupKey(NodeId.Random(), LookupKind.FindNode, null), null).Done);
        Assert.Equal(0, core.OutgoingCount);
    }

    /// <summary>SHA-256 over length-prefixed datagrams.</summary>
    private sealed class Digest
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public void Append(byte[] datagram)
        {
            _sha.AppendData(BitConverter.GetBytes(datagram.Length));
            _sha.AppendData(datagram);
        }

        public string Hex() => Convert.ToHexStringLower(_sha.GetHashAndReset());
    }

    [Fact]
    public void A_subscriber_gets_past_values_first_then_each_new_one_until_the_lookup_ends()
    {
        var lookup = new Lookup(new LookupKey(NodeId.Random(), LookupKind.Get, null), null, 0);
        var first = new ImmutableValue([1]);
        var second = new ImmutableValue([2]);
        lookup.Deliver(first);
        var seen = new List<LookupValue>();
        lookup.Subscribe(seen.Add);
        Assert.Equal([first], seen);
        lookup.Deliver(second);
        Assert.Equal([first, second], seen);

        lookup.Complete();
        var late = new List<LookupValue>();
        lookup.Subscribe(late.Add);
        Assert.Equal([first, second], late);
        lookup.Deliver(new ImmutableValue([3])); // a done lookup has no subscribers left
        Assert.Equal(2, seen.Count);
    }
}
