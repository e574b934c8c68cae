// KRPC decoding and encoding (shared spec §2–§3, §14).
//
// Incoming: any `t` of 1..32 bytes is accepted and echoed; any `v`; `ip` used only when 6 bytes;
// unknown keys ignored everywhere; `nodes` not a multiple of 26 dropped; `values` entries not 6 bytes skipped.
// Outgoing: canonical bencode; `ro=1` only on queries from read-only nodes; `ip` on every reply and error.
using System.Buffers;
using System.Text;
using Mainline.Bencode;

namespace Mainline.Krpc;

internal static class KrpcCodec
{
    public const int MaxTransactionIdLength = 32;

    /// <summary>Decodes a datagram. On <see cref="DecodeStatus.Malformed"/>/<see cref="DecodeStatus.UnknownMethod"/>
    /// the returned message has the transaction id (for the error reply) and no query.</summary>
    public static DecodeStatus TryDecode(ReadOnlyMemory<byte> datagram, out Message? message)
    {
        message = null;
        if (!BencodeReader.TryDecodeDictionary(datagram, out var root))
        {
            return DecodeStatus.Drop;
        }

        var t = root!.GetBytes("t");
        var y = root.GetBytes("y");
        if (t is not { Length: > 0 and <= MaxTransactionIdLength } tid || y is not { Length: 1 } yb)
        {
            return DecodeStatus.Drop;
        }

        var kind = yb.Span[0] switch
        {
            (byte)'q' => MessageKind.Query,
            (byte)'r' => MessageKind.Response,
            (byte)'e' => MessageKind.Error,
            _ => (MessageKind)255,
        };
        if ((byte)kind == 255)
        {
            return DecodeStatus.Drop;
        }

        var version = root.GetBytes("v")?.ToArray();
        var readOnly = root.GetInt("ro") == 1;
        System.Net.IPEndPoint? external = null;
        if (root.GetBytes("ip") is { } ip && Compact.TryReadAddress(ip.Span, out var ep))
        {
            external = ep;
        }

        Query? query = null;
        Response? response = null;
        KrpcError? error = null;
        var status = DecodeStatus.Ok;
        switch (kind)
        {
            case MessageKind.Query:
                status = TryReadQuery(root, out query);
                break;

            case MessageKind.Response:
                var r = root["r"];
                if (r is not { Kind: BKind.Dictionary } || !TryReadResponse(r, out response))
                {
                    return DecodeStatus.Drop;
                }

                break;

            default:
                var e = root["e"];
                if (e is not { Kind: BKind.List, Items.Count: >= 1 } || e.Items[0].Kind != BKind.Integer)
                {
                    return DecodeStatus.Drop;
                }

                var text = e.Items.Count > 1 && e.Items[1].Kind == BKind.Bytes ? e.Items[1].Bytes.ToArray() : [];
                error = new KrpcError(e.Items[0].Integer, text);
                break;
        }

        message = new Message
        {
            TransactionId = tid.ToArray(),
            Kind = kind,
            Version = version,
            ReadOnly = readOnly,
            ExternalAddress = external,
            Query = query,
            Response = response,
            Error = error,
        };
        return status;
    }

    private static bool TryId(BValue dict, string key, out NodeId id)
    {
        id = default;
        return dict.GetBytes(key) is { } b && NodeId.TryRead(b.Span, out id);
    }

