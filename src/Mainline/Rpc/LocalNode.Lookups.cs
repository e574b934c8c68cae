// Iterative lookups on the loop (shared spec §8.1): start or join, visit, process replies, finish.
using System.Buffers.Binary;
using System.Net;
using Mainline.Krpc;
using Mainline.Routing;

namespace Mainline.Rpc;

internal sealed partial class LocalNode
{
    /// <summary>How many lookups this node started (diagnostics and tests).</summary>
    public int LookupsStarted { get; private set; }

    /// <summary>
    /// A lookup's first query, prepared and sent by the caller's thread before the loop has even woken up to start
    /// the lookup (on this 2-core VM a sleeping thread takes 0.1–0.3 ms to wake): to the closest node of the
    /// table's published copy, with a transaction id of our own sequence. <see cref="StartLookup"/> registers it.
    /// </summary>
    internal sealed record FirstQuery(uint Tid, IPEndPoint To, Query Query, byte[] Datagram, long SentAt);

    /// <summary>
    /// On the caller's thread: the first query of a lookup for <paramref name="key"/>, or null when the table has
    /// not been published yet. The caller queues the command that starts the lookup with it, then sends it
    /// (<see cref="SendFirst"/>): the loop runs queued commands before it handles a datagram, so the reply always
    /// finds its request registered.
    /// </summary>
    public FirstQuery? PrepareFirstQuery(LookupKey key)
    {
        var snapshot = _snapshot;
        if (snapshot?.Closest(key.Target) is not { } node || node.EndPoint.Equals(LocalEndPoint))
        {
            return null;
        }

        uint tid = NextTid();
        Span<byte> t = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(t, tid);
        var query = LookupQuery(snapshot.Id, key);
        return new FirstQuery(tid, node.EndPoint, query, KrpcCodec.EncodeQuery(t, query, Version, snapshot.ReadOnly), Now);
    }

    /// <summary>Sends a prepared first query (any thread; after the command that carries it is queued).</summary>
    public void SendFirst(FirstQuery first) => SendRaw(first.Datagram, first.To);

    /// <summary>Starts a lookup, or returns the running one for the same key.</summary>
    /// <param name="key">What to look up.</param>
    /// <param name="salt">The BEP 44 salt of a mutable get.</param>
    /// <param name="first">A first query the caller sent (or is about to): it counts as this lookup's visit of its node.</param>
    /// <param name="extraSeeds">More nodes to start from.</param>
    public Lookup StartLookup(LookupKey key, byte[]? salt, FirstQuery? first = null, IEnumerable<DhtNode>? extraSeeds = null)
    {
        if (_lookups.TryGetValue(key, out var running))
        {
            if (first is not null)
            {
                Adopt(running, first);
            }

            return running;
        }

        LookupsStarted++;
        var now = Now;
        var lookup = new Lookup(key, salt, now);
        _lookups[key] = lookup;

        // The closest node we know gets its query first, before the candidate list is built (that takes ~100 µs
        // with a full table): it is the likeliest to hold the value, and the first reply is what callers wait for.
        // Usually the caller has sent it already.
        if (first is not null)
        {
            Adopt(lookup, first);
        }
        else
        {
            foreach (var closest in _table.Closest(key.Target, 1))
            {
                Visit(lookup, closest.EndPoint);
            }
        }

        var all = new ClosestNodes(key.Target);
        foreach (var entry in _table.Entries)
        {
            all.Add(entry.Node);
        }

        var seeds = all.StoreSet(_cache.ResponderSizeEstimate(), _cache.AverageSubnets());
        foreach (var seed in seeds)
        {
            lookup.Candidates.Add(seed.Node);
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
            // Deviation: at most K bootstrap addresses per lookup (a random sample when the list is longer), so
            // a long list (a whole testnet, an exported table) cannot make every lookup burst hundreds of
            // datagrams and overflow our own receive buffer with the replies.
            var sample = _bootstrap.Count <= Limits.K ? _bootstrap : [.. _bootstrap.OrderBy(_ => Random.Shared.Next()).Take(Limits.K)];
            foreach (var address in sample)
            {
                Visit(lookup, address);
            }
        }

        if (first is not null && lookup.Visited.Count == 1)
        {
            // Deviation (the reference visits the 20 closest at once): the caller's query is on its way to the
            // closest node we know, the likeliest to hold the value, and the rest of the lookup waits for its
            // reply, or FirstReplyWaitMs, whichever comes first. The first round's other 19 queries, and the 19
            // replies and server wake-ups they cause, would otherwise compete for the CPU with that reply and its
            // delivery; on a real network, where a round trip is 50–300 ms, the wait costs at most 2 ms.
            lookup.HeldUntil = Now + FirstReplyWaitMs;
            _held.Add(lookup);
            return lookup;
        }

        Advance(lookup);
        return lookup;
    }

    private static Query LookupQuery(NodeId id, LookupKey key) => key.Kind switch
    {
        LookupKind.FindNode => new FindNodeQuery(id, key.Target),
        LookupKind.GetPeers => new GetPeersQuery(id, key.Target),
        _ => new GetQuery(id, key.Target, key.Seq),
    };

