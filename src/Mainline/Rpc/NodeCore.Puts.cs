// Puts (shared spec §9.3): local concurrency rules, store set from a fresh cache entry or a get
// lookup, one write per node with a token, typed outcome.
using Mainline.Krpc;
using Mainline.Routing;

namespace Mainline.Rpc;

internal sealed partial class NodeCore
{
    /// <summary>Starts a put; <paramref name="done"/> gets its result, on the node's thread (at once when the put
    /// is refused locally; marked <see cref="PutResult.Stopped"/> when the node stops first).</summary>
    /// <param name="op">The put.</param>
    /// <param name="done">Receives the result, exactly once.</param>
    /// <param name="extraNodes">More nodes to write to, when we hold a token from them for this target.</param>
    public void StartPut(PutOperation op, Action<PutResult> done, IReadOnlyList<DhtNode>? extraNodes = null)
    {
        if (_stopped)
        {
            done(StoppedResult(op));
            return;
        }

        if (op.Kind == PutKind.Mutable)
        {
            var item = op.Item!;
            if (_mutablePuts.TryGetValue(op.Target, out var running) && !running.Finished)
            {
                var runningItem = running.Item!;
                if (runningItem.Signature.Span.SequenceEqual(item.Signature.Span))
                {
                    running.Callbacks.Add(done);
                    return;
                }

                if (item.Seq < runningItem.Seq)
                {
                    done(new PutResult(PutStatus.NotMostRecent, op.Target, 0));
                    return;
                }

                if (op.Cas is { } cas && cas == runningItem.Seq)
                {
                    // The new item builds on the running one: it replaces it, and the old callers get its result.
                    op.Callbacks.AddRange(running.Callbacks);
                    running.Callbacks.Clear();
                    running.Cancel();
                }
                else
                {
                    done(new PutResult(op.Cas is null ? PutStatus.ConflictRisk : PutStatus.CasFailed, op.Target, 0));
                    return;
                }
            }

            _mutablePuts[op.Target] = op;
        }

        op.Callbacks.Add(done);
        _allPuts.Add(op);
        var now = _now;
        if (_cache.Get(op.Target) is { IsFindNode: false } cached
            && cached.Nodes.Any(n => n.Token is not null && now - n.TokenTime <= TokenFreshMs))
        {
            // Only tokens younger than 5 minutes are still valid at the storing nodes (5–10 min lifetime).
            SendPut(op, [.. cached.Nodes.Where(n => now - n.TokenTime <= TokenFreshMs)], extraNodes);
            return;
        }

        var lookup = StartLookup(new LookupKey(op.Target, LookupKind.Get, null), op.Item?.SaltArray);
        lookup.OnCompleted(l => SendPut(op, l.ResultNodes, extraNodes));
    }

    private void SendPut(PutOperation op, IReadOnlyList<Candidate> nodes, IReadOnlyList<DhtNode>? extraNodes)
    {
        if (op.Finished)
        {
            return;
        }

        op.Started = true;
        var targets = PutOperation.WithTokens(nodes).Take(255).ToList();
        foreach (var extra in extraNodes ?? [])
        {
            // Extra nodes need a token we hold for this target (from a cached lookup).
            if (_cache.Get(op.Target)?.Nodes.FirstOrDefault(n => n.Node.EndPoint.Equals(extra.EndPoint) && n.Token is not null) is { } known
                && !targets.Contains(known))
            {
                targets.Add(known);
            }
        }

        if (targets.Count == 0)
        {
            CompletePut(op, new PutResult(PutStatus.NoClosestNodes, op.Target, 0));
            return;
        }

        foreach (var node in targets)
        {
            op.InFlight.Add(Send(op.BuildQuery(Id, node.Token!), node.Node.EndPoint, null, false, op));
            op.Sent++;
        }
    }

    private void OnPutReply(PutOperation op, Pending p, Message message)
    {
        op.InFlight.Remove(p.Tid);
        if (message.Error is { } error)
        {
            op.Errors[error.Code] = op.Errors.GetValueOrDefault(error.Code) + 1;
        }
        else if (!message.ReadOnly)
        {
            op.Successes++;
        }

        CheckPut(op);
    }

    private void CheckPut(PutOperation op)
    {
        if (!op.Finished && op.Started && op.Outcome(op.InFlight.Count == 0) is { } outcome)
        {
            CompletePut(op, outcome);
        }
    }

    private void CompletePut(PutOperation op, PutResult result)
    {
        Log.PutDone(_log, op.Target, result.Status, result.StoredOn, op.Sent);
        op.Finish(result);
        _allPuts.Remove(op);
        if (_mutablePuts.TryGetValue(op.Target, out var current) && current == op)
        {
            _mutablePuts.Remove(op.Target);
        }
    }
}
