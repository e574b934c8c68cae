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
    //
    // Messages are written straight into a per-thread buffer, keys in canonical (sorted) order by construction:
    // every reply and query a node sends goes through here, so no bencode tree is built for them.
    //   query:  a, q, ro, t, v, y     args: cas, id, implied_port, info_hash, k, port, salt, seq, sig, target, token, v
    //   reply:  ip, r, t, v, y        r:    id, k, nodes, seq, sig, token, v, values
    //   error:  e, ip, t, v, y

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    /// <summary>Encodes a query; <paramref name="readOnly"/> adds BEP 43 <c>ro=1</c>.</summary>
    public static byte[] EncodeQuery(ReadOnlySpan<byte> tid, Query query, ReadOnlySpan<byte> version, bool readOnly)
    {
        var w = Buffer();
        Byte(w, (byte)'d');
        BencodeWriter.WriteString(w, "a"u8);
        Byte(w, (byte)'d');
        switch (query)
        {
            case PingQuery:
                Id(w, "id"u8, query.Id);
                break;
            case FindNodeQuery f:
                Id(w, "id"u8, f.Id);
                Id(w, "target"u8, f.Target);
                break;
            case GetPeersQuery g:
                Id(w, "id"u8, g.Id);
                Id(w, "info_hash"u8, g.InfoHash);
                break;
            case AnnouncePeerQuery ap:
                Id(w, "id"u8, ap.Id);
                Int(w, "implied_port"u8, ap.ImpliedPort ? 1 : 0);
                Id(w, "info_hash"u8, ap.InfoHash);
                Int(w, "port"u8, ap.Port);
                Str(w, "token"u8, ap.Token);
                break;
            case GetQuery get:
                Id(w, "id"u8, get.Id);
                if (get.Seq is { } seq)
                {
                    Int(w, "seq"u8, seq);
                }

                Id(w, "target"u8, get.Target);
                break;
            case PutImmutableQuery pi:
                Id(w, "id"u8, pi.Id);
                if (pi.Target is { } it)
                {
                    Id(w, "target"u8, it);
                }

                Str(w, "token"u8, pi.Token);
                Raw(w, "v"u8, pi.EncodedValue);
                break;
            case PutMutableQuery pm:
                if (pm.Cas is { } cas)
                {
                    Int(w, "cas"u8, cas);
                }

                Id(w, "id"u8, pm.Id);
                Str(w, "k"u8, pm.Key);
                if (pm.Salt is { Length: > 0 } salt)
                {
                    Str(w, "salt"u8, salt);
                }

                Int(w, "seq"u8, pm.Seq);
                Str(w, "sig"u8, pm.Signature);
                if (pm.Target is { } mt)
                {
                    Id(w, "target"u8, mt);
                }

                Str(w, "token"u8, pm.Token);
                Raw(w, "v"u8, pm.EncodedValue);
                break;
            default:
                throw new ArgumentException($"No encoding for {query.GetType().Name}.", nameof(query));
        }

        Byte(w, (byte)'e');
        Span<byte> method = stackalloc byte[16];
        Str(w, "q"u8, method[..Encoding.ASCII.GetBytes(query.Method, method)]);
        if (readOnly)
        {
            Int(w, "ro"u8, 1);
        }

        return Finish(w, tid, version, (byte)'q');
    }

    /// <summary>Encodes a reply; <paramref name="requester"/> becomes the BEP 42 <c>ip</c> field.</summary>
    public static byte[] EncodeResponse(ReadOnlySpan<byte> tid, Response response, ReadOnlySpan<byte> version, System.Net.IPEndPoint requester)
    {
        var w = Buffer();
        Byte(w, (byte)'d');
        Address(w, requester);
        BencodeWriter.WriteString(w, "r"u8);
        Byte(w, (byte)'d');
        Id(w, "id"u8, response.Id);
        if (response.Key is { } k)
        {
            Str(w, "k"u8, k);
        }

        if (response.Nodes is { } nodes)
        {
            BencodeWriter.WriteString(w, "nodes"u8);
            var span = Prefix(w, nodes.Count * Compact.NodeSize);
            Compact.WriteNodes(nodes, span);
            w.Advance(span.Length);
        }

        if (response.Seq is { } seq)
        {
            Int(w, "seq"u8, seq);
        }

        if (response.Signature is { } sig)
        {
            Str(w, "sig"u8, sig);
        }

        if (response.Token is { } token)
        {
            Str(w, "token"u8, token);
        }

        if (response.EncodedValue is { } v)
        {
            Raw(w, "v"u8, v);
        }

        if (response.Values is { } values)
        {
            BencodeWriter.WriteString(w, "values"u8);
            Byte(w, (byte)'l');
            foreach (var peer in values)
            {
                var span = Prefix(w, Compact.AddressSize);
                Compact.WriteAddress(peer, span);
                w.Advance(span.Length);
            }

            Byte(w, (byte)'e');
        }

        Byte(w, (byte)'e');
        return Finish(w, tid, version, (byte)'r');
    }

    /// <summary>Encodes an error reply.</summary>
    public static byte[] EncodeError(ReadOnlySpan<byte> tid, KrpcError error, ReadOnlySpan<byte> version, System.Net.IPEndPoint requester)
    {
        var w = Buffer();
        Byte(w, (byte)'d');
        BencodeWriter.WriteString(w, "e"u8);
        Byte(w, (byte)'l');
        Byte(w, (byte)'i');
        BencodeWriter.WriteDecimal(w, error.Code);
        Byte(w, (byte)'e');
        BencodeWriter.WriteString(w, error.Message);
        Byte(w, (byte)'e');
        Address(w, requester);
        return Finish(w, tid, version, (byte)'e');
    }

    private static ArrayBufferWriter<byte> Buffer()
    {
        var w = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        w.ResetWrittenCount();
        return w;
    }

    /// <summary>Writes the keys every message ends with (t, v, y), closes it and copies it out.</summary>
    private static byte[] Finish(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> tid, ReadOnlySpan<byte> version, byte kind)
    {
        Str(w, "t"u8, tid);
        if (!version.IsEmpty)
        {
            Str(w, "v"u8, version);
        }

        Str(w, "y"u8, [kind]);
        Byte(w, (byte)'e');
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Writes a string's length prefix and returns the span its <paramref name="length"/> bytes go to
    /// (the caller advances).</summary>
    private static Span<byte> Prefix(ArrayBufferWriter<byte> w, int length)
    {
        BencodeWriter.WriteDecimal(w, length);
        Byte(w, (byte)':');
        return w.GetSpan(length)[..length];
    }

    private static void Address(ArrayBufferWriter<byte> w, System.Net.IPEndPoint requester)
    {
        BencodeWriter.WriteString(w, "ip"u8);
        var span = Prefix(w, Compact.AddressSize);
        Compact.WriteAddress(requester, span);
        w.Advance(span.Length);
    }

    private static void Id(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> key, NodeId id) => Str(w, key, id.Bytes);

    private static void Str(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        BencodeWriter.WriteString(w, key);
        BencodeWriter.WriteString(w, value);
    }

    private static void Int(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> key, long value)
    {
        BencodeWriter.WriteString(w, key);
        Byte(w, (byte)'i');
        BencodeWriter.WriteDecimal(w, value);
        Byte(w, (byte)'e');
    }

    /// <summary>An already-encoded value (a BEP 44 <c>v</c> exactly as signed).</summary>
    private static void Raw(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> key, ReadOnlySpan<byte> encoded)
    {
        BencodeWriter.WriteString(w, key);
        w.Write(encoded);
    }

    private static void Byte(ArrayBufferWriter<byte> w, byte b)
    {
        w.GetSpan(1)[0] = b;
        w.Advance(1);
    }

    /// <summary>Writes a bencoded byte string (a BEP 44 <c>v</c> from raw bytes).</summary>
    public static byte[] EncodeString(ReadOnlySpan<byte> value)
    {
        var w = new ArrayBufferWriter<byte>(value.Length + 8);
        BencodeWriter.WriteString(w, value);
        return w.WrittenSpan.ToArray();
    }
}
