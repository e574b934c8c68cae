using System.Net;
using Mainline;
using Pkarr.Client;
using Pkarr.Client.Republishing;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay.Republishing;

namespace Pkarr.Relay.Tests.Republishing;

/// <summary>The relay's republisher: a most-recently-used set of keys feeding the client's Republisher.</summary>
public sealed class RelayRepublisherTests
{
    [Fact]
    public async Task Track_keeps_at_most_MaxKeys_keys_most_recently_used_first()
    {
        await using var client = OfflineClient();
        await using var relay = new RelayRepublisher(new Republisher(client), maxKeys: 3, TimeProvider.System, metrics: null);
        var (a, b, c, d) = (Packet(), Packet(), Packet(), Packet());

        relay.Track(a);
        relay.Track(b);
        relay.Track(c);
        Assert.Equal([c.PublicKey, b.PublicKey, a.PublicKey], relay.RecentKeys());

        relay.Track(a); // a GET of a key already in the set moves it to the front, nothing leaves
        Assert.Equal([a.PublicKey, c.PublicKey, b.PublicKey], relay.RecentKeys());
        Assert.Equal(3, relay.Count);

        relay.Track(d); // a fourth key pushes out the least recently used
        Assert.Equal([d.PublicKey, a.PublicKey, c.PublicKey], relay.RecentKeys());
        Assert.Equal(3, relay.Count);
    }

    [Fact]
    public async Task A_key_dropped_from_the_set_is_removed_from_the_republisher()
    {
        await using var client = OfflineClient();
        await using var relay = new RelayRepublisher(new Republisher(client), maxKeys: 2, TimeProvider.System, metrics: null);
        var (a, b, c) = (Packet(), Packet(), Packet());

        relay.Track(a);
        relay.Track(b);
        Assert.Empty(relay.Inner.Keys); // Track never touches the Republisher itself
        relay.Sync();
        Assert.Equal(Set(a, b), relay.Inner.Keys.ToHashSet());
        Assert.True(relay.Inner.LatestPacket(a.PublicKey)!.IsSameAs(a));

        relay.Track(c);
        relay.Sync();
        Assert.Equal(Set(b, c), relay.Inner.Keys.ToHashSet());
        Assert.Null(relay.Inner.LatestPacket(a.PublicKey));

        // Back in the set: back in the Republisher.
        relay.Track(a);
        relay.Sync();
        Assert.Equal(Set(c, a), relay.Inner.Keys.ToHashSet());
    }

    [Fact]
    public async Task The_republisher_holds_exactly_the_set_after_any_sequence_of_tracks_and_batches()
    {
        await using var client = OfflineClient();
        await using var relay = new RelayRepublisher(new Republisher(client), maxKeys: 4, TimeProvider.System, metrics: null);
        var packets = Enumerable.Range(0, 10).Select(_ => Packet()).ToArray();
        var random = new Random(11);
        for (int step = 0; step < 300; step++)
        {
            relay.Track(packets[random.Next(packets.Length)]);
            if (random.Next(5) == 0)
            {
                relay.Sync();
                Assert.Equal(relay.RecentKeys().ToHashSet(), relay.Inner.Keys.ToHashSet());
            }
        }

        relay.Sync();
        Assert.Equal(4, relay.Count);
        Assert.Equal(relay.RecentKeys().ToHashSet(), relay.Inner.Keys.ToHashSet());
    }

    [Fact]
    public async Task A_newer_packet_tracked_before_the_batch_is_the_one_handed_over()
    {
        await using var client = OfflineClient();
        await using var relay = new RelayRepublisher(new Republisher(client), maxKeys: 10, TimeProvider.System, metrics: null);
        using var keypair = Keypair.Random();
        var older = SignedPacket.Builder().Txt("_v", "1").Timestamp(new Timestamp(1_000_000)).Sign(keypair);
        var newer = SignedPacket.Builder().Txt("_v", "2").Timestamp(new Timestamp(2_000_000)).Sign(keypair);

        relay.Track(newer);
        relay.Track(older); // an older packet never replaces a newer one
        relay.Sync();
        Assert.True(relay.Inner.LatestPacket(keypair.PublicKey)!.IsSameAs(newer));
    }

