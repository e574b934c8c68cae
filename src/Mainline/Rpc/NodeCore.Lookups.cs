// Iterative lookups (shared spec §8.1): start or join, visit, process replies, finish.
using System.Net;
using Mainline.Krpc;
using Mainline.Routing;

namespace Mainline.Rpc;

internal sealed partial class NodeCore
{
    // Advance's list of the unvisited nodes among the closest (one core runs one call at a time).
    private readonly List<Candidate> _unvisited = [];

    /// <summary>How many lookups this node started (diagnostics and tests).</summary>
    public int LookupsStarted { get; private set; }

    /// <summary>Starts a lookup, or returns the running one for the same key.</summary>
    /// <param name="key">What to look up.</param>
    /// <param name="salt">The BEP 44 salt of a mutable get.</param>
    /// <param name="extraSeeds">More nodes to start from.</param>
    public Lookup StartLookup(LookupKey key, byte[]? salt, IEnumerable<DhtNode>? extraSeeds = null)
    {
        key = key.WithSalt(salt);
        if (_lookups.TryGetValue(key, out var running))
        {
            return running;
        }

        LookupsStarted++;
        var lookup = new Lookup(key, salt, _now) { Number = LookupsStarted };
        _lookups[key] = lookup;
        if (_stopped)
        {
            FinishLookup(lookup); // a stopped node sends nothing: the lookup ends empty
            return lookup;
        }

        var seeds = _table.StoreSet(key.Target, _cache.ResponderSizeEstimate(), _cache.AverageSubnets());
        foreach (var seed in seeds)
        {
            lookup.Candidates.Add(seed);
        }

        foreach (var extra in extraSeeds ?? [])
        {
            lookup.Candidates.Add(extra);
        }

        if (_cache.Get(key.Target) is { } cached)
        {
            foreach (var c in cached.Nodes)
            {
                lookup.Candidates.Add(c.Node);
            }
        }

        if (seeds.Count == 0 || seeds.Count < _bootstrap.Count)
        {
            // Unlike the reference: at most K bootstrap addresses per lookup (a random sample when the list is longer), so
            // a long list (a whole testnet, an exported table) cannot make every lookup burst hundreds of
            // datagrams and overflow our own receive buffer with the replies.
            foreach (var address in BootstrapSample())
            {
                Visit(lookup, address, node: null, hop: 0);
            }
        }

        Advance(lookup);
        return lookup;
    }

    /// <summary>The bootstrap list, or a uniform random sample of K of its addresses in random order.</summary>
    private IReadOnlyList<IPEndPoint> BootstrapSample()
    {
        if (_bootstrap.Count <= Limits.K)
        {
            return _bootstrap;
        }

        // The first K steps of a Fisher–Yates shuffle.
        var all = _bootstrap.ToArray();
        for (var i = 0; i < Limits.K; i++)
        {
            var j = i + _entropy.Next(all.Length - i);
            (all[i], all[j]) = (all[j], all[i]);
        }

        return all[..Limits.K];
    }

    private static Query LookupQuery(NodeId id, LookupKey key) => key.Kind switch
    {
        LookupKind.FindNode => new FindNodeQuery(id, key.Target),
        LookupKind.GetPeers => new GetPeersQuery(id, key.Target),
        _ => new GetQuery(id, key.Target, key.Seq),
    };

    /// <summary>Sends the lookup's query to <paramref name="address"/>.</summary>
    /// <remarks>
    /// The reference sends a companion ping with every query, so that nodes which reject the query (no BEP 44,
    /// say) still count as alive and vote on our address. Their error reply is what tells us, so this node pings
    /// only then (see <see cref="OnLookupReply"/>): half the datagrams per lookup, and the first replies are
    /// not queued behind pings. Pings carry our own id, because bittorrent-dht adds every querier under its
    /// <c>a.id</c> and drops a node whose id changes at the same endpoint.
    /// </remarks>
    private void Visit(Lookup lookup, IPEndPoint address, NodeId? node, int hop)
    {
        if (!lookup.Visited.Add(address) || address.Equals(LocalEndPoint))
        {
            return;
        }

        lookup.Diagnostics.Queried = lookup.Visited.Count;
        var request = SendRequest(LookupQuery(Id, lookup.Key), address, lookup, primary: true, put: null, hop);
        lookup.InFlight.Add(request.Tid);
        WatchSoftDeadline(request, node);
    }

