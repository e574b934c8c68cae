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
    /// <remarks>The datagram is validated as a whole first (every rule of <see cref="BencodeReader"/>), then its
    /// fields are read in place; only what the message keeps is copied.</remarks>
    public static DecodeStatus TryDecode(ReadOnlyMemory<byte> datagram, out Message? message)
    {
        message = null;
        var m = datagram.Span;
        if (m.IsEmpty || m[0] != (byte)'d' || !BencodeReader.TryValidate(datagram, out _))
        {
            return DecodeStatus.Drop;
        }

        var pos = 0;
        var root = Fields.Read(m, BencodeReader.Read(m, ref pos));
        if (!root.T.IsBytes || root.T.Integer is < 1 or > MaxTransactionIdLength || !root.Y.IsBytes || root.Y.Integer != 1)
        {
            return DecodeStatus.Drop;
        }

        var kind = m[root.Y.ContentStart] switch
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

        System.Net.IPEndPoint? external = null;
        if (root.Ip.IsBytes && Compact.TryReadAddress(root.Ip.Content(m), out var ep))
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
                status = TryReadQuery(m, root, out query);
                break;

            case MessageKind.Response:
                if (!root.R.IsDictionary || !TryReadResponse(datagram, Fields.Read(m, root.R), out response))
                {
                    return DecodeStatus.Drop;
                }

                break;

            default:
                if (!TryReadError(m, root.E, out error))
                {
                    return DecodeStatus.Drop;
                }

                break;
        }

        message = new Message
        {
            TransactionId = root.T.Content(m).ToArray(),
            Kind = kind,
            Version = root.V.IsBytes ? root.V.Content(m).ToArray() : null,
            ReadOnly = root.Ro.IsInteger && root.Ro.Integer == 1,
            ExternalAddress = external,
            Query = query,
            Response = response,
            Error = error,
        };
        return status;
    }

    private static bool TryId(ReadOnlySpan<byte> m, BSlice value, out NodeId id)
    {
        id = default;
        return value.IsBytes && NodeId.TryRead(value.Content(m), out id);
    }

    private static DecodeStatus TryReadQuery(ReadOnlySpan<byte> m, in Fields root, out Query? query)
    {
        query = null;
        if (!root.Q.IsBytes || !root.A.IsDictionary)
        {
            return DecodeStatus.Malformed;
        }

        var a = Fields.Read(m, root.A);
        if (!TryId(m, a.Id, out var id))
        {
            return DecodeStatus.Malformed;
        }

        var method = root.Q.Content(m);
        if (method.SequenceEqual("ping"u8))
        {
            query = new PingQuery(id);
        }
        else if (method.SequenceEqual("find_node"u8))
        {
            query = TryId(m, a.Target, out var target) ? new FindNodeQuery(id, target) : null;
        }
        else if (method.SequenceEqual("get_peers"u8))
        {
            query = TryId(m, a.InfoHash, out var infoHash) ? new GetPeersQuery(id, infoHash) : null;
        }
        else if (method.SequenceEqual("announce_peer"u8))
        {
            if (!TryId(m, a.InfoHash, out var hash) || !a.Token.IsBytes)
            {
                return DecodeStatus.Malformed;
            }

            var implied = a.ImpliedPort.IsInteger && a.ImpliedPort.Integer != 0;
            long? port = a.Port.IsInteger ? a.Port.Integer : null;
            if (!implied && port is not (> 0 and <= 65535))
            {
                return DecodeStatus.Malformed;
            }

            query = new AnnouncePeerQuery(id, hash, (int)(port is >= 0 and <= 65535 ? port.Value : 0), implied, a.Token.Content(m).ToArray());
        }
        else if (method.SequenceEqual("get"u8))
        {
            if (!TryId(m, a.Target, out var target) || (a.Seq.Present && !a.Seq.IsInteger))
            {
                return DecodeStatus.Malformed;
            }

            query = new GetQuery(id, target, a.Seq.Present ? a.Seq.Integer : null);
        }
        else if (method.SequenceEqual("put"u8))
        {
            return TryReadPut(m, a, id, out query);
        }
        else
        {
            // Forward compatibility (libtorrent): an unknown method with a target is answered as find_node.
            if (TryId(m, a.Target, out var anyTarget) || TryId(m, a.InfoHash, out anyTarget))
            {
                query = new FindNodeQuery(id, anyTarget);
                return DecodeStatus.Ok;
            }

            return DecodeStatus.UnknownMethod;
        }

        return query is null ? DecodeStatus.Malformed : DecodeStatus.Ok;
    }

    private static DecodeStatus TryReadPut(ReadOnlySpan<byte> m, in Fields a, NodeId id, out Query? query)
    {
        query = null;
        if (!a.Token.IsBytes || !a.V.Present)
        {
            return DecodeStatus.Malformed;
        }

        NodeId? target = TryId(m, a.Target, out var t) ? t : null;
        var token = a.Token.Content(m).ToArray();
        var encoded = a.V.Raw(m).ToArray();
        if (!a.K.Present)
        {
            query = new PutImmutableQuery(id, token, encoded, target);
            return DecodeStatus.Ok;
        }

        if (!a.K.IsBytes || a.K.Integer != 32 || !a.Sig.IsBytes || a.Sig.Integer != 64 || !a.Seq.IsInteger
            || (a.Salt.Present && !a.Salt.IsBytes) || (a.Cas.Present && !a.Cas.IsInteger))
        {
            return DecodeStatus.Malformed;
        }

        // BEP 44: an empty salt is the same as no salt.
        var salt = a.Salt.Present && a.Salt.Integer > 0 ? a.Salt.Content(m).ToArray() : null;
        query = new PutMutableQuery(id, token, a.K.Content(m).ToArray(), salt, a.Seq.Integer, a.Sig.Content(m).ToArray(),
            encoded, a.Cas.Present ? a.Cas.Integer : null, target);
        return DecodeStatus.Ok;
    }

    private static bool TryReadResponse(ReadOnlyMemory<byte> datagram, in Fields r, out Response? response)
    {
        response = null;
        var m = datagram.Span;
        if (!TryId(m, r.Id, out var id))
        {
            return false;
        }

        List<System.Net.IPEndPoint>? values = null;
        if (r.Values.IsList)
        {
            values = [];
            var pos = r.Values.ContentStart;
            while (m[pos] != (byte)'e')
            {
                var item = BencodeReader.Read(m, ref pos);
                if (item.IsBytes && Compact.TryReadAddress(item.Content(m), out var peer))
                {
                    values.Add(peer);
                }
            }
        }

        response = new Response
        {
            Id = id,
            Nodes = r.Nodes.IsBytes ? Compact.TryReadNodes(r.Nodes.Content(datagram)) : null,
            Values = values,
            Token = r.Token.IsBytes ? r.Token.Content(m).ToArray() : null,
            EncodedValue = r.V.Present ? r.V.Raw(m).ToArray() : null,
            Key = r.K.IsBytes && r.K.Integer == 32 ? r.K.Content(m).ToArray() : null,
            Seq = r.Seq.IsInteger ? r.Seq.Integer : null,
            Signature = r.Sig.IsBytes && r.Sig.Integer == 64 ? r.Sig.Content(m).ToArray() : null,
        };
        return true;
    }

    /// <summary>An <c>e</c> list: an integer code first, then the message if it is a string.</summary>
    private static bool TryReadError(ReadOnlySpan<byte> m, BSlice e, out KrpcError? error)
    {
        error = null;
        var pos = e.ContentStart;
        if (!e.IsList || m[pos] == (byte)'e')
        {
            return false;
        }

        var code = BencodeReader.Read(m, ref pos);
        if (!code.IsInteger)
        {
            return false;
        }

        var text = m[pos] != (byte)'e' && BencodeReader.Read(m, ref pos) is { IsBytes: true } message ? message.Content(m).ToArray() : [];
        error = new KrpcError(code.Integer, text);
        return true;
    }

    /// <summary>The entries of one KRPC dictionary this codec reads, found in one pass; other keys are skipped.
    /// The top level and the <c>a</c>/<c>r</c> dictionaries use different fields (<c>v</c> is the version at the
    /// top, the BEP 44 value inside).</summary>
    private struct Fields
    {
        public BSlice T, Y, Q, A, R, E, V, Ro, Ip;
        public BSlice Id, Target, InfoHash, Token, ImpliedPort, Port, Seq, K, Sig, Salt, Cas, Nodes, Values;

        public static Fields Read(ReadOnlySpan<byte> m, BSlice dictionary)
        {
            var f = default(Fields);
            var pos = dictionary.ContentStart;
            while (BencodeReader.TryNextEntry(m, ref pos, out var key, out var value))
            {
                Set(ref f, key, value);
            }

            return f;
        }

        private static void Set(ref Fields f, ReadOnlySpan<byte> key, BSlice value)
        {
            switch (key.Length)
            {
                case 1:
                    switch (key[0])
                    {
                        case (byte)'t': f.T = value; return;
                        case (byte)'y': f.Y = value; return;
                        case (byte)'q': f.Q = value; return;
                        case (byte)'a': f.A = value; return;
                        case (byte)'r': f.R = value; return;
                        case (byte)'e': f.E = value; return;
                        case (byte)'v': f.V = value; return;
                        case (byte)'k': f.K = value; return;
                    }

                    break;
                case 2:
                    if (key.SequenceEqual("id"u8)) { f.Id = value; return; }
                    if (key.SequenceEqual("ip"u8)) { f.Ip = value; return; }
                    if (key.SequenceEqual("ro"u8)) { f.Ro = value; return; }
                    break;
                case 3:
                    if (key.SequenceEqual("seq"u8)) { f.Seq = value; return; }
                    if (key.SequenceEqual("sig"u8)) { f.Sig = value; return; }
                    if (key.SequenceEqual("cas"u8)) { f.Cas = value; return; }
                    break;
                default:
                    if (key.SequenceEqual("target"u8)) { f.Target = value; return; }
                    if (key.SequenceEqual("token"u8)) { f.Token = value; return; }
                    if (key.SequenceEqual("nodes"u8)) { f.Nodes = value; return; }
                    if (key.SequenceEqual("values"u8)) { f.Values = value; return; }
                    if (key.SequenceEqual("info_hash"u8)) { f.InfoHash = value; return; }
                    if (key.SequenceEqual("port"u8)) { f.Port = value; return; }
                    if (key.SequenceEqual("implied_port"u8)) { f.ImpliedPort = value; return; }
                    if (key.SequenceEqual("salt"u8)) { f.Salt = value; return; }
                    break;
            }
        }
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
