// Answering queries (shared spec §10.1, §5): self-ping check in every mode; in server mode the rate limits
// (per IP, per /24), the request filter hook, then dispatch; the reply goes out when the global reply-byte
// budget has room for it. Every reply carries ip and v and echoes t.
using System.Net;
using Mainline.Krpc;
using Mainline.Routing;

namespace Mainline.Rpc;

internal sealed partial class NodeCore
{
    private void OnQuery(Message message, IPEndPoint from)
    {
        var query = message.Query!;
        var now = _now;
        if (query is PingQuery && PublicEndPoint is { } publicAddress && publicAddress.Equals(from))
        {
            OnOwnPingReturned(from);
        }

        if (!ServerMode || !_limiter.Allow(from.Address, now))
        {
            return;
        }

        if (_options.RequestFilter is { } filter && !filter(new IncomingRequest(query.Method, query.Id, from)))
        {
            return;
        }

        // First node of a private network: learn the nodes that bootstrap from us (§7.2 exception (a)). The
        // reference files them under the query's target (their own id when they bootstrap); we use the id they
        // claim in a.id, which is the same for a bootstrapping node and right for any other find_node. The
        // source of a query is unverified (UDP), so the sender enters the table only once it answers our ping.
        if (_bootstrap.Count == 0 && query is FindNodeQuery && !message.ReadOnly)
        {
            var sender = new DhtNode(query.Id, from);
            if (_table.WouldAdd(sender, now))
            {
                Probe(sender, null);
            }
        }
        else if (_options.ProbeQuerySenders && !message.ReadOnly)
        {
            ProbeQuerySender(query.Id, from, now);
        }

        _tokens.MaybeRotate(now);
        var (response, error) = Answer(query, from, now);
        SendReply(error is null
            ? KrpcCodec.EncodeResponse(message.TransactionId, response!, Version, from)
            : KrpcCodec.EncodeError(message.TransactionId, error, Version, from), from, now);
    }

    /// <summary>Confirming pings to query senders allowed per second: enough to fill a joining node's buckets over
    /// a few minutes, too few to turn a flood of spoofed queries into a flood of pings.</summary>
    internal const int QuerySenderProbesPerSecond = 5;

    private long _senderProbeWindow = long.MinValue / 2; // far in the past, without overflow
    private int _senderProbes;

    /// <summary>Query-sender pings sent (diagnostics and tests).</summary>
    public int QuerySenderProbes { get; private set; }

    /// <summary>
    /// Pings the sender of a query (not read-only) when its bucket has room for it, as libtorrent does in effect:
    /// the sender enters the table once it answers from the endpoint it queried from. At most
    /// <see cref="QuerySenderProbesPerSecond"/> a second and within <see cref="MaxProbes"/>.
    /// </summary>
    private void ProbeQuerySender(NodeId id, IPEndPoint from, long now)
    {
        if (now - _senderProbeWindow >= 1000)
        {
            _senderProbeWindow = now;
            _senderProbes = 0;
        }

        // The budget is checked first: past it, a query costs no allocation here.
        if (_senderProbes >= QuerySenderProbesPerSecond)
        {
            return;
        }

        var sender = new DhtNode(id, from);
        if (!_table.WouldAdd(sender, now))
        {
            return;
        }

        var before = _probes.Count;
        Probe(sender, null);
        if (_probes.Count > before)
        {
            _senderProbes++;
            QuerySenderProbes++;
        }
    }

    /// <summary>Adds a node that answered one of our queries. When its id is held at another endpoint, the holder
    /// is pinged first and loses its entry only if it fails to answer: a reply forged in a live node's name
    /// cannot evict it.</summary>
    internal void AddResponder(DhtNode node, long now)
    {
        if (_table.Find(node.Id) is { } held && !held.IsAt(node.EndPoint))
        {
            if (node.IsSecure)
            {
                Probe(held.Node, node);
            }

            return;
        }

        _table.Add(node, now);
    }

    /// <summary>Confirming pings in flight (tests wait for them).</summary>
    internal int ProbesInFlight => _probes.Count;

