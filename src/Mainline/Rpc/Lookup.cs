// One iterative lookup (shared spec §8): find_node, get_peers or BEP 44 get.
//
// Visit = the query (a ping follows only when the query gets an error reply). Every step visits the first 20
// candidates not yet visited; there is no α limit, except that a caller's lookup whose first query the caller sent
// waits for that reply (or 2 ms) before its first step (LocalNode.StartLookup). The lookup is done when none of its requests is in flight.
// Values stream to every attached subscriber as soon as a reply is processed; late subscribers first receive
// what was collected so far.
using System.Net;
using System.Threading.Channels;
using Mainline.Routing;

namespace Mainline.Rpc;

internal enum LookupKind : byte
{
    FindNode,
    GetPeers,
    Get,
}

/// <summary>What identifies a running lookup. The reference keys by target only; we add the kind and the
/// requested seq so that a get_peers caller never joins a BEP 44 get, nor a "newer than" get a full one.</summary>
internal readonly record struct LookupKey(NodeId Target, LookupKind Kind, long? Seq);

internal abstract record LookupValue;

internal sealed record PeersValue(IReadOnlyList<IPEndPoint> Peers) : LookupValue;

internal sealed record ImmutableValue(byte[] EncodedValue) : LookupValue;

internal sealed record MutableValue(MutableItem Item) : LookupValue;

/// <summary>The result of <see cref="Dht.GetMutableDetailedAsync"/>.</summary>
/// <param name="Items">Every verified item, in arrival order (one per node holding it).</param>
/// <param name="MostRecent">The highest seq (then greatest value), or null.</param>
/// <param name="Diagnostics">What the queried nodes answered.</param>
public sealed record GetMutableOutcome(IReadOnlyList<MutableItem> Items, MutableItem? MostRecent, GetDiagnostics Diagnostics);

/// <summary>Counters of a BEP 44 get (§8.3).</summary>
public sealed record GetDiagnostics
{
    /// <summary>Nodes queried.</summary>
    public int Queried { get; internal set; }

    /// <summary>Replies carrying a valid value.</summary>
    public int Values { get; internal set; }

    /// <summary>Replies with a token but no value.</summary>
    public int NoValues { get; internal set; }

    /// <summary>Replies saying "nothing more recent than the requested seq".</summary>
    public int NoMoreRecent { get; internal set; }

    /// <summary>Replies with a value that failed verification.</summary>
    public int InvalidValues { get; internal set; }

    /// <summary>Replies of the wrong shape or from read-only nodes.</summary>
    public int InvalidResponses { get; internal set; }

    /// <summary>Error replies.</summary>
    public int KrpcErrors { get; internal set; }

    /// <summary>All replies counted above.</summary>
    public int Responded => Values + NoValues + NoMoreRecent + InvalidValues + InvalidResponses + KrpcErrors;

    /// <summary>Queried nodes that never answered.</summary>
    public int TimedOut => Math.Max(0, Queried - Responded);
}

internal sealed class Lookup
{
    /// <summary>Cap of the candidate and responder lists (see <see cref="ClosestNodes"/>).</summary>
    public const int MaxCandidates = 500;

    public Lookup(LookupKey key, byte[]? salt, long now)
    {
        Key = key;
        Salt = salt;
        Candidates = new ClosestNodes(key.Target, MaxCandidates);
        Responders = new ClosestNodes(key.Target, MaxCandidates);
        StartedAt = now;
    }

    public LookupKey Key { get; }

    public NodeId Target => Key.Target;

    /// <summary>The salt callers asked with, needed to check SHA1(k ‖ salt) == target.</summary>
    public byte[]? Salt { get; }

    public long StartedAt { get; }

    public ClosestNodes Candidates { get; }

    public ClosestNodes Responders { get; }

    public HashSet<IPEndPoint> Visited { get; } = [];

    public HashSet<uint> InFlight { get; } = [];

    /// <summary>Per claimed address of ours: how many replies said so, and from which /24 networks.</summary>
    public Dictionary<IPEndPoint, (int Count, HashSet<int> Networks)> Votes { get; } = [];

    public List<LookupValue> Values { get; } = [];

    public List<ChannelWriter<LookupValue>> Subscribers { get; } = [];

    public List<Action<Lookup>> Completed { get; } = [];

    public GetDiagnostics Diagnostics { get; } = new();

    public bool Done { get; set; }

    /// <summary>Until when the lookup waits for the reply to its caller's first query before visiting the rest.</summary>
    public long HeldUntil { get; set; }

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
            Completed.Add(action);
        }
    }

    /// <summary>
    /// A mutable item this lookup has verified with exactly these fields (same key, seq, value and signature), or
    /// null. The nodes of a store set mostly return the same item: one Ed25519 verification (60 µs for 1000 bytes)
    /// serves them all, and the loop's CPU goes to the replies still arriving instead of verifying copies.
    /// </summary>
    public MutableItem? AlreadyVerified(byte[] key, long seq, byte[] encodedValue, byte[] signature)
    {
        foreach (var value in Values)
        {
            if (value is MutableValue { Item: var item } && item.Seq == seq && item.Signature.AsSpan().SequenceEqual(signature)
                && item.EncodedValue.AsSpan().SequenceEqual(encodedValue) && item.Key.AsSpan().SequenceEqual(key))
            {
                return item;
            }
        }

        return null;
    }

    public void Deliver(LookupValue value)
    {
        Values.Add(value);
        foreach (var s in Subscribers)
        {
            s.TryWrite(value);
        }
    }

    public void Subscribe(ChannelWriter<LookupValue> writer)
    {
        foreach (var v in Values)
        {
            writer.TryWrite(v);
        }

        if (Done)
        {
            writer.TryComplete();
        }
        else
        {
            Subscribers.Add(writer);
        }
    }

    /// <summary>Counts a reply from <paramref name="voter"/> saying that we are <paramref name="address"/>.</summary>
    public void Vote(IPEndPoint address, IPAddress voter)
    {
        if (!Votes.TryGetValue(address, out var votes))
        {
            votes = (0, []);
        }

        votes.Networks.Add(Network24(voter));
        Votes[address] = (votes.Count + 1, votes.Networks);
    }

    /// <summary>
    /// The most-voted external address, if any (§5). Hardening the spec recommends: a public address needs votes
    /// from at least two /24 networks, so that one network (or one liar) cannot move our address and id; a
    /// loopback or private address (testnets, LANs), which BEP 42 does not constrain either, needs one.
    /// </summary>
    public IPEndPoint? ElectedAddress()
    {
        if (Votes.Count == 0)
        {
            return null;
        }

        var (address, (_, networks)) = Votes.MaxBy(kv => kv.Value.Count);
        return networks.Count >= 2 || NodeId.IsExempt(address.Address) ? address : null;
    }

    private static int Network24(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        return address.TryWriteBytes(bytes, out int written) && written >= 3
            ? (bytes[0] << 16) | (bytes[1] << 8) | bytes[2]
            : 0;
    }

    /// <summary>Result nodes: first 20 candidates for find_node, the edk-cut responders otherwise.</summary>
    public List<Candidate> Result(double sizeEstimate, double subnets) =>
        Key.Kind == LookupKind.FindNode
            ? [.. Candidates.Nodes.Take(Limits.K)]
            : Responders.StoreSet(sizeEstimate, subnets);
}
