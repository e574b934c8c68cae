// One iterative lookup (shared spec §8.1): find_node, get_peers or BEP 44 get.
//
// A visit is one query (a ping follows only when the query gets an error reply, so that the node can still count
// as alive and vote on our address). Every step visits those of the 20 closest candidates not visited yet, closest
// first, while fewer than α queries are in flight (DhtOptions.LookupParallelism); each address is visited at most
// once per lookup. A query past its adaptive timeout (NodeCore.Rtt.cs) is "slow": it frees its slot and its node
// no longer counts among the 20 closest, until it answers. A node that times out for good leaves the candidates
// (and cannot come back), so the lookup converges on the 20 closest nodes that replied: a peer listing ids next
// to the target at endpoints that never answer delays it by a soft timeout, no more. It is done when none of its
// requests is in flight, i.e. when the 20 closest candidates that are not slow have all replied.
// Values stream to every attached subscriber as soon as a reply is processed; late subscribers first receive
// what was collected so far. Subscribers are plain callbacks run on the node's thread (a channel writer for the
// public API's streams, a synchronous handler for a simulator). Copies of one mutable item from many nodes are
// verified once and delivered once.
using System.Net;
using System.Threading.Channels;
using Mainline.Krpc;
using Mainline.Routing;

namespace Mainline.Rpc;

internal enum LookupKind : byte
{
    FindNode,
    GetPeers,
    Get,
}

/// <summary>What identifies a running lookup. The reference keys by target only; we add the kind, the requested
/// seq and the BEP 44 salt (as hex text, so that keys compare by value), so that a get_peers caller never joins
/// a BEP 44 get, nor a "newer than" get a full one, nor a salted get one whose values it would all reject.</summary>
internal readonly record struct LookupKey(NodeId Target, LookupKind Kind, long? Seq, string? Salt = null)
{
    /// <summary>This key with <paramref name="salt"/> (null or empty: none).</summary>
    public LookupKey WithSalt(byte[]? salt) => this with { Salt = salt is { Length: > 0 } ? Convert.ToHexString(salt) : null };
}

internal abstract record LookupValue;

internal sealed record PeersValue(IReadOnlyList<IPEndPoint> Peers) : LookupValue;

internal sealed record ImmutableValue(byte[] EncodedValue) : LookupValue;

internal sealed record MutableValue(MutableItem Item) : LookupValue;

internal sealed class Lookup
{
    /// <summary>Cap of the candidate and responder lists (see <see cref="ClosestNodes"/>).</summary>
    public const int MaxCandidates = 500;

    /// <summary>
    /// New candidates taken from one reply: 16, the closest to the target first (libtorrent lists 8 nodes, the
    /// reference and we list up to 20). A reply cannot fill the 20 closest candidates on its own, so one liar
    /// listing never-answering nodes next to the target cannot hide the real ones, and each reply costs at most
    /// 16 timeouts. Nodes the lookup already holds do not count: near the target, honest replies mostly repeat
    /// known nodes, and their few new ones (the 17th to 20th closest) must not be cut.
    /// </summary>
    internal const int MaxNewNodesPerReply = 16;

    public Lookup(LookupKey key, byte[]? salt, long now)
    {
        Key = key;
        Salt = salt;
        Candidates = new ClosestNodes(key.Target, MaxCandidates);
        Responders = new ClosestNodes(key.Target, MaxCandidates);
        StartedAt = now;
    }

    public LookupKey Key { get; }

    /// <summary>The how-many-th lookup its node started (1, 2, …): orders lookups the same way in every process.</summary>
    public int Number { get; init; }

    /// <summary>A bucket refresh (NodeCore.Refresh.cs): its random target is never looked up again, so the lookup
    /// cache keeps its size samples but not its nodes.</summary>
    public bool IsRefresh { get; set; }

    public NodeId Target => Key.Target;

    /// <summary>The salt callers asked with, needed to check SHA1(k ‖ salt) == target.</summary>
    public byte[]? Salt { get; }

    public long StartedAt { get; }

    public ClosestNodes Candidates { get; }

    public ClosestNodes Responders { get; }

    public HashSet<IPEndPoint> Visited { get; } = [];

    public HashSet<uint> InFlight { get; } = [];

    /// <summary>Endpoints whose query timed out: they left the candidates and are not taken back.</summary>
    public HashSet<IPEndPoint> Failed { get; } = [];

    /// <summary>Endpoints whose query is past its soft timeout (NodeCore.Rtt.cs) and still unanswered.</summary>
    public HashSet<IPEndPoint> Slow { get; } = [];

    /// <summary>The id each endpoint replied with: listings of that endpoint under other ids are refused.</summary>
    public Dictionary<IPEndPoint, NodeId> Replied { get; } = [];

    public List<LookupValue> Values { get; } = [];

    private List<Action<LookupValue>>? _subscribers;

    private List<Action<Lookup>>? _completed;

    public GetDiagnostics Diagnostics { get; } = new();

    public bool Done { get; set; }

    /// <summary>Result nodes, set when the lookup is done.</summary>
    public IReadOnlyList<Candidate> ResultNodes { get; set; } = [];

    /// <summary>Runs <paramref name="action"/> when the lookup is done (now, if it already is).</summary>
    public void OnCompleted(Action<Lookup> action)
    {
        if (Done)
        {
            action(this);
        }
        else
        {
            (_completed ??= []).Add(action);
        }
    }

