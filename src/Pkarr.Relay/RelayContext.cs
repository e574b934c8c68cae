// What every request handler of the relay shares: its settings, the client over its DHT node and store, and the
// services around them. One per relay, registered as a singleton.

using Mainline;
using Pkarr.Client;
using Pkarr.Client.Caching;
using Pkarr.Packets;
using Pkarr.Relay.Metrics;
using Pkarr.Relay.RateLimiting;
using Pkarr.Relay.Republishing;

namespace Pkarr.Relay;

internal sealed class RelayContext(
    RelayOptions options, PkarrClient client, IPkarrCache? store, string storeLocation, Dht dht,
    RelayMetrics metrics, RelayRateLimits limits, TimeProvider time) : IAsyncDisposable
{
    public RelayOptions Options { get; } = options;

    public PkarrClient Client { get; } = client;

    /// <summary>The store; null when its size is 0 (every GET then goes to the DHT).</summary>
    public IPkarrCache? Store { get; } = store;

    public string StoreLocation { get; } = storeLocation;

    public Dht Dht { get; } = dht;

    public RelayMetrics Metrics { get; } = metrics;

    public RelayRateLimits Limits { get; } = limits;

    public TimeProvider Time { get; } = time;

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    /// <summary>Keeps served and published packets alive on the DHT; null when switched off.</summary>
    public RelayRepublisher? Republisher { get; set; }

    public uint MinimumTtl => Options.Cache.MinimumTtl;

    public uint MaximumTtl => Options.Cache.MaximumTtl;

    /// <summary>Records that a packet was served or published, for the republisher's "most recently used first".</summary>
    public void Used(SignedPacket packet) => Republisher?.Track(packet);

    public async ValueTask DisposeAsync()
    {
        if (Republisher is not null)
        {
            await Republisher.DisposeAsync().ConfigureAwait(false);
        }

        await Client.DisposeAsync().ConfigureAwait(false);
        Limits.Dispose();
        Metrics.Dispose();
    }
}