    private static DecodeStatus TryReadQuery(BValue root, out Query? query)
    {
        query = null;
        var q = root.GetBytes("q");
        var a = root["a"];
        if (q is null || a is not { Kind: BKind.Dictionary } || !TryId(a, "id", out var id))
        {
            return DecodeStatus.Malformed;
        }

        var method = Encoding.ASCII.GetString(q.Value.Span);
        switch (method)
        {
            case "ping":
                query = new PingQuery(id);
                return DecodeStatus.Ok;
            case "find_node":
                if (!TryId(a, "target", out var target))
                {
                    return DecodeStatus.Malformed;
                }

                query = new FindNodeQuery(id, target);
                return DecodeStatus.Ok;
            case "get_peers":
                if (!TryId(a, "info_hash", out var infoHash))
                {
                    return DecodeStatus.Malformed;
                }

                query = new GetPeersQuery(id, infoHash);
                return DecodeStatus.Ok;
            case "announce_peer":
                {
                    if (!TryId(a, "info_hash", out var hash) || a.GetBytes("token") is not { } token)
                    {
                        return DecodeStatus.Malformed;
                    }

                    var implied = a.GetInt("implied_port") is { } ip && ip != 0;
                    var port = a.GetInt("port");
                    if (!implied && port is not (> 0 and <= 65535))
                    {
                        return DecodeStatus.Malformed;
                    }

                    query = new AnnouncePeerQuery(id, hash, (int)(port is >= 0 and <= 65535 ? port.Value : 0), implied, token.ToArray());
                    return DecodeStatus.Ok;
                }

            case "get":
                {
                    if (!TryId(a, "target", out var getTarget))
                    {
                        return DecodeStatus.Malformed;
                    }

                    var seqValue = a["seq"];
                    if (seqValue is not null && seqValue.Kind != BKind.Integer)
                    {
                        return DecodeStatus.Malformed;
                    }

                    query = new GetQuery(id, getTarget, seqValue?.Integer);
                    return DecodeStatus.Ok;
                }

            case "put":
                return TryReadPut(a, id, out query);
            default:
                // Forward compatibility (libtorrent): an unknown method with a target is answered as find_node.
                if (TryId(a, "target", out var anyTarget) || TryId(a, "info_hash", out anyTarget))
                {
                    query = new FindNodeQuery(id, anyTarget);
                    return DecodeStatus.Ok;
                }

                return DecodeStatus.UnknownMethod;
        }
    }

    private static DecodeStatus TryReadPut(BValue a, NodeId id, out Query? query)
    {
        query = null;
        var token = a.GetBytes("token");
        var v = a["v"];
        if (token is null || v is null)
        {
            return DecodeStatus.Malformed;
        }

        NodeId? target = TryId(a, "target", out var t) ? t : null;
        var encoded = v.Raw.ToArray();
        if (a["k"] is null)
        {
            query = new PutImmutableQuery(id, token.Value.ToArray(), encoded, target);
            return DecodeStatus.Ok;
        }

        var k = a.GetBytes("k");
        var sig = a.GetBytes("sig");
        var seq = a.GetInt("seq");
        var saltValue = a["salt"];
        var casValue = a["cas"];
        if (k is not { Length: 32 } || sig is not { Length: 64 } || seq is null
            || (saltValue is not null && saltValue.Kind != BKind.Bytes)
            || (casValue is not null && casValue.Kind != BKind.Integer))
        {
            return DecodeStatus.Malformed;
        }

        // BEP 44: an empty salt is the same as no salt.
        var salt = saltValue is { Bytes.Length: > 0 } ? saltValue.Bytes.ToArray() : null;
        query = new PutMutableQuery(id, token.Value.ToArray(), k.Value.ToArray(), salt, seq.Value, sig.Value.ToArray(),
            encoded, casValue?.Integer, target);
        return DecodeStatus.Ok;
    }

    private static bool TryReadResponse(BValue r, out Response? response)
    {
        response = null;
        if (!TryId(r, "id", out var id))
        {
            return false;
        }

        List<DhtNode>? nodes = null;
        if (r.GetBytes("nodes") is { } n)
        {
            nodes = Compact.TryReadNodes(n.Span);
        }

        List<System.Net.IPEndPoint>? values = null;
        if (r["values"] is { Kind: BKind.List } list)
        {
            values = [];
            foreach (var item in list.Items!)
            {
                if (item.Kind == BKind.Bytes && Compact.TryReadAddress(item.Bytes.Span, out var peer))
                {
                    values.Add(peer);
                }
            }
        }

        var k = r.GetBytes("k");
        var sig = r.GetBytes("sig");
        response = new Response
        {
            Id = id,
            Nodes = nodes,
            Values = values,
            Token = r.GetBytes("token")?.ToArray(),
            EncodedValue = r["v"] is { } v ? v.Raw.ToArray() : null,
            Key = k is { Length: 32 } ? k.Value.ToArray() : null,
            Seq = r.GetInt("seq"),
            Signature = sig is { Length: 64 } ? sig.Value.ToArray() : null,
        };
        return true;
    }

    // ---- encoding ----