    /// <summary>Visits the unvisited nodes among the 20 closest candidates while fewer than α queries are in flight;
    /// finishes the lookup when nothing is in flight. Slow nodes (past their soft timeout) are passed over: they
    /// neither count among the 20 nor hold the lookup. When there are more unvisited nodes than free slots, the
    /// slots go to the nodes that share the most leading bits with the target, and among those to the fastest
    /// (see <see cref="BySpeed"/>).</summary>
    private void Advance(Lookup lookup)
    {
        if (lookup.Done)
        {
            return;
        }

        var waiting = _unvisited;
        waiting.Clear();
        var n = 0;
        var width = Width(lookup);
        foreach (var candidate in lookup.Candidates.Nodes)
        {
            if (n >= width)
            {
                break;
            }

            var at = candidate.Node.EndPoint;
            if (lookup.Slow.Contains(at))
            {
                continue;
            }

            n++;
            if (!lookup.Visited.Contains(at))
            {
                waiting.Add(candidate);
            }
        }

        var free = (_options.LookupParallelism > 0 ? _options.LookupParallelism : int.MaxValue) - lookup.InFlight.Count;
        if (waiting.Count > free && _options.PreferFastNodes)
        {
            BySpeed(lookup.Target, waiting);
        }

        for (var i = 0; i < waiting.Count && i < free; i++)
        {
            Visit(lookup, waiting[i].Node.EndPoint, waiting[i].Node.Id, waiting[i].Hop);
        }

        waiting.Clear();
        if (lookup.InFlight.Count == 0)
        {
            FinishLookup(lookup);
        }
    }

    /// <summary>
    /// How many of the closest candidates (slow ones aside) a lookup must hear from: K = 20, or twice that for a BEP 44
    /// get that has no value yet. Ids next to a target can be ground (BEP 42 fixes only the first 21 bits), so 20
    /// hostile nodes closer than every honest one can hand out tokens and no value and end a get before it reaches
    /// the honest holders; a get without a value looks 20 nodes further. A get that found its value, and every other
    /// lookup, stops at the 20 closest.
    /// </summary>
    private int Width(Lookup lookup) =>
        _options.WidenValuelessGets && lookup.Key.Kind == LookupKind.Get && lookup.Values.Count == 0 ? 2 * Limits.K : Limits.K;

    /// <summary>
    /// Orders <paramref name="candidates"/> (in candidate order) for the free query slots: secure before non-secure,
    /// then by how many leading bits the id shares with the target, then by round trip (the table's estimate for
    /// nodes we know, our smoothed RTT for the others), then as they were. Ids that share as many leading bits with
    /// the target bring the lookup equally far, so the node that answers sooner is the better next hop
    /// (proximity routing); the nodes of the lookup's first step come from our table, whose round trips we know.
    /// </summary>
    private void BySpeed(NodeId target, List<Candidate> candidates)
    {
        var typical = _rtt.Smoothed;
        var buffer = t_bySpeed is { } b && b.Length >= candidates.Count ? b : t_bySpeed = new SpeedKey[Math.Max(candidates.Count, 64)];
        var keyed = buffer.AsSpan(0, candidates.Count);
        for (var i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            var rtt = _table.KnownRoundTrip(c.Node.Id, c.Node.EndPoint) is > 0 and var known ? known : typical;
            keyed[i] = new(c.RanksSecure ? 0 : 1, target.BucketDistance(c.Node.Id), rtt, i, c);
        }

        // Order is unique, so the order is total and any sort gives the same result.
        keyed.Sort(static (a, b) => (a.Secure, a.Prefix, a.Rtt, a.Order).CompareTo((b.Secure, b.Prefix, b.Rtt, b.Order)));
        for (var i = 0; i < keyed.Length; i++)
        {
            candidates[i] = keyed[i].Candidate;
            keyed[i] = default; // the thread's buffer keeps no candidate alive
        }
    }

    private readonly record struct SpeedKey(int Secure, int Prefix, long Rtt, int Order, Candidate Candidate);

    // BySpeed's sort buffer, the thread's (a core runs one call at a time and BySpeed does not nest).
    [ThreadStatic]
    private static SpeedKey[]? t_bySpeed;

