using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Mainline.Rpc;

namespace Mainline;

public sealed partial class Dht
{
    /// <summary>Streams the distinct verified mutable items for (<paramref name="publicKey"/>, <paramref name="salt"/>)
    /// in arrival order: an item that many nodes return (same key, seq, value and signature) comes once. Completes
    /// when the lookup ends.</summary>
    /// <param name="publicKey">The 32-byte Ed25519 public key.</param>
    /// <param name="salt">The salt; empty for none.</param>
    /// <param name="moreRecentThan">Only items with a higher seq (also sent to nodes as <c>seq</c>, so that nodes
    /// holding nothing newer answer without the value).</param>
    /// <param name="cancellationToken">Stops the stream.</param>
    /// <exception cref="ArgumentException">When the key is not 32 bytes or the salt is longer than 64.</exception>
    public IAsyncEnumerable<MutableItem> GetMutableAsync(
        ReadOnlyMemory<byte> publicKey, ReadOnlyMemory<byte> salt = default, long? moreRecentThan = null,
        CancellationToken cancellationToken = default) =>
        StreamMutable(publicKey, salt, moreRecentThan, null, cancellationToken);

    /// <summary>A mutable get whose items stream as in <see cref="GetMutableAsync"/> and whose
    /// <see cref="MutableGet.Diagnostics"/> complete when the lookup ends. The lookup starts when the result is enumerated.</summary>
    /// <exception cref="ArgumentException">When the key is not 32 bytes or the salt is longer than 64.</exception>
    public MutableGet GetMutable(ReadOnlyMemory<byte> publicKey, ReadOnlyMemory<byte> salt = default, long? moreRecentThan = null)
    {
        _ = ValidKey(publicKey);
        _ = ValidSalt(salt);
        return new MutableGet((diagnostics, cancellationToken) => StreamMutable(publicKey, salt, moreRecentThan, diagnostics, cancellationToken));
    }

    /// <summary>The most recent item (highest seq, then greatest value) once the whole lookup has ended; null when
    /// no node holds one.</summary>
    /// <exception cref="ArgumentException">When the key is not 32 bytes or the salt is longer than 64.</exception>
    public async Task<MutableItem?> GetMutableMostRecentAsync(
        ReadOnlyMemory<byte> publicKey, ReadOnlyMemory<byte> salt = default, CancellationToken cancellationToken = default) =>
        (await GetMutableDetailedAsync(publicKey, salt, null, cancellationToken).ConfigureAwait(false)).MostRecent;

    /// <summary>Runs a whole mutable get: every distinct verified item, the most recent one and the lookup's
    /// diagnostics (§8.3: values, no values, no more recent, invalid values and responses, errors, timeouts).</summary>
    /// <exception cref="ArgumentException">When the key is not 32 bytes or the salt is longer than 64.</exception>
    public async Task<GetMutableOutcome> GetMutableDetailedAsync(
        ReadOnlyMemory<byte> publicKey, ReadOnlyMemory<byte> salt = default, long? moreRecentThan = null,
        CancellationToken cancellationToken = default)
    {
        var diagnostics = new TaskCompletionSource<GetDiagnostics>(TaskCreationOptions.RunContinuationsAsynchronously);
        var items = new List<MutableItem>();
        MutableItem? best = null;
        await foreach (var item in StreamMutable(publicKey, salt, moreRecentThan, diagnostics, cancellationToken).ConfigureAwait(false))
        {
            items.Add(item);
            if (best is null || item.IsMoreRecentThan(best))
            {
                best = item;
            }
        }

        return new GetMutableOutcome(items, best, await diagnostics.Task.WaitAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The one mutable get behind the public ones; <paramref name="diagnostics"/>, when given, receives the
    /// lookup's counters when it ends.</summary>
    private IAsyncEnumerable<MutableItem> StreamMutable(
        ReadOnlyMemory<byte> publicKey, ReadOnlyMemory<byte> salt, long? moreRecentThan,
        TaskCompletionSource<GetDiagnostics>? diagnostics, CancellationToken cancellationToken)
    {
        var key = new LookupKey(MutableItem.TargetOf(ValidKey(publicKey), ValidSalt(salt)), LookupKind.Get, moreRecentThan);
        Action<Lookup>? started = diagnostics is null
            ? null
            : lookup => lookup.OnCompleted(done => diagnostics.TrySetResult(done.Diagnostics with { }));
        return Items(Stream(key, salt.IsEmpty ? null : salt.ToArray(), started, cancellationToken), moreRecentThan, cancellationToken);

        static async IAsyncEnumerable<MutableItem> Items(
            IAsyncEnumerable<LookupValue> values, long? moreRecentThan, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var value in values.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (value is MutableValue m && (moreRecentThan is null || m.Item.Seq > moreRecentThan))
                {
                    yield return m.Item;
                }
            }
        }
    }

    private static ReadOnlySpan<byte> ValidKey(ReadOnlyMemory<byte> publicKey) =>
        publicKey.Length == 32 ? publicKey.Span : throw Error.InvalidLength(nameof(publicKey), 32, publicKey.Length);

    private static ReadOnlySpan<byte> ValidSalt(ReadOnlyMemory<byte> salt) =>
        salt.Length <= MutableItem.MaxSaltLength ? salt.Span : throw Error.SaltTooLarge(salt.Length, nameof(salt));

    /// <summary>The first immutable value whose SHA-1 matches <paramref name="target"/> (its byte-string content), or null.</summary>
    public async Task<byte[]?> GetImmutableAsync(NodeId target, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await foreach (var value in Stream(new LookupKey(target, LookupKind.Get, null), null, null, cts.Token).ConfigureAwait(false))
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
        await foreach (var value in Stream(new LookupKey(infoHash, LookupKind.GetPeers, null), null, null, cancellationToken).ConfigureAwait(false))
        {
            if (value is PeersValue p)
            {
                yield return p.Peers;
            }
        }
    }

    /// <summary>Starts (or joins) a lookup on the loop; its values go to <paramref name="values"/>.</summary>
    private void StartLookup(LookupKey key, byte[]? salt, ChannelWriter<LookupValue> values, Action<Lookup>? started)
    {
        var posted = _node.Post(() =>
        {
            try
            {
                var lookup = _node.Core.StartLookup(key, salt);
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
    }

    /// <summary>Starts (or joins) the lookup for <paramref name="key"/> and streams its values.</summary>
    private async IAsyncEnumerable<LookupValue> Stream(
        LookupKey key, byte[]? salt, Action<Lookup>? started, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<LookupValue>(new UnboundedChannelOptions { SingleReader = true });
        StartLookup(key, salt, channel.Writer, started);
        await foreach (var value in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return value;
        }
    }
}
