using System.Net;
using System.Text;
using CsCheck;
using Mainline.Bencode;
using Mainline.Krpc;

namespace Mainline.Tests.Krpc;

public sealed class KrpcCodecTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private static string S(byte[] b) => Encoding.Latin1.GetString(b);

    private static readonly NodeId IdA = new(B("abcdefghij0123456789"));
    private static readonly NodeId IdT = new(B("mnopqrstuvwxyz123456"));
    private static readonly byte[] Tid = B("aa\0\u0001");
    private static readonly byte[] Rs = B("RS\0\u0005");
    private static readonly IPEndPoint Requester = new(IPAddress.Parse("1.2.3.4"), 0x1a2b);

    private static Message Decode(string frame)
    {
        Assert.Equal(DecodeStatus.Ok, KrpcCodec.TryDecode(B(frame), out var m));
        return m!;
    }

    [Fact]
    public void Ping_query_matches_the_reference_frame()
    {
        var bytes = KrpcCodec.EncodeQuery(Tid, new PingQuery(IdA), Rs, readOnly: true);
        Assert.Equal("d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:roi1e1:t4:aa\0\u00011:v4:RS\0\u00051:y1:qe", S(bytes));
        Assert.Equal(74, bytes.Length);
        var m = Decode(S(bytes));
        Assert.True(m.ReadOnly);
        Assert.Equal(Tid, m.TransactionId);
        Assert.IsType<PingQuery>(m.Query);
    }

    [Fact]
    public void Get_query_is_104_bytes_like_the_reference()
    {
        var bytes = KrpcCodec.EncodeQuery(Tid, new GetQuery(IdA, IdT, null), Rs, readOnly: true);
        Assert.Equal(104, bytes.Length);
        Assert.Equal("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q3:get2:roi1e1:t4:aa\0\u00011:v4:RS\0\u00051:y1:qe", S(bytes));
    }

    [Fact]
    public void Ping_reply_carries_ip_and_no_ro()
    {
        var bytes = KrpcCodec.EncodeResponse(Tid, new Response { Id = IdA }, Rs, Requester);
        Assert.Equal("d2:ip6:\u0001\u0002\u0003\u0004\u001a\u002b1:rd2:id20:abcdefghij0123456789e1:t4:aa\0\u00011:v4:RS\0\u00051:y1:re", S(bytes));
        var m = Decode(S(bytes));
        Assert.Equal(Requester, m.ExternalAddress);
        Assert.Equal(IdA, m.Response!.Id);
    }

    [Fact]
    public void Find_node_query_and_reply()
    {
        Assert.Equal("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:xy1:y1:qe",
            S(KrpcCodec.EncodeQuery(B("xy"), new FindNodeQuery(IdA, IdT), default, false)));
        var node = new DhtNode(IdT, new IPEndPoint(IPAddress.Parse("127.0.0.1"), 6881));
        var reply = KrpcCodec.EncodeResponse(B("xy"), new Response { Id = IdA, Nodes = [node] }, default, Requester);
        Assert.Equal("d2:ip6:\u0001\u0002\u0003\u0004\u001a\u002b1:rd2:id20:abcdefghij01234567895:nodes26:mnopqrstuvwxyz123456\u007f\0\0\u0001\u001a\u00e1e1:t2:xy1:y1:re", S(reply));
        Assert.Equal([node], Decode(S(reply)).Response!.Nodes!);
    }

    [Fact]
    public void Get_peers_query_and_reply_with_values()
    {
        Assert.Equal("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:xy1:y1:qe",
            S(KrpcCodec.EncodeQuery(B("xy"), new GetPeersQuery(IdA, IdT), default, false)));
        var peer = new IPEndPoint(IPAddress.Parse("10.0.0.1"), 80);
        var reply = KrpcCodec.EncodeResponse(B("xy"), new Response { Id = IdA, Token = B("tokn"), Values = [peer] }, default, Requester);
        Assert.Equal("d2:ip6:\u0001\u0002\u0003\u0004\u001a\u002b1:rd2:id20:abcdefghij01234567895:token4:tokn6:valuesl6:\u000a\0\0\u0001\0\u0050ee1:t2:xy1:y1:re", S(reply));
        var r = Decode(S(reply)).Response!;
        Assert.Equal([peer], r.Values!);
        Assert.Null(r.Nodes);
    }

    [Theory]
    [InlineData(true, "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token4:tokne1:q13:announce_peer1:t2:xy1:y1:qe")]
    [InlineData(false, "d1:ad2:id20:abcdefghij012345678912:implied_porti0e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token4:tokne1:q13:announce_peer1:t2:xy1:y1:qe")]
    public void Announce_peer_with_and_without_implied_port(bool implied, string frame)
    {
        var q = new AnnouncePeerQuery(IdA, IdT, implied ? 0 : 6881, implied, B("tokn"));
        Assert.Equal(frame, S(KrpcCodec.EncodeQuery(B("xy"), q, default, false)));
        var back = Assert.IsType<AnnouncePeerQuery>(Decode(frame).Query);
        Assert.Equal(implied, back.ImpliedPort);
        Assert.Equal(q.Port, back.Port);
    }

    [Fact]
    public void Get_with_seq_and_mutable_reply()
    {
        Assert.Equal("d1:ad2:id20:abcdefghij01234567893:seqi5e6:target20:mnopqrstuvwxyz123456e1:q3:get1:t2:xy1:y1:qe",
            S(KrpcCodec.EncodeQuery(B("xy"), new GetQuery(IdA, IdT, 5), default, false)));
        var k = new byte[32];
        var sig = new byte[64];
        var reply = KrpcCodec.EncodeResponse(B("xy"), new Response
        {
            Id = IdA,
            Token = B("tokn"),
            EncodedValue = B("2:hi"),
            Key = k,
            Seq = 7,
            Signature = sig,
        }, default, Requester);
        var expected = "d2:ip6:\u0001\u0002\u0003\u0004\u001a\u002b1:rd2:id20:abcdefghij01234567891:k32:" + new string('\0', 32)
            + "3:seqi7e3:sig64:" + new string('\0', 64) + "5:token4:tokn1:v2:hie1:t2:xy1:y1:re";
        Assert.Equal(expected, S(reply));
        var r = Decode(expected).Response!;
        Assert.Equal(7, r.Seq);
        Assert.Equal("2:hi", S(r.EncodedValue!));
    }

    [Fact]
    public void Put_immutable_and_mutable_frames()
    {
        var imm = new PutImmutableQuery(IdA, B("tokn"), B("12:Hello World!"), IdT);
        var immFrame = "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234565:token4:tokn1:v12:Hello World!e1:q3:put1:t2:xy1:y1:qe";
        Assert.Equal(immFrame, S(KrpcCodec.EncodeQuery(B("xy"), imm, default, false)));
        Assert.IsType<PutImmutableQuery>(Decode(immFrame).Query);

        var k = new string('K', 32);
        var sig = new string('S', 64);
        var mut = new PutMutableQuery(IdA, B("tokn"), B(k), B("foobar"), 4, B(sig), B("12:Hello World!"), 3, null);
        var mutFrame = "d1:ad3:casi3e2:id20:abcdefghij01234567891:k32:" + k + "4:salt6:foobar3:seqi4e3:sig64:" + sig
            + "5:token4:tokn1:v12:Hello World!e1:q3:put1:t2:xy1:y1:qe";
        Assert.Equal(mutFrame, S(KrpcCodec.EncodeQuery(B("xy"), mut, default, false)));
        var back = Assert.IsType<PutMutableQuery>(Decode(mutFrame).Query);
        Assert.Equal(3, back.Cas);
        Assert.Equal(B("foobar"), back.Salt);
    }

    [Fact]
    public void Empty_salt_is_never_sent_and_reads_as_absent()
    {
        var k = new string('K', 32);
        var sig = new string('S', 64);
        var mut = new PutMutableQuery(IdA, B("t"), B(k), [], 1, B(sig), B("1:x"), null, null);
        Assert.DoesNotContain("salt", S(KrpcCodec.EncodeQuery(B("xy"), mut, default, false)));
        var frame = "d1:ad2:id20:abcdefghij01234567891:k32:" + k + "4:salt0:3:seqi1e3:sig64:" + sig + "5:token1:t1:v1:xe1:q3:put1:t2:xy1:y1:qe";
        Assert.Null(Assert.IsType<PutMutableQuery>(Decode(frame).Query).Salt);
    }

    [Theory]
    [InlineData(201, "A Generic Error Ocurred")]
    [InlineData(202, "Server Error")]
    [InlineData(203, "Bad token")]
    [InlineData(204, "Method Unknown")]
    [InlineData(205, "Message (v field) too big.")]
    [InlineData(206, "Invalid signature")]
    [InlineData(207, "salt (salt field) too big.")]
    [InlineData(208, "cas mismatch")]
    [InlineData(301, "CAS mismatched, re-read value and try again.")]
    [InlineData(302, "Sequence number less than current.")]
    public void Error_frames(int code, string text)
    {
        var bytes = KrpcCodec.EncodeError(B("xy"), KrpcError.Create(code, text), default, Requester);
        Assert.Equal($"d1:eli{code}e{text.Length}:{text}e2:ip6:\u0001\u0002\u0003\u0004\u001a\u002b1:t2:xy1:y1:ee", S(bytes));
        var m = Decode(S(bytes));
        Assert.Equal(code, m.Error!.Code);
        Assert.Equal(text, Encoding.UTF8.GetString(m.Error.Message));
    }

    [Fact]
    public void Error_lists_with_extra_elements_are_accepted()
    {
        Assert.Equal(203, Decode("d1:eli203e3:bad4:xtrae1:t2:xy1:y1:ee").Error!.Code);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("abcdefgh")]
    [InlineData("a")]
    public void Any_transaction_id_length_is_accepted_and_echoed(string tid)
    {
        var frame = $"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t{tid.Length}:{tid}1:y1:qe";
        var m = Decode(frame);
        Assert.Equal(B(tid), m.TransactionId);
        var reply = KrpcCodec.EncodeResponse(m.TransactionId, new Response { Id = IdT }, default, Requester);
        Assert.Contains($"1:t{tid.Length}:{tid}1:y1:r", S(reply));
    }

    [Fact]
    public void Odd_v_ip_nodes6_and_unknown_keys_are_ignored()
    {
        var frame = "d2:ip18:" + new string('\u0001', 18) + "1:rd2:id20:abcdefghij01234567896:nodes638:" + new string('z', 38)
            + "1:pi5e5:extrali1eee1:t2:xy1:v3:abc1:y1:r3:zzzi1ee";
        var m = Decode(frame);
        Assert.Null(m.ExternalAddress);
        Assert.Equal(B("abc"), m.Version);
        Assert.Null(m.Response!.Nodes);
    }

    [Fact]
    public void Nodes_with_bad_length_are_dropped_and_bad_values_entries_skipped()
    {
        var frame = "d1:rd2:id20:abcdefghij01234567895:nodes27:" + new string('n', 27)
            + "6:valuesl6:\u0001\u0002\u0003\u0004\0\u000118:" + new string('6', 18) + "ee1:t2:xy1:y1:re";
        var r = Decode(frame).Response!;
        Assert.Null(r.Nodes);
        Assert.Single(r.Values!);
    }

    [Theory]
    [InlineData("d1:q4:ping1:t2:xy1:y1:qe")] // no a
    [InlineData("d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe")] // short id
    [InlineData("d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:xy1:y1:qe")] // no target
    [InlineData("d1:ad2:id20:abcdefghij01234567891:k32:KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK3:seqi1e5:token1:t1:v1:xe1:q3:put1:t2:xy1:y1:qe")] // put without sig
    [InlineData("d1:ad2:id20:abcdefghij01234567895:token1:te1:q3:put1:t2:xy1:y1:qe")] // put without v
    public void Malformed_queries_with_a_tid_answer_203(string frame)
    {
        Assert.Equal(DecodeStatus.Malformed, KrpcCodec.TryDecode(B(frame), out var m));
        Assert.Equal(B("xy"), m!.TransactionId);
    }

    [Fact]
    public void Unknown_methods()
    {
        Assert.Equal(DecodeStatus.UnknownMethod, KrpcCodec.TryDecode(B("d1:ad2:id20:abcdefghij0123456789e1:q3:foo1:t2:xy1:y1:qe"), out _));
        var m = Decode("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q3:foo1:t2:xy1:y1:qe");
        Assert.Equal(IdT, Assert.IsType<FindNodeQuery>(m.Query).Target);
    }

    [Theory]
    [InlineData("")]
    [InlineData("le")]
    [InlineData("d1:y1:qe")] // no t
    [InlineData("d1:t0:1:y1:qe")] // empty t
    [InlineData("d1:t33:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1:y1:qe")] // t too long
    [InlineData("d1:t2:xy1:y1:xe")] // bad y
    [InlineData("d1:t2:xy1:y1:re")] // reply without r
    [InlineData("d1:rd2:id3:abce1:t2:xy1:y1:re")] // reply without a 20-byte id
    [InlineData("d1:t2:xy1:y1:e1:ei1ee")] // e not a list
    [InlineData("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t9999:xy1:y1:qe")] // truncated string
    public void Undecodable_datagrams_are_dropped(string frame)
    {
        Assert.Equal(DecodeStatus.Drop, KrpcCodec.TryDecode(B(frame), out _));
    }

    private static List<DhtNode> Nodes(int count, bool v6) => [.. Enumerable.Range(0, count).Select(i =>
        new DhtNode(NodeId.Random(), new IPEndPoint(IPAddress.Parse(v6 ? $"2001:db8::{i + 1:x}" : $"10.0.0.{i + 1}"), 6881 + i)))];

    [Fact]
    public void The_largest_honest_messages_decode_within_the_limits()
    {
        // A BEP 44 get reply with a 1000-byte value, 20 nodes, token, key, signature, seq, ip and v.
        var get = KrpcCodec.EncodeResponse(Tid, new Response
        {
            Id = IdA,
            Nodes = Nodes(20, v6: false),
            Token = new byte[20],
            EncodedValue = KrpcCodec.EncodeString(new byte[1000]),
            Key = new byte[32],
            Seq = long.MaxValue,
            Signature = new byte[64],
        }, Rs, Requester);
        Assert.InRange(get.Length, 1700, 1900);
        var reply = DecodeOk(get);
        Assert.Equal(20, reply.Response!.Nodes!.Count);
        Assert.Equal(1005, reply.Response.EncodedValue!.Length); // "1000:" and the bytes

        // The same with libtorrent's extra 20 IPv6 nodes (nodes6, 38 bytes each) and its `p`: still under 4 KiB.
        var nodes6 = string.Concat(Enumerable.Repeat(new string('6', 38), 20));
        var text = S(get);
        var withNodes6 = text.Insert(text.IndexOf("3:seqi", StringComparison.Ordinal), $"6:nodes6760:{nodes6}1:pi6881e");
        var big = B(withNodes6);
        Assert.InRange(big.Length, 2500, Limits.MaxDatagramLength);
        Assert.Equal(20, DecodeOk(big).Response!.Nodes!.Count);

        // A get_peers reply with libtorrent's 100 peers.
        var peers = Enumerable.Range(0, 100).Select(i => new IPEndPoint(IPAddress.Parse($"10.1.0.{i + 1}"), 6881)).ToList();
        var getPeers = KrpcCodec.EncodeResponse(Tid, new Response { Id = IdA, Token = B("tokn"), Values = peers, Nodes = Nodes(8, false) }, Rs, Requester);
        Assert.Equal(100, DecodeOk(getPeers).Response!.Values!.Count);

        // A mutable put with a 1000-byte value, salt and cas.
        var put = KrpcCodec.EncodeQuery(Tid, new PutMutableQuery(IdA, new byte[20], new byte[32], new byte[64], 7, new byte[64],
            KrpcCodec.EncodeString(new byte[1000]), 6, IdT), Rs, false);
        Assert.IsType<PutMutableQuery>(DecodeOk(put).Query);
    }

    private static Message DecodeOk(byte[] datagram)
    {
        Assert.Equal(DecodeStatus.Ok, KrpcCodec.TryDecode(datagram, out var m));
        return m!;
    }

    [Theory]
    [InlineData(256, true)]
    [InlineData(257, false)]
    public void A_reply_over_the_list_cap_is_dropped(int peers, bool accepted)
    {
        var expected = accepted ? DecodeStatus.Ok : DecodeStatus.Drop;
        var values = string.Concat(Enumerable.Repeat("6:\u0001\u0002\u0003\u0004\u001a\u00e1", peers));
        var frame = $"d1:rd2:id20:abcdefghij01234567895:token4:tokn6:valuesl{values}ee1:t2:xy1:y1:re";
        Assert.Equal(expected, KrpcCodec.TryDecode(B(frame), out var m));
        Assert.Equal(expected == DecodeStatus.Ok ? peers : 0, m?.Response!.Values!.Count ?? 0);
    }

    [Theory]
    [InlineData(61, true)] // with id, target, token: 64 entries in `a`
    [InlineData(62, false)] // 65 entries
    public void A_query_over_the_dictionary_cap_is_dropped(int unknownKeys, bool accepted)
    {
        var expected = accepted ? DecodeStatus.Ok : DecodeStatus.Drop;
        var extra = string.Concat(Enumerable.Range(0, unknownKeys).Select(i => $"3:x{i:D2}i{i}e"));
        var frame = $"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234565:token4:tokn{extra}e1:q3:get1:t2:xy1:y1:qe";
        Assert.Equal(expected, KrpcCodec.TryDecode(B(frame), out var m));
        Assert.Equal(expected == DecodeStatus.Ok, m?.Query is GetQuery);
    }

    [Fact]
    public void Random_and_mutated_datagrams_never_throw()
    {
        var seeds = new[]
        {
            KrpcCodec.EncodeQuery(Tid, new PingQuery(IdA), Rs, true),
            KrpcCodec.EncodeQuery(Tid, new PutMutableQuery(IdA, B("tokn"), new byte[32], B("s"), 4, new byte[64], B("1:x"), 3, IdT), Rs, false),
            KrpcCodec.EncodeResponse(Tid, new Response { Id = IdA, Token = B("t"), Values = [Requester], Nodes = [new DhtNode(IdT, Requester)] }, Rs, Requester),
            KrpcCodec.EncodeError(Tid, KrpcError.Create(203, "x"), Rs, Requester),
        };
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int, Gen.Byte, Gen.Int[0, 2]).Sample((s, at, b, op) =>
        {
            var bytes = seeds[s].ToList();
            var i = (int)((uint)at % (uint)bytes.Count);
            switch (op)
            {
                case 0: bytes[i] = b; break;
                case 1: bytes.RemoveAt(i); break;
                default: bytes.Insert(i, b); break;
            }

            KrpcCodec.TryDecode(bytes.ToArray(), out _);
        }, iter: 50_000);
    }

    [Fact]
    public void Every_encoded_message_is_canonical_bencode_and_decodes_to_what_was_encoded()
    {
        var genId = Gen.Byte.Array[NodeId.Size].Select(b => new NodeId(b));
        var genBytes = Gen.Byte.Array[0, 40];
        var genEndPoint = Gen.Select(Gen.UInt, Gen.Int[1, 65535]).Select((a, p) => new IPEndPoint(new IPAddress(a), p));
        var genQuery = Gen.OneOf<Query>(
            genId.Select(id => (Query)new PingQuery(id)),
            Gen.Select(genId, genId).Select((id, t) => (Query)new FindNodeQuery(id, t)),
            Gen.Select(genId, genId).Select((id, t) => (Query)new GetPeersQuery(id, t)),
            Gen.Select(genId, genId, Gen.Int[1, 65535], Gen.Bool, genBytes).Select((id, h, p, i, t) => (Query)new AnnouncePeerQuery(id, h, p, i, t)),
            Gen.Select(genId, genId, Gen.Long[0, long.MaxValue].Nullable()).Select((id, t, s) => (Query)new GetQuery(id, t, s)),
            Gen.Select(genId, genBytes, genId.Nullable()).Select((id, t, target) => (Query)new PutImmutableQuery(id, t, B("3:abc"), target)),
            Gen.Select(genId, genBytes, Gen.Byte.Array[1, 64].Null(), Gen.Long, Gen.Long.Nullable(), genId.Nullable())
                .Select((id, t, salt, seq, cas, target) => (Query)new PutMutableQuery(id, t, new byte[32], salt, seq, new byte[64], B("li1ee"), cas, target)));
        var genResponse = Gen.Select(genId, Gen.Select(genId, genEndPoint).Select((id, ep) => new DhtNode(id, ep)).Array[0, 8].Null(),
                genEndPoint.Array[0, 5].Null(), genBytes.Null(), Gen.Long.Nullable(), Gen.Bool)
            .Select((id, nodes, values, token, seq, item) => new Response
            {
                Id = id,
                Nodes = nodes,
                Values = values,
                Token = token,
                EncodedValue = item ? B("4:item") : null,
                Key = item ? new byte[32] : null,
                Seq = item ? seq : null,
                Signature = item ? new byte[64] : null,
            });

        Gen.Select(genQuery, Gen.Byte.Array[1, KrpcCodec.MaxTransactionIdLength], Gen.Bool, Gen.Bool).Sample((query, tid, readOnly, versioned) =>
        {
            var bytes = KrpcCodec.EncodeQuery(tid, query, versioned ? Rs : default, readOnly);
            AssertCanonical(bytes);
            var m = Decode(S(bytes));
            Assert.Equal(query.Method, m.Query!.Method);
            Assert.Equal(query.Id, m.Query.Id);
            Assert.Equal(readOnly, m.ReadOnly);
            Assert.Equal(tid, m.TransactionId);
        }, iter: 500);

        Gen.Select(genResponse, genEndPoint).Sample((response, requester) =>
        {
            var bytes = KrpcCodec.EncodeResponse(Tid, response, Rs, requester);
            AssertCanonical(bytes);
            var r = Decode(S(bytes)).Response!;
            Assert.Equal(response.Id, r.Id);
            Assert.Equal(response.Nodes?.Count, r.Nodes?.Count);
            Assert.Equal(response.Values, r.Values);
            Assert.Equal(response.Token, r.Token);
            Assert.Equal(response.Seq, r.Seq);
            Assert.Equal(response.EncodedValue, r.EncodedValue);
        }, iter: 500);

        // Canonical: the generic decoder reads it, and the generic encoder (which sorts keys) writes the same bytes.
        static void AssertCanonical(byte[] bytes)
        {
            Assert.True(BencodeReader.TryDecode(bytes, out var tree));
            Assert.Equal(bytes, BencodeWriter.Encode(tree!));
        }
    }
}
