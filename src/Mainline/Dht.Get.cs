using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Mainline.Rpc;

namespace Mainline;

public sealed partial class Dht
{
    /// <summary>Streams verified mutable items for (<paramref name="publicKey"/>, <paramref name="salt"/>) as replies
    /// arrive (arrival order, one per node holding it); completes when the lookup ends.</summary>
    /// <param name="publicKey">The 32-byte Ed25519 public key.</param>
    /// <param name="salt">The salt, or null/empty for none.</param>
    /// <param name="moreRecentThan">Only items with a higher seq (also sent to nodes as <c>seq</c>).</param>
    /// <param name="cancellationToken">Stops the stream.</param>
    public async IAsyncEnumerable<MutableItem> GetMutableAsync(
        byte[] publicKey, byte[]? salt = null, long? moreRecentThan = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        salt = salt is { Length: > 0 } ? salt : null;
        var target = MutableItem.TargetOf(publicKey, salt);
        await foreach (var value in Stream(new LookupKey(target, LookupKind.Get, moreRecentThan), salt, cancellationToken).ConfigureAwait(false))
        {
            if (value is MutableValue m && (moreRecentThan is null || m.Item.Seq > moreRecentThan))
            {
                yield return m.Item;
            }
        }
    }

    /// <summary>The most recent item (highest seq, then greatest value) after the whole lookup; null when none.</summary>
    public async Task<MutableItem?> GetMutableMostRecentAsync(
        byte[] publicKey, byte[]? salt = null, CancellationToken cancellationToken = default)
    {
        MutableItem? best = null;
        await foreach (var item in GetMutableAsync(publicKey, salt, null, cancellationToken).ConfigureAwait(false))
        {
            if (best is null || item.IsMoreRecentThan(best))
            {
                best = item;
            }
        }

        return best;
    }

    /// <summary>Runs a whole mutable get and returns every verified item, the most recent one and the lookup's
    /// diagnostics (§8.3: values, no values, no more recent, invalid values and responses, errors, timeouts).</summary>
    public async Task<GetMutableOutcome> GetMutableDetailedAsync(
        byte[] publicKey, byte[]? salt = null, long? moreRecentThan = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        salt = salt is { Length: > 0 } ? salt : null;
        var key = new LookupKey(MutableItem.TargetOf(publicKey, salt), LookupKind.Get, moreRecentThan);
        var channel = Channel.CreateUnbounded<LookupValue>(new UnboundedChannelOptions { SingleReader = true });
        var diagnostics = new TaskCompletionSource<GetDiagnostics>(TaskCreationOptions.RunContinuationsAsynchronously);
        StartLookup(key, salt, channel.Writer, lookup => lookup.OnCompleted(l => diagnostics.TrySetResult(l.Diagnostics with { })));
        var items = new List<MutableItem>();
        MutableItem? best = null;
        await foreach (var value in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (value is MutableValue { Item: var item } && (moreRecentThan is null || item.Seq > moreRecentThan))
            {
                items.Add(item);
                if (best is null || item.IsMoreRecentThan(best))
                {
                    best = item;
                }
            }
        }

        return new GetMutableOutcome(items, best, await diagnostics.Task.WaitAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The first immutable value whose SHA-1 matches <paramref name="target"/> (its byte-string content), or null.</summary>
    public async Task<byte[]?> GetImmutableAsync(NodeId target, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await foreach (var value in Stream(new LookupKey(target, LookupKind.Get, null), null, cts.Token).ConfigureAwait(false))
        {
            if (value is ImmutableValue v)
            {
                await cts.CancelAsync().ConfigureAwait(false);
                return Bep44.TryStringContent(v.EncodedValue) ?? v.EncodedValue;
            }
        }

        return null;
    }

    /// <summary>Streams peer lists for <paramref name="infoHash"/>, one list per replying node.</summary>
    public async IAsyncEnumerable<IReadOnlyList<IPEndPoint>> GetPeersAsync(
        NodeId infoHash, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var value in Stream(new LookupKey(infoHash, LookupKind.GetPeers, null), null, cancellationToken).ConfigureAwait(false))
        {
            if (value is PeersValue p)
            {
                yield return p.Peers;
            }
        }
    }

    /// <summary>
    /// Starts (or joins) a lookup whose values go to <paramref name="values"/>. This thread queues the command,
    /// sends the lookup's first query itself, and only then wakes the loop, which starts the rest of the lookup;
    /// the caller goes straight to reading the channel. So the first datagram does not wait for the loop thread
    /// to wake, and the first value does not wait for a round trip through the thread pool for the command's
    /// acknowledgement.
    /// </summary>
    private void StartLookup(LookupKey key, byte[]? salt, ChannelWriter<LookupValue> values, Action<Lookup>? started)
    {
        var first = _node.PrepareFirstQuery(key);
        var posted = _node.Post(wake: first is null, action: () =>
        {
            try
            {
                var lookup = _node.StartLookup(key, salt, first);
                lookup.Subscribe(values);
                started?.Invoke(lookup);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                values.TryComplete(e);
            }
        });
        if (!posted)
        {
            throw Error.Stopped();
        }

        if (first is not null)
        {
            _node.SendFirst(first);
            _node.Wake();
        }
    }

    private async IAsyncEnumerable<LookupValue> Stream(
        LookupKey key, byte[]? salt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<LookupValue>(new UnboundedChannelOptions { SingleReader = true });
        StartLookup(key, salt, channel.Writer, null);
        await foreach (var value in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return value;
        }
    }
}
