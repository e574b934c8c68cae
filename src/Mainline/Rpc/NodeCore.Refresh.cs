// Bucket refresh (BEP 5, "Routing Table"; shared spec §7.3 and the deviation in docs/mainline-design.md).
//
// The reference only looks up its own id: after the join and every 15 minutes. That lookup walks from the bootstrap
// node towards our id, so the contacts it adds (§7.2: only nodes that answered our lookups) all sit in the buckets
// near our id; the far buckets, which cover half, a quarter, … of the network, stay empty. On the real DHT other
// implementations hide this (libtorrent fills its table from incoming queries and refreshes its buckets); in a network
// of our nodes alone every lookup for a random target would start from nodes near the requester, not near the target.
//
// So, as BEP 5 says: once a self-lookup completes (the join, every refresh tick, an id change) and at every refresh
// tick of a node without a bootstrap list, each bucket that is not full and has not changed for a refresh interval
// gets a find_node lookup on a random id in its range, farthest bucket (distance 160) first, down to the bucket of
// our closest known neighbour (nearer buckets are expected empty). One refresh lookup runs at a time, so a joining
// node never bursts; the next starts when the previous one ends. The random ids come from the injected IEntropy.
using Mainline.Routing;

namespace Mainline.Rpc;

internal sealed partial class NodeCore
{
    // The next bucket distance a refresh pass considers (counting down); 0 when no pass is under way.
    private int _refreshCursor;
    private Lookup? _refreshLookup;

    /// <summary>Bucket refresh lookups started (diagnostics and tests).</summary>
    public int RefreshesStarted { get; private set; }

    /// <summary>The refresh lookup running now, if any.</summary>
    internal Lookup? RefreshLookup => _refreshLookup;

    /// <summary>The bucket distance a refresh pass considers next; 0 when no pass is under way.</summary>
    internal int RefreshCursor => _refreshCursor;

    /// <summary>Starts a refresh pass from the farthest bucket (a pass under way starts over from there).</summary>
    private void BeginRefresh()
    {
        if (!_options.BucketRefresh || _stopped || _table.IsEmpty)
        {
            return;
        }

        _refreshCursor = RoutingTable.FarthestBucket;
        if (_refreshLookup is null)
        {
            ContinueRefresh();
        }
    }

    /// <summary>Starts the lookup for the next bucket of the pass that needs one, or ends the pass.</summary>
    private void ContinueRefresh()
    {
        // A loop, not recursion: a lookup with nothing to visit ends inside StartLookup.
        Span<byte> random = stackalloc byte[NodeId.Size];
        while (_refreshLookup is null && _refreshCursor > 0 && !_stopped)
        {
            var closest = _table.ClosestBucket();
            var distance = _refreshCursor--;
            if (closest == 0 || distance < closest)
            {
                _refreshCursor = 0; // the table emptied, or every bucket from ours outwards is done
                return;
            }

            if (!NeedsRefresh(distance))
            {
                continue;
            }

            _entropy.Fill(random);
            RefreshesStarted++;
            var lookup = StartLookup(new LookupKey(_table.RandomIdIn(distance, random), LookupKind.FindNode, null), null);
            if (!lookup.Done)
            {
                lookup.IsRefresh = true;
                _refreshLookup = lookup;
            }
        }
    }

    /// <summary>BEP 5: a bucket that is not full and has not changed for a refresh interval.</summary>
    private bool NeedsRefresh(int distance) =>
        _table.BucketCount(distance) < Limits.K && _table.LastChanged(distance) <= _now - _refreshMs;

    /// <summary>A lookup ended: the refresh pass goes on after its own lookup, and starts after a self-lookup.</summary>
    private void OnLookupFinishedForRefresh(Lookup lookup)
    {
        if (_stopped)
        {
            return;
        }

        if (ReferenceEquals(lookup, _refreshLookup))
        {
            _refreshLookup = null;
            ContinueRefresh();
        }
        else if (lookup.Key is { Kind: LookupKind.FindNode, Salt: null } && lookup.Target == Id)
        {
            BeginRefresh();
        }
    }

    /// <summary>Shutdown drops the pass.</summary>
    private void DropRefresh()
    {
        _refreshCursor = 0;
        _refreshLookup = null;
    }
}