    private void OnLookupReply(Lookup lookup, Pending p, Message message, IPEndPoint from, long now)
    {
        lookup.InFlight.Remove(p.Tid);
        if (lookup.Done)
        {
            return;
        }

        if (p.Primary)
        {
            lookup.Slow.Remove(from); // late but here: an ordinary responder again
        }

        var isGet = lookup.Key.Kind == LookupKind.Get;
        if (message.Error is not null)
        {
            if (p.Primary && isGet)
            {
                lookup.Diagnostics.KrpcErrors++;
            }

            if (p.Primary)
            {
                // An error carries no id: a ping tells whether the node is alive and lets it vote (see Visit).
                lookup.InFlight.Add(Send(new PingQuery(Id), from, lookup, primary: false, put: null));
            }
        }
        else if (message.Response is { } r)
        {
            if (message.ReadOnly)
            {
                if (p.Primary && isGet)
                {
                    lookup.Diagnostics.InvalidResponses++;
                }
            }
            else
            {
                var responder = new DhtNode(r.Id, from);
                lookup.RepliedWith(responder, Id);
                lookup.AddListed(r.Nodes, Id, PrivateNetwork, hop: p.Hop + 1);
                if (p.Primary)
                {
                    lookup.Diagnostics.Rounds = Math.Max(lookup.Diagnostics.Rounds, p.Hop + 1);
                }

                if (p.Primary && r.Token is { } token)
                {
                    lookup.Responders.Add(responder, token, now);
                }

                if (message.ExternalAddress is { } external)
                {
                    _votes.Add(external, from.Address);
                }

                if (p.Primary)
                {
                    DeliverValues(lookup, r);
                }

                AddResponder(responder, now);
            }
        }

        Advance(lookup);
    }

    private static void DeliverValues(Lookup lookup, Response r)
    {
        switch (lookup.Key.Kind)
        {
            case LookupKind.GetPeers:
                if (r.Values is { Count: > 0 } peers)
                {
                    lookup.Deliver(new PeersValue(peers));
                }

                break;
            case LookupKind.Get:
                var d = lookup.Diagnostics;
                if (r.Key is { } k && r.Signature is { } sig && r.Seq is { } seq && r.EncodedValue is { } v)
                {
                    // BEP 44: k must hash to the target with the salt we asked with, and the signature must verify.
                    // A copy of an item this lookup already delivered is counted but neither verified nor
                    // delivered again: callers see each distinct item once.
                    var known = lookup.AlreadyVerified(k, seq, v, sig);
                    var isNew = known is null;
                    if (Bep44.MutableTarget(k, lookup.Salt) == lookup.Target
                        && (known is not null || MutableItem.TryFromEncoded(k, lookup.Salt, seq, v, sig, out known)))
                    {
                        if (lookup.Key.Seq is { } min && known.Seq <= min)
                        {
                            d.NoMoreRecent++;
                        }
                        else
                        {
                            d.Values++;
                            if (isNew)
                            {
                                lookup.Deliver(new MutableValue(known));
                            }
                        }
                    }
                    else
                    {
                        d.InvalidValues++;
                    }
                }
                else if (r.EncodedValue is { } iv)
                {
                    if (Bep44.ImmutableTarget(iv) == lookup.Target)
                    {
                        d.Values++;
                        lookup.Deliver(new ImmutableValue(iv));
                    }
                    else
                    {
                        d.InvalidValues++;
                    }
                }
                else if (r.Seq is not null)
                {
                    d.NoMoreRecent++;
                }
                else if (r.Token is not null)
                {
                    d.NoValues++;
                }
                else
                {
                    d.InvalidResponses++;
                }

                break;
        }
    }

    private void FinishLookup(Lookup lookup)
    {
        lookup.Done = true;
        _lookups.Remove(lookup.Key);
        lookup.ResultNodes = lookup.Result(_cache.ResponderSizeEstimate(), _cache.AverageSubnets());
        Log.LookupDone(_log, lookup.Key.Kind, lookup.Target, _now - lookup.StartedAt, lookup.Visited.Count, lookup.Responders.Count, lookup.Values.Count);

        if (!_stopped && _votes.Elected() is { } elected && !elected.Equals(PublicEndPoint))
        {
            // §5: a new public address: assume firewalled until our own ping comes back through it.
            Firewalled = true;
            PublicEndPoint = elected;
            Log.PublicAddressVoted(_log, elected);
            Send(new PingQuery(Id), elected, null, false, null);
        }

        if (lookup.Candidates.Count > 0)
        {
            _cache.Add(new CachedLookup(
                lookup.Target, lookup.IsRefresh ? [] : lookup.ResultNodes, lookup.Candidates.SizeEstimate(), lookup.Responders.SizeEstimate(),
                lookup.Candidates.SubnetCount(), lookup.Key.Kind == LookupKind.FindNode));
        }

        lookup.Complete();
        OnLookupFinishedForRefresh(lookup);
    }
}