    /// <summary>Pings <paramref name="pinged"/>: an unverified contact (<paramref name="claimant"/> null) enters
    /// the table if it answers; a holder (claimant set) keeps its entry if it answers and yields it to the
    /// claimant otherwise. At most one probe per endpoint and <see cref="MaxProbes"/> in all.</summary>
    private void Probe(DhtNode pinged, DhtNode? claimant)
    {
        if (_probes.Count >= MaxProbes || !_probed.Add(pinged.EndPoint))
        {
            return;
        }

        var tid = Send(new PingQuery(Id), pinged.EndPoint, null, false, null);
        _probes[tid] = new ProbeState(pinged, claimant);
    }

    /// <summary>The reply to a request without a lookup or put: settles the probe it belongs to, if any.</summary>
    private void OnProbeReply(uint tid, Message message, long now)
    {
        if (!_probes.Remove(tid, out var probe))
        {
            return;
        }

        _probed.Remove(probe.Pinged.EndPoint);

        var answered = message.Response is { } r && r.Id == probe.Pinged.Id;
        if (probe.Claimant is { } claimant)
        {
            if (!answered)
            {
                _table.Replace(probe.Pinged, claimant, now); // the old endpoint is someone else now
            }
        }
        else if (answered && !message.ReadOnly)
        {
            _table.Add(probe.Pinged, now); // it answered from the endpoint we pinged (OnReply checks the source)
        }
    }

    /// <summary>A request without a lookup or put timed out: a silent holder yields its entry to the claimant.</summary>
    private void OnProbeTimeout(uint tid)
    {
        if (!_probes.Remove(tid, out var probe))
        {
            return;
        }

        _probed.Remove(probe.Pinged.EndPoint);
        if (probe.Claimant is { } claimant)
        {
            _table.Replace(probe.Pinged, claimant, _now);
        }
    }

    /// <summary>§5: our ping came back through the public address, so inbound traffic works.</summary>
    internal void OnOwnPingReturned(IPEndPoint publicAddress)
    {
        Firewalled = false;
        if (Id.IsValidFor(publicAddress.Address))
        {
            return;
        }

        Span<byte> random = stackalloc byte[NodeId.Size];
        _entropy.Fill(random);
        var newId = NodeId.CreateSecure(publicAddress.Address, random);
        var oldNodes = _table.Entries.Select(e => e.Node).ToList();
        _table = Rebucketed(newId);
        Log.IdChanged(_log, newId, publicAddress);
        StartLookup(new LookupKey(newId, LookupKind.FindNode, null), null, extraSeeds: oldNodes);
    }

    /// <summary>The reply to <paramref name="query"/>. Its nodes sit in the thread's buffer (see
    /// <see cref="ReplyNodes"/>): the caller encodes it before answering another query.</summary>
    private (Response? Response, KrpcError? Error) Answer(Query query, IPEndPoint from, long now)
    {
        switch (query)
        {
            case PingQuery:
                return (new Response { Id = Id }, null);
            case FindNodeQuery f:
                return (new Response { Id = Id, Nodes = ReplyNodes(f.Target) }, null);
            case GetPeersQuery g:
                {
                    var peers = _storage.GetPeers(g.InfoHash, now);
                    return (new Response
                    {
                        Id = Id,
                        Token = _tokens.Create(from.Address, g.InfoHash),
                        Nodes = ReplyNodes(g.InfoHash),
                        Values = peers.Count > 0 ? peers : null,
                    }, null);
                }

            case AnnouncePeerQuery a:
                if (!_tokens.IsValid(a.Token, from.Address, a.InfoHash))
                {
                    return (null, BadToken());
                }

                _storage.AddPeer(a.InfoHash, new IPEndPoint(from.Address, a.ImpliedPort ? from.Port : a.Port), now);
                return (new Response { Id = Id }, null);
            case GetQuery get:
                return (AnswerGet(get, from, now), null);
            case PutImmutableQuery pi:
                if (!_tokens.IsValid(pi.Token, from.Address, Bep44.ImmutableTarget(pi.EncodedValue)))
                {
                    return (null, BadToken());
                }

                return Stored(_storage.PutImmutable(pi, now, from.Address));
            case PutMutableQuery pm:
                if (!_tokens.IsValid(pm.Token, from.Address, Bep44.MutableTarget(pm.Key, pm.Salt)))
                {
                    return (null, BadToken());
                }

                return Stored(_storage.PutMutable(pm, now, from.Address));
            default:
                return (null, KrpcError.Create(ErrorCodes.MethodUnknown, "Method Unknown"));
        }
    }

