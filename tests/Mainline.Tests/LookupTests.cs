using System.Collections.Concurrent;
using System.Net;
using Mainline.Rpc;

namespace Mainline.Tests;

/// <summary>What a lookup costs and when it stops (spec §8.1), counted by the nodes it queries.</summary>
public sealed class LookupTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task A_get_queries_each_node_once_and_ends_after_the_closest_have_answered()
    {
        const int Nodes = 60;
        var gets = new ConcurrentDictionary<int, int>();
        IPEndPoint? watched = null;
        await using var net = await Testnet.CreateAsync(Nodes, seeded: true, TimeProvider.System, (i, options) =>
            options.RequestFilter = request =>
            {
                if (request.Method == "get" && request.Source.Equals(Volatile.Read(ref watched)))
                {
                    gets.AddOrUpdate(i, 1, (_, n) => n + 1);
                }

                return true;
            }, Ct());
        var item = MutableItem.Sign(Enumerable.Repeat((byte)61, 32).ToArray(), "counted"u8, 1);
        await using (var publisher = await Dht.CreateAsync(net.ClientOptions(), Ct()))
        {
            Assert.True((await publisher.PutMutableAsync(item, null, Ct())).StoredOn >= 20);
        }

        // The reader's clock never moves: no request can time out, so the lookup ends only on replies.
        var options = net.ClientOptions();
        options.TimeProvider = new Clock().Time;
        await using var reader = await Dht.CreateAsync(options, Ct());
        Assert.True(await reader.BootstrappedAsync(Ct()));
        Volatile.Write(ref watched, reader.LocalEndPoint);
        var outcome = await reader.GetMutableDetailedAsync(item.Key, default, null, Ct());
        Assert.Equal(1, outcome.MostRecent!.Seq);

        // No node got two gets from this one lookup, and every query the lookup counts reached a node.
        Assert.All(gets, g => Assert.Equal(1, g.Value));
        Assert.Equal(outcome.Diagnostics.Queried, gets.Count);
        Assert.Equal(0, outcome.Diagnostics.TimedOut);

        // It stopped only after the 20 nodes closest to the target, of the whole network, had answered.
        var ids = new List<(int Index, NodeId Id)>();
        for (var i = 0; i < Nodes; i++)
        {
            ids.Add((i, (await net.Nodes[i].GetInfoAsync(Ct())).Id));
        }

        var closest = ids.Order(Comparer<(int Index, NodeId Id)>.Create((a, b) => item.Target.CompareDistance(a.Id, b.Id))).Take(Limits.K);
        Assert.All(closest, c => Assert.True(gets.ContainsKey(c.Index), $"node {c.Index}, among the 20 closest, was never asked"));
        Assert.True(gets.Count < Nodes, $"the lookup asked all {Nodes} nodes");
    }

    [Fact]
    public void Identical_items_share_one_verification()
    {
        var item = MutableItem.Sign(Enumerable.Range(3, 32).Select(b => (byte)b).ToArray(), "same value"u8, 7);
        var lookup = new Lookup(new LookupKey(item.Target, LookupKind.Get, null), null, 0);
        Assert.Null(lookup.AlreadyVerified(item.KeyArray, item.Seq, item.EncodedValueArray, item.SignatureArray));
        lookup.Deliver(new MutableValue(item));

        Assert.Same(item, lookup.AlreadyVerified(item.KeyArray, item.Seq, [.. item.EncodedValueArray], [.. item.SignatureArray]));
        var otherSignature = item.Signature.ToArray();
        otherSignature[0] ^= 1;
        Assert.Null(lookup.AlreadyVerified(item.KeyArray, item.Seq, item.EncodedValueArray, otherSignature));
        Assert.Null(lookup.AlreadyVerified(item.KeyArray, item.Seq + 1, item.EncodedValueArray, item.SignatureArray));
        var otherValue = item.EncodedValue.ToArray();
        otherValue[^1] ^= 1;
        Assert.Null(lookup.AlreadyVerified(item.KeyArray, item.Seq, otherValue, item.SignatureArray));
    }
}