    [Fact]
    public async Task Disabled_settings_give_no_republisher_and_bad_settings_are_refused()
    {
        await using var client = OfflineClient();
        var options = new RelayOptions();
        options.Republisher.Enabled = false;
        Assert.Null(RelayRepublisher.Create(options, client, metrics: null, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));

        options.Republisher.Enabled = true;
        await using (var enabled = RelayRepublisher.Create(options, client, metrics: null, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance))
        {
            Assert.NotNull(enabled);
            Assert.Equal(options.Republisher.Interval, enabled.Inner.Options.Interval);
            Assert.Equal(options.Republisher.Concurrency, enabled.Inner.Options.MaxConcurrency);
            Assert.Equal(new RepublisherOptions().MinimumHolders, enabled.Inner.Options.MinimumHolders);
        }

        options.Republisher.MaxKeys = 0;
        var error = Assert.Throws<ArgumentException>(() => RelayRepublisher.Create(options, client, metrics: null, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        Assert.Contains("max_keys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relay_with_the_republisher_on_tracks_what_it_stores_and_serves()
    {
        await using var relay = await RelayFixture.StartAsync(o => o.Republisher.Enabled = true);
        var packets = new[] { Packet(), Packet() };
        foreach (var packet in packets)
        {
            using var body = new ByteArrayContent(packet.RelayPayload.ToArray());
            using var put = await relay.Http.PutAsync(packet.PublicKey.ToZ32(), body);
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        using (var get = await relay.Http.GetAsync(packets[0].PublicKey.ToZ32()))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }

        // The pump hands the set to the Republisher within a second; the gauge counts the set.
        double? keys = null;
        for (int attempt = 0; attempt < 20 && keys != 2; attempt++)
        {
            var text = await relay.Http.GetStringAsync("metrics");
            keys = Metrics.PrometheusSample.Parse(text).FirstOrDefault(s => s.Name == "pkarr_relay_republisher_keys")?.Value;
            await Task.Delay(TimeSpan.FromMilliseconds(400));
        }

        Assert.Equal(2, keys);
    }

    [Fact]
    public async Task A_cycle_puts_the_tracked_packets_on_the_DHT_and_not_the_dropped_ones()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var testnet = await Testnet.CreateAsync(10, cancellationToken: timeout.Token);
        await using var client = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token);
        var options = new RepublisherOptions
        {
            MinimumHolders = 3,
            MaxAttempts = 3,
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(50),
        };
        await using var relay = new RelayRepublisher(new Republisher(client, options), maxKeys: 2, TimeProvider.System, metrics: null);
        var (dropped, kept1, kept2) = (Packet(), Packet(), Packet());

        // Packets the relay tracks but nobody has put: the DHT has none of them yet.
        await using (var before = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token))
        {
            foreach (var packet in new[] { dropped, kept1, kept2 })
            {
                Assert.Equal(ResolveErrorKind.NotFound, (await before.ResolveAsync(packet.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token)).Error?.Kind);
            }
        }

        relay.Track(dropped);
        relay.Track(kept1);
        relay.Track(kept2); // pushes out the least recently used
        relay.Sync();
        var report = await relay.Inner.RunCycleAsync(timeout.Token);

        Assert.Equal(2, report.Keys.Count);
        Assert.Null(report.For(dropped.PublicKey));
        foreach (var packet in new[] { kept1, kept2 })
        {
            var result = report.For(packet.PublicKey);
            Assert.NotNull(result);
            Assert.Equal(RepublishOutcome.Republished, result.Outcome);
            Assert.True(result.Holders >= 3, $"{result.Holders} holders");
            Assert.True(result.Packet!.IsSameAs(packet));
        }

        await using var after = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token);
        foreach (var packet in new[] { kept1, kept2 })
        {
            var resolved = await after.ResolveAsync(packet.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
            Assert.True(resolved.Found, resolved.Error?.ToString());
            Assert.True(resolved.Packet.IsSameAs(packet));
        }

        Assert.Equal(ResolveErrorKind.NotFound, (await after.ResolveAsync(dropped.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token)).Error?.Kind);
    }

    private static PkarrClientOptions DhtOnly(Testnet testnet) => new()
    {
        UseRelays = false,
        Bootstrap = [.. testnet.Bootstrap.Select(e => e.ToString())],
        DhtBindAddress = IPAddress.Loopback,
        DhtPort = 0,
        DhtMode = DhtMode.Client,
    };

    /// <summary>A client that is never asked to do anything here: the Republisher needs one, these tests never run a cycle.</summary>
    private static PkarrClient OfflineClient() => new(new PkarrClientOptions
    {
        UseDht = false,
        UseRelays = true,
        Relays = [new Uri("http://127.0.0.1:9/")],
    });

    private static SignedPacket Packet()
    {
        using var keypair = Keypair.Random();
        return SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.7")).Sign(keypair);
    }

    private static HashSet<PublicKey> Set(params SignedPacket[] packets) => [.. packets.Select(p => p.PublicKey)];
}