    /// <summary>Marks the lookup done and runs its completion callbacks, in the order they were added.</summary>
    public void Complete()
    {
        Done = true;
        _subscribers = null;
        var completed = _completed;
        _completed = null;
        if (completed is not null)
        {
            foreach (var action in completed)
            {
                action(this);
            }
        }
    }

    /// <summary>
    /// A mutable item this lookup has verified with exactly these fields (same key, seq, value and signature), or
    /// null. The nodes of a store set mostly return the same item, so one Ed25519 verification serves them all;
    /// for a busy node (a relay running many gets) that is most of a lookup's CPU.
    /// </summary>
    public MutableItem? AlreadyVerified(byte[] key, long seq, byte[] encodedValue, byte[] signature)
    {
        foreach (var value in Values)
        {
            if (value is MutableValue { Item: var item } && item.HasFields(key, seq, encodedValue, signature))
            {
                return item;
            }
        }

        return null;
    }

    public void Deliver(LookupValue value)
    {
        Values.Add(value);
        if (_subscribers is not null)
        {
            foreach (var s in _subscribers)
            {
                s(value);
            }
        }
    }

    /// <summary>Calls <paramref name="onValue"/> with every value: those collected so far at once, then each new
    /// one as it arrives, on the node's thread.</summary>
    public void Subscribe(Action<LookupValue> onValue)
    {
        foreach (var v in Values)
        {
            onValue(v);
        }

        if (!Done)
        {
            (_subscribers ??= []).Add(onValue);
        }
    }

    /// <summary>Streams every value to <paramref name="writer"/> (as <see cref="Subscribe(Action{LookupValue})"/>)
    /// and completes it when the lookup is done.</summary>
    public void Subscribe(ChannelWriter<LookupValue> writer)
    {
        Subscribe(v => writer.TryWrite(v));
        OnCompleted(_ => writer.TryComplete());
    }

    /// <summary>Adds the usable nodes of a reply to the candidates: at most <see cref="MaxNewNodesPerReply"/> new
    /// ones, the closest to the target first.</summary>
    /// <param name="nodes">The reply's node list.</param>
    /// <param name="self">Our own id, which is never a candidate.</param>
    /// <param name="privateNetwork">Whether private endpoints are taken (<see cref="NodeCore.PrivateNetwork"/>).</param>
    /// <param name="hop">Hops from the lookup's first nodes to the listed ones.</param>
    public void AddListed(IReadOnlyList<DhtNode>? nodes, NodeId self, bool privateNetwork, int hop = 0)
    {
        if (nodes is null)
        {
            return;
        }

        // Most nodes a reply lists are candidates already (every responder near the target lists the same few), so
        // the id is checked before a node is built from its compact form.
        var compact = nodes as CompactNodes;
        var usable = t_usable ??= [];
        usable.Clear();
        for (var i = 0; i < nodes.Count; i++)
        {
            var id = compact?.IdAt(i) ?? nodes[i].Id;
            if (id == self || Candidates.Contains(id))
            {
                continue;
            }

            var n = nodes[i];
            if (Endpoints.AcceptsFromPeer(n.EndPoint, privateNetwork) && MayList(n))
            {
                usable.Add(n);
            }
        }

        if (usable.Count > MaxNewNodesPerReply)
        {
            usable.Sort((a, b) => Target.CompareDistance(a.Id, b.Id));
            usable.RemoveRange(MaxNewNodesPerReply, usable.Count - MaxNewNodesPerReply);
        }

        foreach (var node in usable)
        {
            Candidates.Add(new Candidate(node, null, 0) { Hop = hop });
        }

        usable.Clear(); // the thread's list keeps no node alive
    }

    // AddListed's working list, the thread's (a node's lookups run on its one thread, and AddListed does not nest).
    [ThreadStatic]
    private static List<DhtNode>? t_usable;

    /// <summary>Whether a node listed by a peer may join the candidates: not at an endpoint that timed out, nor
    /// at one that replied under another id.</summary>
    public bool MayList(DhtNode node) =>
        !Failed.Contains(node.EndPoint) && (!Replied.TryGetValue(node.EndPoint, out var id) || id == node.Id);

    /// <summary>The query to <paramref name="endPoint"/> timed out: every candidate there leaves the list.</summary>
    public void TimedOut(IPEndPoint endPoint)
    {
        Failed.Add(endPoint);
        Candidates.RemoveAt(endPoint, except: null);
    }

    /// <summary><paramref name="responder"/> replied: it is a candidate under the id it replied with, and other
    /// ids listed at its endpoint (claims that put it next to the target) leave the list.</summary>
    /// <param name="responder">The replying node.</param>
    /// <param name="self">Our own id, which is never a candidate.</param>
    public void RepliedWith(DhtNode responder, NodeId self)
    {
        Replied[responder.EndPoint] = responder.Id;
        Candidates.RemoveAt(responder.EndPoint, except: responder.Id);
        if (responder.Id != self)
        {
            Candidates.Add(responder);
        }
    }

    /// <summary>Result nodes: first 20 candidates for find_node, the edk-cut responders otherwise.</summary>
    public List<Candidate> Result(double sizeEstimate, double subnets) =>
        Key.Kind == LookupKind.FindNode
            ? [.. Candidates.Nodes.Take(Limits.K)]
            : Responders.StoreSet(sizeEstimate, subnets);
}
