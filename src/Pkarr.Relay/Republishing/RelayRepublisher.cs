// Placeholder until the relay republisher lands: tracks nothing.

using Pkarr.Packets;

namespace Pkarr.Relay.Republishing;

internal sealed class RelayRepublisher : IAsyncDisposable
{
    private int _tracked;

    public int Count => _tracked;

    public void Track(SignedPacket packet) => _tracked += packet is null ? 0 : 1;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
