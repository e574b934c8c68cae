using System.Collections.Concurrent;
using Pkarr.Client.Republishing;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Republishing;

/// <summary>An in-memory network: one packet per key, puts refused when older (as nodes do), a holder count the test
/// sets, and counters of puts and of puts in flight at once.</summary>
internal sealed class FakeRepublishNetwork : IRepublishNetwork
{
    private readonly ConcurrentDictionary<PublicKey, SignedPacket> _stored = new();
    private int _inFlight;
    private int _maxInFlight;
    private int _puts;

    /// <summary>Holders reported after a put; the argument is the number of puts of that key so far.</summary>
    public Func<int, int> Holders { get; set; } = _ => 20;

    /// <summary>How long a put takes, in real time (0: completes at once).</summary>
    public TimeSpan PutDuration { get; set; }

    public ConcurrentDictionary<PublicKey, int> PutsPerKey { get; } = new();

    public int Puts => Volatile.Read(ref _puts);

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public void Store(SignedPacket packet) => _stored[packet.PublicKey] = packet;

    public SignedPacket? Stored(PublicKey key) => _stored.TryGetValue(key, out var p) ? p : null;

    public Task<ResolveResult> ResolveAsync(PublicKey key, CancellationToken cancellationToken) =>
        Task.FromResult(_stored.TryGetValue(key, out var p) ? ResolveResult.Of(CachedPacket.Seen(p)) : ResolveResult.NotFound);

    public Task<SignedPacket?> PeekCachedAsync(PublicKey key, CancellationToken cancellationToken) => Task.FromResult<SignedPacket?>(null);

    public async Task<PublishResult> PublishAsync(SignedPacket packet, Timestamp? expected, CancellationToken cancellationToken)
    {
        int now = Interlocked.Increment(ref _inFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
        {
        }

        try
        {
            if (PutDuration > TimeSpan.Zero)
            {
                await Task.Delay(PutDuration, cancellationToken);
            }

            Interlocked.Increment(ref _puts);
            PutsPerKey.AddOrUpdate(packet.PublicKey, 1, (_, n) => n + 1);
            var error = _stored.TryGetValue(packet.PublicKey, out var held) && held.MoreRecentThan(packet) ? PublishError.NotMostRecent : null;
            if (error is null)
            {
                _stored[packet.PublicKey] = packet;
            }

            return new PublishResult { PublicKey = packet.PublicKey, Packet = packet, Error = error, StoredOn = error is null ? 20 : 0 };
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public Task<HolderCount?> CountHoldersAsync(SignedPacket packet, CancellationToken cancellationToken) =>
        Task.FromResult<HolderCount?>(new HolderCount(Holders(PutsPerKey.GetValueOrDefault(packet.PublicKey)), null));
}
