using Mainline.Krpc;
using Mainline.Rpc;

namespace Mainline;

public sealed partial class Dht
{
    /// <summary>Stores a byte-string value as a BEP 44 immutable item; its target is SHA1(bencode(value)).</summary>
    /// <exception cref="ArgumentException">When the value is longer than 1000 bytes.</exception>
    public Task<PutResult> PutImmutableAsync(byte[] value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > MutableItem.MaxValueLength)
        {
            throw Error.ValueTooLarge(value.Length, nameof(value));
        }

        var encoded = KrpcCodec.EncodeString(value);
        return Put(new PutOperation(PutKind.Immutable, Bep44.ImmutableTarget(encoded)) { EncodedValue = encoded }, cancellationToken);
    }

    /// <summary>Stores a signed mutable item on its store set.</summary>
    /// <param name="item">The signed item.</param>
    /// <param name="cas">The seq the writer last read; storing nodes answer 301 when it differs from theirs.</param>
    /// <param name="cancellationToken">Stops waiting (the put itself still completes).</param>
    public Task<PutResult> PutMutableAsync(MutableItem item, long? cas = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        return Put(new PutOperation(PutKind.Mutable, item.Target) { Item = item, Cas = cas }, cancellationToken);
    }

    /// <summary>Announces that we have <paramref name="infoHash"/> on <paramref name="port"/> (null: our UDP source port).</summary>
    public Task<PutResult> AnnouncePeerAsync(NodeId infoHash, int? port = null, CancellationToken cancellationToken = default) =>
        Put(new PutOperation(PutKind.Announce, infoHash) { AnnouncePort = port }, cancellationToken);

    private async Task<PutResult> Put(PutOperation op, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<PutResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _node.InvokeAsync(() =>
        {
            _node.Core.StartPut(op, result =>
            {
                if (result.Stopped)
                {
                    tcs.TrySetException(Error.Stopped());
                }
                else
                {
                    tcs.TrySetResult(result);
                }
            });
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
