using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Mainline.Krpc;

namespace Mainline.Tests.Hostile;

/// <summary>
/// Issue 9, High 2: a responder lists node entries next to the target that never answer. They must not end the
/// lookup: it converges on the closest nodes that replied, so the value is found and a put reaches the holders.
/// </summary>
public sealed class EclipseTests
{
    private const int Fakes = 24;

    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;

    [Fact]
    public async Task Never_answering_closer_nodes_do_not_hide_the_holders()
    {
        var ct = Ct();
        var puts = new ConcurrentDictionary<int, int>();
        IPEndPoint? victim = null;
        await using var net = await Testnet.CreateAsync(40, seeded: true, TimeProvider.System, (i, options) =>
            options.RequestFilter = request =>
            {
                if (request.Method == "put" && request.Source.Equals(Volatile.Read(ref victim)))
                {
                    puts.AddOrUpdate(i, 1, (_, n) => n + 1);
                }

                return true;
            }, ct);
        var honest = new List<DhtNode>();
        foreach (var n in net.Nodes)
        {
            honest.Add(new DhtNode((await n.GetInfoAsync(ct)).Id, n.LocalEndPoint));
        }

        var value = "found despite the eclipse"u8.ToArray();
        var stored = await net.Nodes[0].PutImmutableAsync(value, ct);
        Assert.True(stored.StoredOn >= 10);

        // 24 sockets that never answer, listed under ids next to whatever target is asked. Each has its own IP
        // (127.0.0.10 and up): ids sharing 21 bits on one IP would fall to the per-IP rule.
        var silent = Enumerable.Range(0, Fakes).Select(i => new UdpClient(new IPEndPoint(IPAddress.Parse($"127.0.0.{10 + i}"), 0))).ToList();
        var silentSet = silent.Select(s => (IPEndPoint)s.Client.LocalEndPoint!).ToHashSet();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            // Two hostile sockets list 12 fakes each (24 in all) with a token, so they look like good responders.
            List<RawPeer> hostile = [];
            for (var h = 0; h < 2; h++)
            {
                var first = h * (Fakes / 2);
                var peer = new RawPeer(NodeId.Random());
                hostile.Add(peer);
                _ = peer.AnswerAllAsync(
                    q => new Response
                    {
                        Id = peer.Id,
                        Token = [1, 2, 3, 4],
                        Nodes = [.. Enumerable.Range(first, Fakes / 2).Select(i => new DhtNode(RawPeer.Near(RawPeer.TargetOf(q.Query!), i), (IPEndPoint)silent[i].Client.LocalEndPoint!))],
                    },
                    stop.Token);
            }

            // An honest pointer: it lists the real closest nodes, but only after the fakes were listed and queried.
            using var pointer = new RawPeer(NodeId.Random());
            var clock = new Clock();
            await using var client = await Dht.CreateAsync(
                new DhtOptions { Bootstrap = [], Port = 0, BindAddress = IPAddress.Loopback, Mode = DhtMode.Client, TimeProvider = clock.Time }, ct);
            Volatile.Write(ref victim, client.LocalEndPoint);
            // The victim knows only the hostile responders and the pointer. Before each operation its table is set
            // back to them, so that both hostile responders are among a lookup's first queries whatever the target.
            var seeds = hostile.Select(p => p.Node).Append(pointer.Node).ToList();
            Task OnlySeedsKnown() => client.Node.InvokeAsync(
                () =>
                {
                    foreach (var entry in client.Node.Core.Table.Entries.ToList())
                    {
                        client.Node.Core.Table.Remove(entry.Node.Id);
                    }

                    foreach (var seed in seeds)
                    {
                        client.Node.Core.Table.Add(seed, client.Node.Now);
                    }

                    return true;
                }, ct);
            await OnlySeedsKnown();

            async Task RunAttacked(Task operation)
            {
                // The fakes take every query slot of the lookup (α) but the one the pointer holds.
                var (query, from) = await pointer.ReceiveQueryAsync(ct);
                await FakesQueriedAsync(silent, DhtOptions.DefaultLookupParallelism - 1, ct);
                var target = RawPeer.TargetOf(query.Query!);
                pointer.Reply(query, from, new Response
                {
                    Id = pointer.Id,
                    Nodes = [.. honest.OrderBy(n => n.Id, Comparer<NodeId>.Create(target.CompareDistance)).Take(Limits.K)],
                });
                await Attack.AdvanceUntilAsync(operation, client, clock, silentSet, ct);
            }

            var get = client.GetImmutableAsync(stored.Target, ct);
            await RunAttacked(get);
            Assert.Equal(value, await get);

            // A put of a new value goes to the nodes closest to its target, not to the fakes' neighbours.
            var other = "stored on the holders"u8.ToArray();
            await OnlySeedsKnown();
            var put = client.PutImmutableAsync(other, ct);
            await RunAttacked(put);
            var result = await put;
            var holders = honest.Select((n, i) => (n, i))
                .OrderBy(x => x.n.Id, Comparer<NodeId>.Create(result.Target.CompareDistance)).Take(Limits.K).Select(x => x.i).ToList();
            var reached = holders.Count(puts.ContainsKey);
            Assert.True(reached >= 15, $"the put reached {reached} of the 20 closest nodes");
        }
        finally
        {
            await stop.CancelAsync();
            silent.ForEach(s => s.Dispose());
        }
    }

    /// <summary>Waits (bounded) until at least <paramref name="count"/> silent sockets got a query, and drains them.</summary>
    private static async Task FakesQueriedAsync(List<UdpClient> silent, int count, CancellationToken cancellationToken)
    {
        var queried = new HashSet<int>();
        for (var attempt = 0; attempt < 500 && queried.Count < count; attempt++)
        {
            for (var i = 0; i < silent.Count; i++)
            {
                while (silent[i].Available > 0)
                {
                    IPEndPoint? any = null;
                    silent[i].Receive(ref any);
                    queried.Add(i);
                }
            }

            if (queried.Count < count)
            {
                await Task.Delay(10, cancellationToken);
            }
        }

        Assert.True(queried.Count >= count, $"only {queried.Count} fakes were queried");
    }
}
