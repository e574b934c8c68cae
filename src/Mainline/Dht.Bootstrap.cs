using System.Net;
using Mainline.Rpc;

namespace Mainline;

public sealed partial class Dht
{
    /// <summary>Runs (or joins) the find_node lookup on our own id; true when it found at least one node.</summary>
    public async Task<bool> BootstrappedAsync(CancellationToken cancellationToken = default)
    {
        var nodes = await WhenDone(() => _node.Core.StartSelfLookup(), cancellationToken).ConfigureAwait(false);
        return nodes.Count > 0;
    }

    /// <summary>The endpoints of the non-stale routing-table nodes, to persist and pass as
    /// <see cref="DhtOptions.ExtraBootstrap"/> next time.</summary>
    public Task<IReadOnlyList<IPEndPoint>> ExportBootstrapAsync(CancellationToken cancellationToken = default) =>
        _node.InvokeAsync<IReadOnlyList<IPEndPoint>>(
            () => [.. _node.Core.Table.Export(_node.Core.Now).Select(n => n.EndPoint)], cancellationToken);

    /// <summary>The 20 nodes closest to <paramref name="target"/> that a find_node lookup heard of (claims, secure first).</summary>
    public Task<IReadOnlyList<DhtNode>> FindNodeAsync(NodeId target, CancellationToken cancellationToken = default) =>
        WhenDone(() => _node.Core.StartLookup(new LookupKey(target, LookupKind.FindNode, null), null), cancellationToken);

    /// <summary>The store set of <paramref name="target"/>: nodes that answered a get lookup with a token (edk rule).</summary>
    public Task<IReadOnlyList<DhtNode>> GetClosestNodesAsync(NodeId target, CancellationToken cancellationToken = default) =>
        WhenDone(() => _node.Core.StartLookup(new LookupKey(target, LookupKind.Get, null), null), cancellationToken);

    private async Task<IReadOnlyList<DhtNode>> WhenDone(Func<Lookup> start, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<IReadOnlyList<DhtNode>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _node.InvokeAsync(() =>
        {
            start().OnCompleted(l => tcs.TrySetResult([.. l.ResultNodes.Select(c => c.Node)]));
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