    /// <summary>Encodes a query; <paramref name="readOnly"/> adds BEP 43 <c>ro=1</c>.</summary>
    public static byte[] EncodeQuery(ReadOnlySpan<byte> tid, Query query, ReadOnlySpan<byte> version, bool readOnly)
    {
        var a = BValue.Dict().Add("id", Id(query.Id));
        switch (query)
        {
            case FindNodeQuery f:
                a.Add("target", Id(f.Target));
                break;
            case GetPeersQuery g:
                a.Add("info_hash", Id(g.InfoHash));
                break;
            case AnnouncePeerQuery ap:
                a.Add("info_hash", Id(ap.InfoHash)).Add("port", BValue.Int(ap.Port))
                    .Add("implied_port", BValue.Int(ap.ImpliedPort ? 1 : 0)).Add("token", BValue.Str(ap.Token));
                break;
            case GetQuery get:
                a.Add("target", Id(get.Target)).AddIf("seq", get.Seq is { } s ? BValue.Int(s) : null);
                break;
            case PutImmutableQuery pi:
                a.Add("token", BValue.Str(pi.Token)).Add("v", BValue.Encoded(pi.EncodedValue))
                    .AddIf("target", pi.Target is { } it ? Id(it) : null);
                break;
            case PutMutableQuery pm:
                a.Add("token", BValue.Str(pm.Token)).Add("v", BValue.Encoded(pm.EncodedValue))
                    .Add("k", BValue.Str(pm.Key)).Add("seq", BValue.Int(pm.Seq)).Add("sig", BValue.Str(pm.Signature))
                    .AddIf("salt", pm.Salt is { Length: > 0 } salt ? BValue.Str(salt) : null)
                    .AddIf("cas", pm.Cas is { } cas ? BValue.Int(cas) : null)
                    .AddIf("target", pm.Target is { } mt ? Id(mt) : null);
                break;
        }

        var root = BValue.Dict().Add("t", BValue.Str(tid.ToArray())).Add("y", BValue.Str("q"))
            .Add("q", BValue.Str(query.Method)).Add("a", a)
            .AddIf("ro", readOnly ? BValue.Int(1) : null)
            .AddIf("v", version.IsEmpty ? null : BValue.Str(version.ToArray()));
        return BencodeWriter.Encode(root);
    }

    /// <summary>Encodes a reply; <paramref name="requester"/> becomes the BEP 42 <c>ip</c> field.</summary>
    public static byte[] EncodeResponse(ReadOnlySpan<byte> tid, Response response, ReadOnlySpan<byte> version, System.Net.IPEndPoint requester)
    {
        var r = BValue.Dict().Add("id", Id(response.Id))
            .AddIf("nodes", response.Nodes is { } nodes ? BValue.Str(Compact.WriteNodes(nodes)) : null)
            .AddIf("token", response.Token is { } token ? BValue.Str(token) : null)
            .AddIf("v", response.EncodedValue is { } v ? BValue.Encoded(v) : null)
            .AddIf("k", response.Key is { } k ? BValue.Str(k) : null)
            .AddIf("seq", response.Seq is { } seq ? BValue.Int(seq) : null)
            .AddIf("sig", response.Signature is { } sig ? BValue.Str(sig) : null);
        if (response.Values is { } values)
        {
            r.Add("values", BValue.FromList([.. values.Select(p => BValue.Str(Compact.WriteAddress(p)))]));
        }

        var root = BValue.Dict().Add("t", BValue.Str(tid.ToArray())).Add("y", BValue.Str("r")).Add("r", r)
            .Add("ip", BValue.Str(Compact.WriteAddress(requester)))
            .AddIf("v", version.IsEmpty ? null : BValue.Str(version.ToArray()));
        return BencodeWriter.Encode(root);
    }

    /// <summary>Encodes an error reply.</summary>
    public static byte[] EncodeError(ReadOnlySpan<byte> tid, KrpcError error, ReadOnlySpan<byte> version, System.Net.IPEndPoint requester)
    {
        var root = BValue.Dict().Add("t", BValue.Str(tid.ToArray())).Add("y", BValue.Str("e"))
            .Add("e", BValue.List(BValue.Int(error.Code), BValue.Str(error.Message)))
            .Add("ip", BValue.Str(Compact.WriteAddress(requester)))
            .AddIf("v", version.IsEmpty ? null : BValue.Str(version.ToArray()));
        return BencodeWriter.Encode(root);
    }

    private static BValue Id(NodeId id) => BValue.Str(id.ToArray());

    /// <summary>Writes a bencoded byte string (a BEP 44 <c>v</c> from raw bytes).</summary>
    public static byte[] EncodeString(ReadOnlySpan<byte> value)
    {
        var w = new ArrayBufferWriter<byte>(value.Length + 8);
        BencodeWriter.WriteString(w, value);
        return w.WrittenSpan.ToArray();
    }
}
