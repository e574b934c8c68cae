using System.Globalization;
using System.Net;
using Mainline;
using Pkarr.Client;
using Pkarr.Client.Caching;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests;

/// <summary>The client end to end on an in-process loopback testnet: publish via the DHT, resolve via the DHT.</summary>
public sealed class PkarrClientTestnetTests
{
    internal static PkarrClientOptions DhtOnly(Testnet testnet) => new()
    {
        UseRelays = false,
        Bootstrap = [.. testnet.Bootstrap.Select(e => e.ToString())],
        DhtBindAddress = IPAddress.Loopback,
        DhtPort = 0,
        DhtMode = DhtMode.Client,
    };

    [Fact]
    public async Task A_packet_published_by_one_client_is_resolved_by_another()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var testnet = await Testnet.CreateAsync(12, cancellationToken: timeout.Token);
        await using var publisher = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token);
        await using var resolver = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token);
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.1")).Txt("_hi", "hello").Sign(keypair);

        var published = await publisher.PublishAsync(packet, cancellationToken: timeout.Token);
        Assert.True(published.Succeeded, published.Error?.ToString());
        Assert.NotNull(published.Dht);
        Assert.True(published.StoredOn >= 1 && published.StoredOn == published.Dht.StoredOn);
        Assert.Empty(published.Relays);

        var resolved = await resolver.ResolveAsync(keypair.PublicKey, cancellationToken: timeout.Token);
        Assert.True(resolved.Found, resolved.Error?.ToString());
        Assert.True(resolved.Packet.IsSameAs(packet));

        // The resolver cached it: CacheOnly answers without the network.
        var cached = await resolver.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly, timeout.Token);
        Assert.True(cached.Found);
        Assert.True(cached.Packet.IsSameAs(packet));
    }

    [Fact]
    public async Task An_unknown_key_is_not_found_and_cache_only_never_asks_the_dht()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var testnet = await Testnet.CreateAsync(8, cancellationToken: timeout.Token);
        await using var client = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token);
        using var keypair = Keypair.Random();

        var result = await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
        Assert.Equal(ResolveErrorKind.NotFound, result.Error?.Kind);
        Assert.Null(await client.ResolvePacketAsync(keypair.PublicKey, cancellationToken: timeout.Token));

        // Publish from a node of the testnet directly: a CacheOnly resolve must still say not found.
        var packet = SignedPacket.Builder().Txt("_t", "x").Sign(keypair);
        Assert.True(DhtPackets.TryToMutableItem(packet, out var item));
        Assert.True((await testnet.Nodes[0].PutMutableAsync(item, cancellationToken: timeout.Token)).Succeeded);
        Assert.Equal(ResolveErrorKind.NotFound, (await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheOnly, timeout.Token)).Error?.Kind);
        Assert.True((await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.CacheFirst, timeout.Token)).Found);
    }

    [Fact]
    public async Task A_signed_value_that_is_not_dns_is_an_invalid_packet_with_its_seq_not_a_miss()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var testnet = await Testnet.CreateAsync(10, cancellationToken: timeout.Token);
        await using var client = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token);
        using var keypair = Keypair.Random();
        var valid = SignedPacket.Builder().Txt("_t", "old").Timestamp(new Timestamp(1_000_000_000)).Sign(keypair);
        Assert.True((await client.PublishAsync(valid, cancellationToken: timeout.Token)).Succeeded);

        // A newer item with the same key whose value is not a DNS message (another program's BEP 44 value).
        var junk = MutableItem.Sign(keypair.SecretKey(), "not dns"u8.ToArray(), 2_000_000_000);
        Assert.True((await testnet.Nodes[3].PutMutableAsync(junk, cancellationToken: timeout.Token)).Succeeded);

        await using var other = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token);
        var result = await other.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
        Assert.Equal(ResolveError.InvalidSignedPacket(2_000_000_000), result.Error);
        var thrown = await Assert.ThrowsAsync<ResolveException>(() => other.ResolvePacketAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token));
        Assert.Equal(2_000_000_000, thrown.ResolveError.Seq);
    }

    [Fact]
    public async Task Concurrent_resolves_of_one_key_share_one_network_query()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var testnet = await Testnet.CreateAsync(10, cancellationToken: timeout.Token);
        await using var client = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token);
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().Txt("_t", "shared").Sign(keypair);
        Assert.True(DhtPackets.TryToMutableItem(packet, out var item));
        Assert.True((await testnet.Nodes[0].PutMutableAsync(item, cancellationToken: timeout.Token)).Succeeded);

        var resolves = Enumerable.Range(0, 16).Select(_ => client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token)).ToArray();
        var results = await Task.WhenAll(resolves);
        Assert.All(results, r => Assert.True(r.Found && r.Packet.IsSameAs(packet)));
        // One query: every caller got the very same result object.
        Assert.All(results, r => Assert.Same(results[0], r));

        // Once it completed, the next resolve runs a new query.
        var again = await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
        Assert.NotSame(results[0], again);
    }

    [Fact]
    public async Task Update_reads_edits_signs_newer_and_publishes()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var testnet = await Testnet.CreateAsync(10, cancellationToken: timeout.Token);
        await using var client = await PkarrClient.CreateAsync(DhtOnly(testnet), timeout.Token);
        using var keypair = Keypair.Random();

        var first = await client.UpdateAsync(keypair, (current, builder) =>
        {
            Assert.Null(current);
            builder.Txt("_n", "1");
        }, timeout.Token);
        Assert.True(first.Succeeded, first.Error?.ToString());

        var second = await client.UpdateAsync(keypair, (current, builder) =>
        {
            Assert.NotNull(current);
            foreach (var record in current.AllResourceRecords)
            {
                builder.Record(record);
            }

            builder.Txt("_n", "2");
        }, timeout.Token);
        Assert.True(second.Succeeded, second.Error?.ToString());
        Assert.True(second.Packet!.Timestamp > first.Packet!.Timestamp);
        Assert.Equal(2, second.Packet.ResourceRecords("_n").Count());
    }
}