    /// <summary>The closest nodes to <paramref name="target"/> for a reply, written into the thread's buffer: a
    /// reply is encoded as soon as it is built, so the nodes of a find_node or get reply need no array of their own.</summary>
    private CompactNodes ReplyNodes(NodeId target)
    {
        var buffer = t_replyNodes ??= new byte[Limits.K * Compact.NodeSize];
        return new CompactNodes(new ArraySegment<byte>(buffer, 0, _table.WriteClosest(target, buffer)));
    }

    // ReplyNodes' buffer, the thread's (a core answers one query at a time, and Answer does not nest).
    [ThreadStatic]
    private static byte[]? t_replyNodes;

    private (Response?, KrpcError?) Stored(KrpcError? error) => error is null ? (new Response { Id = Id }, null) : (null, error);

    private static KrpcError BadToken() => KrpcError.Create(ErrorCodes.Protocol, "Bad token");

    private Response AnswerGet(GetQuery get, IPEndPoint from, long now)
    {
        var token = _tokens.Create(from.Address, get.Target);
        var nodes = ReplyNodes(get.Target);
        if (get.Seq is null && _storage.GetImmutable(get.Target, now) is { } immutable)
        {
            return new Response { Id = Id, Token = token, Nodes = NodesBeside(nodes, immutable.Length), EncodedValue = immutable };
        }

        if (_storage.GetMutable(get.Target, now) is not { } item)
        {
            return new Response { Id = Id, Token = token, Nodes = nodes };
        }

        if (get.Seq is { } seq && item.Seq <= seq)
        {
            return new Response { Id = Id, Token = token, Nodes = nodes, Seq = item.Seq };
        }

        return new Response
        {
            Id = Id,
            Token = token,
            Nodes = NodesBeside(nodes, item.EncodedValue.Length),
            Key = item.KeyArray,
            Seq = item.Seq,
            Signature = item.SignatureArray,
            EncodedValue = item.EncodedValueArray,
        };
    }

    /// <summary>The largest UDP payload that crosses an Ethernet path unfragmented (1500 − IP − UDP headers).</summary>
    private const int UnfragmentedPayload = 1472;

    /// <summary>Bytes of a value-carrying get reply besides the value and the nodes: envelope, id, token, k, sig, seq, v, ip.</summary>
    private const int ValueReplyOverhead = 300;

    /// <summary>
    /// The closest nodes that fit beside a value in one unfragmented datagram. libtorrent reads replies into a
    /// 1500-byte buffer and loses larger ones, so a 1000-byte value with all 20 nodes (~1.7 KB) would never
    /// reach it; libtorrent itself sends 8 nodes with values.
    /// </summary>
    private static CompactNodes NodesBeside(CompactNodes nodes, int encodedValueLength) =>
        nodes.Take(Math.Max(0, (UnfragmentedPayload - ValueReplyOverhead - encodedValueLength) / Compact.NodeSize));

    /// <summary>Confirming pings in flight at most. Each lasts at most the request timeout (2 s), so 256 confirm
    /// over a hundred new contacts a second, more than a bootstrap node of a private network meets; a spoofer
    /// filling them only delays honest contacts, which ask again on their next lookup.</summary>
    private const int MaxProbes = 256;

    private readonly Dictionary<uint, ProbeState> _probes = [];

    // The endpoints of the probes in flight, one probe each: the check for a new probe is a lookup, not a scan.
    private readonly HashSet<IPEndPoint> _probed = [];

    private sealed record ProbeState(DhtNode Pinged, DhtNode? Claimant);
}
