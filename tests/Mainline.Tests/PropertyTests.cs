using System.Net;
using CsCheck;
using Mainline.Krpc;
using Mainline.Routing;
using Mainline.Server;

namespace Mainline.Tests;

/// <summary>Invariants under random operation sequences (CsCheck).</summary>
public sealed class PropertyTests
{
    private static readonly Gen<NodeId> GenId = Gen.Byte.Array[NodeId.Size].Select(b => new NodeId(b));

    private static readonly Gen<IPEndPoint> GenEndPoint =
        Gen.Select(Gen.Int[0, 3], Gen.Int[1, 40]).Select((ip, port) => new IPEndPoint(
            ip == 0 ? IPAddress.Loopback : IPAddress.Parse($"8.8.{ip}.{ip}"), port));

    [Fact]
    public void Routing_table_invariants_hold()
    {
        Gen.Select(GenId, Gen.Select(GenId, GenEndPoint, Gen.Long[0, 2_000_000], Gen.Bool).Array[1, 300]).Sample((own, ops) =>
        {
            var table = new RoutingTable(own);
            long now = 0;
            foreach (var (id, ep, dt, purge) in ops)
            {
                now += dt;
                if (purge)
                {
                    table.Purge(now);
                }
                else
                {
                    table.Add(new DhtNode(id, ep), now);
                }
            }

            var entries = table.Entries.ToList();
            Assert.Equal(table.Count, entries.Count);
            Assert.Equal(entries.Count, entries.Select(e => e.Node.Id).Distinct().Count());
            Assert.DoesNotContain(entries, e => e.Node.Id == own);
            Assert.All(entries.GroupBy(e => own.BucketDistance(e.Node.Id)), g => Assert.True(g.Count() <= Limits.K));
            // Per-IP rule: a non-secure node (public IP, random id) is alone on its IP.
            foreach (var e in entries.Where(e => !e.Secure))
            {
                Assert.Single(entries, o => o.Node.EndPoint.Address.Equals(e.Node.EndPoint.Address));
            }
        }, iter: 300);
    }

    [Fact]
    public void Routing_table_accepts_every_node_it_has_room_for()
    {
        // Distinct public IPs, so the per-IP rule never applies: a node is refused only for our own id or a full bucket.
        Gen.Select(GenId, GenId.Array[1, 300], Gen.Bool).Sample((own, ids, includeOwn) =>
        {
            var table = new RoutingTable(own);
            if (includeOwn)
            {
                ids[ids.Length / 2] = own;
            }

            for (var i = 0; i < ids.Length; i++)
            {
                var id = ids[i];
                var endPoint = new IPEndPoint(new IPAddress([9, (byte)(i >> 8), (byte)i, 1]), 6881);
                var room = id != own && table.Entries.Count(e => own.BucketDistance(e.Node.Id) == own.BucketDistance(id)) < Limits.K;
                Assert.Equal(room, table.Add(new DhtNode(id, endPoint), 0));
            }
        }, iter: 200);
    }

    [Fact]
    public void Stored_mutable_seq_never_decreases()
    {
        var seed = new byte[32];
        seed[5] = 5;
        var id = NodeId.Random();
        Gen.Select(Gen.Long[0, 20], Gen.Byte, Gen.Select(Gen.Bool, Gen.Long[-1, 20]).Select((has, c) => has ? c : (long?)null)).Array[1, 40].Sample(ops =>
        {
            var storage = new Storage(new ServerSettings());
            (long Seq, byte Value)? stored = null;
            foreach (var (seq, value, cas) in ops)
            {
                var item = MutableItem.Sign(seed, [value], seq);
                var error = storage.PutMutable(
                    new PutMutableQuery(id, [1], item.KeyArray, null, seq, item.SignatureArray, item.EncodedValueArray, cas, null), 0);
                var now = storage.GetMutable(item.Target, 0)?.Seq;

                // Both sides: exactly the puts the rules allow are stored, with the code the rules give otherwise.
                var casFails = stored is { } s1 && cas is { } c && c != s1.Seq;
                var older = stored is { } s2 && (seq < s2.Seq || (seq == s2.Seq && value != s2.Value));
                if (casFails || older)
                {
                    Assert.Equal(casFails ? 301 : 302, error?.Code);
                    Assert.Equal(stored?.Seq, now);
                }
                else
                {
                    Assert.Null(error);
                    Assert.Equal(seq, now);
                    stored = (seq, value);
                }
            }
        }, iter: 200);
    }

    [Fact]
    public void Queries_round_trip()
    {
        var genQuery = Gen.OneOf<Query>(
            GenId.Select(i => (Query)new PingQuery(i)),
            Gen.Select(GenId, GenId).Select((i, t) => (Query)new FindNodeQuery(i, t)),
            Gen.Select(GenId, GenId).Select((i, t) => (Query)new GetPeersQuery(i, t)),
            Gen.Select(GenId, GenId, Gen.Int[1, 65535], Gen.Bool, Gen.Byte.Array[1, 20])
                .Select((i, h, p, implied, tok) => (Query)new AnnouncePeerQuery(i, h, p, implied, tok)),
            Gen.Select(GenId, GenId, Gen.Select(Gen.Bool, Gen.Long[0, long.MaxValue]).Select((has, s) => has ? s : (long?)null)).Select((i, t, s) => (Query)new GetQuery(i, t, s)));
        Gen.Select(Gen.Byte.Array[1, 32], genQuery, Gen.Bool).Sample((tid, query, ro) =>
        {
            var bytes = KrpcCodec.EncodeQuery(tid, query, "ab"u8, ro);
            Assert.Equal(DecodeStatus.Ok, KrpcCodec.TryDecode(bytes, out var m));
            Assert.Equal(tid, m!.TransactionId);
            Assert.Equal(ro, m.ReadOnly);
            switch (query)
            {
                case AnnouncePeerQuery a:
                    var back = Assert.IsType<AnnouncePeerQuery>(m.Query);
                    Assert.Equal((a.Id, a.InfoHash, a.Port, a.ImpliedPort), (back.Id, back.InfoHash, back.Port, back.ImpliedPort));
                    Assert.Equal(a.Token, back.Token);
                    break;
                default:
                    Assert.Equal(query, m.Query);
                    break;
            }

            // Canonical: re-encoding the decoded query gives the same bytes.
            Assert.Equal(bytes, KrpcCodec.EncodeQuery(m.TransactionId, m.Query!, m.Version, m.ReadOnly));
        }, iter: 5_000);
    }
}