    /// <summary>
    /// Registers a query the caller sent: as the lookup's visit of that node, or, when the lookup already visited
    /// it (a running lookup joined), as a plain request whose reply only refreshes the table.
    /// </summary>
    private void Adopt(Lookup lookup, FirstQuery first)
    {
        bool visit = lookup.Visited.Add(first.To);
        _pending[first.Tid] = new Pending
        {
            Tid = first.Tid, To = first.To, SentAt = first.SentAt, Query = first.Query, Lookup = visit ? lookup : null, Primary = visit,
        };
        if (visit)
        {
            lookup.Diagnostics.Queried = lookup.Visited.Count;
            lookup.InFlight.Add(first.Tid);
        }
    }

    /// <summary>Sends the lookup's query to <paramref name="address"/>.</summary>
    /// <remarks>
    /// Deviation: the reference sends a companion ping with every query, so that nodes which reject the query
    /// (no BEP 44, say) still count as alive and vote on our address. Their error reply is what tells us, so we
    /// ping only then (see <see cref="OnLookupReply"/>): half the datagrams per lookup, and the first replies are
    /// not queued behind pings. Pings carry our own id, because bittorrent-dht adds every querier under its
    /// <c>a.id</c> and drops a node whose id changes at the same endpoint.
    /// </remarks>
    private void Visit(Lookup lookup, IPEndPoint address)
    {
        if (!lookup.Visited.Add(address) || address.Equals(LocalEndPoint))
        {
            return;
        }

        lookup.Diagnostics.Queried = lookup.Visited.Count;
        lookup.InFlight.Add(Send(LookupQuery(Id, lookup.Key), address, lookup, primary: true, put: null));
    }

    /// <summary>Visits the 20 closest unvisited candidates; finishes the lookup when nothing is in flight.</summary>
    private void Advance(Lookup lookup)
    {
        if (lookup.Done)
        {
            return;
        }

        var n = 0;
        foreach (var candidate in lookup.Candidates.Nodes)
        {
            if (n++ >= Limits.K)
            {
                break;
            }

            if (!lookup.Visited.Contains(candidate.Node.EndPoint))
            {
                Visit(lookup, candidate.Node.EndPoint);
            }
        }

        if (lookup.InFlight.Count == 0)
        {
            FinishLookup(lookup);
        }
    }

    /// <summary>Lookups waiting for the reply to their caller's first query (see <see cref="StartLookup"/>).</summary>
    private readonly List<Lookup> _held = [];

    /// <summary>Whether some lookup waits for its first reply: the loop then polls at least every millisecond.</summary>
    private bool AnyHeld => _held.Count > 0;

    /// <summary>Advances the held lookups whose wait is over; forgets those that moved on (a reply came).</summary>
    private void ReleaseHeld(long now)
    {
        for (int i = _held.Count - 1; i >= 0; i--)
        {
            var lookup = _held[i];
            if (lookup.Done || lookup.Visited.Count > 1 || now >= lookup.HeldUntil)
            {
                _held.RemoveAt(i);
                Advance(lookup);
            }
        }
    }

    private void OnLookupReply(Lookup lookup, Pending p, Message message, IPEndPoint from, long now)
    {
        lookup.InFlight.Remove(p.Tid);
        if (lookup.Done)
        {
            return;
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
                foreach (var node in r.Nodes ?? [])
                {
                    if (node.Id != Id)
                    {
                        lookup.Candidates.Add(node);
                    }
                }

                var responder = new DhtNode(r.Id, from);
                if (p.Primary && r.Token is { } token)
                {
                    lookup.Responders.Add(responder, token, now);
                }

                if (message.ExternalAddress is { } external)
                {
                    lookup.Vote(external, from.Address);
                }

                if (p.Primary)
                {
                    int before = lookup.Values.Count;
                    DeliverValues(lookup, r);
                    if (before == 0 && lookup.Values.Count > 0 && lookup.Subscribers.Count > 0)
                    {
                        // A caller waits for this first value: its thread has just been woken, and on a machine
                        // with few cores it would queue behind this loop's next sends and the work they cause.
                        // Give up the CPU once, so it takes the value first.
                        Thread.Yield();
                    }
                }

                _table.Add(responder, now);
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
                    if (Bep44.MutableTarget(k, lookup.Salt) == lookup.Target
                        && (lookup.AlreadyVerified(k, seq, v, sig) is { } item || MutableItem.TryFromEncoded(k, lookup.Salt, seq, v, sig, out item)))
                    {
                        if (lookup.Key.Seq is { } min && item!.Seq <= min)
                        {
                            d.NoMoreRecent++;
                        }
                        else
                        {
                            d.Values++;
                            lookup.Deliver(new MutableValue(item!));
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
        PublishSnapshot(Now, throttled: false);
        lookup.ResultNodes = lookup.Result(_cache.ResponderSizeEstimate(), _cache.AverageSubnets());
        Log.LookupDone(_log, lookup.Key.Kind, lookup.Target, Now - lookup.StartedAt, lookup.Visited.Count, lookup.Responders.Count, lookup.Values.Count);

        if (lookup.ElectedAddress() is { } elected && !elected.Equals(PublicEndPoint))
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
                lookup.Target, lookup.ResultNodes, lookup.Candidates.SizeEstimate(), lookup.Responders.SizeEstimate(),
                lookup.Candidates.SubnetCount(), lookup.Key.Kind == LookupKind.FindNode));
        }

        foreach (var s in lookup.Subscribers)
        {
            s.TryComplete();
        }

        lookup.Subscribers.Clear();
        foreach (var action in lookup.Completed)
        {
            action(lookup);
        }

        lookup.Completed.Clear();
    }
}
