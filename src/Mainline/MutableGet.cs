namespace Mainline;

/// <summary>
/// A mutable get that streams its verified items (as <see cref="Dht.GetMutableAsync"/>) and also reports the lookup's
/// <see cref="Diagnostics"/> when it ends, for callers that answer early from the first item but need to know, when
/// nothing came, whether nodes were queried, answered and answered usefully.
/// </summary>
public sealed class MutableGet : IAsyncEnumerable<MutableItem>
{
    private readonly Func<TaskCompletionSource<GetDiagnostics>, CancellationToken, IAsyncEnumerable<MutableItem>> _start;
    private readonly TaskCompletionSource<GetDiagnostics> _diagnostics = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal MutableGet(Func<TaskCompletionSource<GetDiagnostics>, CancellationToken, IAsyncEnumerable<MutableItem>> start) =>
        _start = start;

    /// <summary>The lookup's counters; completes when the lookup ends, and never when the stream is abandoned before.</summary>
    public Task<GetDiagnostics> Diagnostics => _diagnostics.Task;

    /// <summary>Starts (or joins) the lookup and streams its distinct verified items.</summary>
    public IAsyncEnumerator<MutableItem> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        _start(_diagnostics, cancellationToken).GetAsyncEnumerator(cancellationToken);
}
