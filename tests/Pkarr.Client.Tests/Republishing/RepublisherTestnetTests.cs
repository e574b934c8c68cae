using Mainline;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Client.Republishing;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Republishing;

/// <summary>The republisher on an in-process loopback testnet: real puts, real holder counts.</summary>
public sealed class RepublisherTestnetTests
{
    private static RepublisherOptions Small(int minimumHolders) => new()
    {
        MinimumHolders = minimumHolders,
        MaxAttempts = 3,
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>How many testnet nodes return <paramref name="packet"/>, asked by a node of its own.</summary>
    private static async Task<int> Holders(Dht dht, SignedPacket packet, CancellationToken cancellationToken)
    {
        var outcome = await dht.GetMutableDetailedAsync(packet.PublicKey.Bytes.ToArray(), default, packet.Timestamp.AsSeq - 1, cancellationToken);
        Assert.All(outcome.Items, i => Assert.Equal(packet.Timestamp.AsSeq, i.Seq));
        return outcome.Diagnostics.Values;
    }

    [Fact]
    public async Task A_key_whose_packet_every_node_dropped_is_back_within_one_cycle()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        // The nodes' clock is fake: moving it past the 2 h item lifetime makes every node drop every item.
        var nodesClock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var testnet = await Testnet.CreateAsync(12, seeded: true, nodesClock, timeout.Token);
        await using var client = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token);
        await using var republisher = new Republisher(client, Small(5));
        using var held = Keypair.Random();
        using var other = Keypair.Random();
        var heldPacket = SignedPacket.Builder().Txt("_t", "held").Sign(held);
        var otherPacket = SignedPacket.Builder().Txt("_t", "public only").Sign(other);
        Assert.True((await client.PublishAsync(heldPacket, cancellationToken: timeout.Token)).Succeeded);
        Assert.True((await client.PublishAsync(otherPacket, cancellationToken: timeout.Token)).Succeeded);
        republisher.AddKey(held);
        republisher.AddKey(other.PublicKey);

        // A first pass learns both packets from the network.
        var first = await republisher.RunCycleAsync(timeout.Token);
        Assert.All(first.Keys, k => Assert.Equal(RepublishOutcome.Republished, k.Outcome));

        nodesClock.Advance(ServerSettingsLifetime + TimeSpan.FromMinutes(1));
        await using (var witness = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token))
        {
            Assert.Equal(ResolveErrorKind.NotFound, (await witness.ResolveAsync(held.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token)).Error?.Kind);
            Assert.Equal(ResolveErrorKind.NotFound, (await witness.ResolveAsync(other.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token)).Error?.Kind);
        }

        var report = await republisher.RunCycleAsync(timeout.Token);
        foreach (var (key, packet) in new[] { (held.PublicKey, heldPacket), (other.PublicKey, otherPacket) })
        {
            var result = report.For(key);
            Assert.NotNull(result);
            Assert.Equal(RepublishOutcome.Republished, result.Outcome);
            Assert.True(result.Holders >= 5, $"{result.Holders} holders");
            Assert.False(result.Adopted);
            Assert.True(result.Packet!.IsSameAs(packet)); // republished unchanged, the held secret too
        }

        await using var resolver = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token);
        var dht = await resolver.GetDhtAsync(timeout.Token);
        foreach (var packet in new[] { heldPacket, otherPacket })
        {
            var resolved = await resolver.ResolveAsync(packet.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
            Assert.True(resolved.Found, resolved.Error?.ToString());
            Assert.True(resolved.Packet.IsSameAs(packet));
            Assert.True(await Holders(dht!, packet, timeout.Token) >= 5);
        }
    }

    private static TimeSpan ServerSettingsLifetime => new ServerSettings().ItemLifetime;

    [Fact]
    public async Task A_newer_packet_published_elsewhere_is_adopted_never_overwritten()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var testnet = await Testnet.CreateAsync(12, cancellationToken: timeout.Token);
        await using var client = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token);
        await using var elsewhere = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token);
        // Re-signing by age is on, to show that an adopted packet is still republished unchanged.
        var options = Small(5);
        options.ResignAfter = TimeSpan.FromTicks(1);
        await using var republisher = new Republisher(client, options);
        using var held = Keypair.Random();
        using var other = Keypair.Random();
        var heldOld = SignedPacket.Builder().Txt("_v", "old").Sign(held);
        var otherOld = SignedPacket.Builder().Txt("_v", "old").Sign(other);
        republisher.AddKey(held, heldOld);
        republisher.AddKey(other.PublicKey, otherOld);
        var first = await republisher.RunCycleAsync(timeout.Token);
        Assert.All(first.Keys, k => Assert.Equal(RepublishOutcome.Republished, k.Outcome));

        // Another writer publishes newer packets of both keys.
        var heldNew = SignedPacket.Builder().Txt("_v", "new").Sign(held);
        var otherNew = SignedPacket.Builder().Txt("_v", "new").Sign(other);
        Assert.True((await elsewhere.PublishAsync(heldNew, cancellationToken: timeout.Token)).Succeeded);
        Assert.True((await elsewhere.PublishAsync(otherNew, cancellationToken: timeout.Token)).Succeeded);

        var report = await republisher.RunCycleAsync(timeout.Token);
        await using var witness = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token);
        foreach (var (key, newer, older) in new[] { (held.PublicKey, heldNew, heldOld), (other.PublicKey, otherNew, otherOld) })
        {
            var result = report.For(key);
            Assert.NotNull(result);
            Assert.Equal(RepublishOutcome.Republished, result.Outcome);
            Assert.True(result.Adopted);
            Assert.False(result.Resigned);
            Assert.True(result.Packet!.IsSameAs(newer));
            Assert.True(republisher.LatestPacket(key)!.IsSameAs(newer));

            var resolved = await witness.ResolveAsync(key, ResolvePolicy.NetworkOnly, timeout.Token);
            Assert.True(resolved.Found, resolved.Error?.ToString());
            Assert.True(resolved.Packet.IsSameAs(newer));
            Assert.False(resolved.Packet.IsSameAs(older));
        }

        // Handing the republisher the old packet again changes nothing: it keeps the newer one.
        republisher.AddKey(other.PublicKey, otherOld);
        Assert.True(republisher.LatestPacket(other.PublicKey)!.IsSameAs(otherNew));
    }

    [Fact]
    public async Task With_a_minimum_above_the_network_size_the_put_is_retried_to_the_limit_and_reported_too_few_holders()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var testnet = await Testnet.CreateAsync(6, cancellationToken: timeout.Token);
        await using var client = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token);
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().Txt("_t", "x").Sign(keypair);

        await using (var demanding = new Republisher(client, Small(50)))
        {
            demanding.AddKey(keypair.PublicKey, packet);
            var result = Assert.Single((await demanding.RunCycleAsync(timeout.Token)).Keys);
            Assert.Equal(RepublishOutcome.TooFewHolders, result.Outcome);
            Assert.Equal(3, result.Attempts);
            Assert.InRange(result.Holders ?? 0, 1, 6);
            Assert.True(result.StoredOn >= 1);
        }

        await using var reasonable = new Republisher(client, Small(3));
        reasonable.AddKey(keypair.PublicKey, packet);
        var ok = Assert.Single((await reasonable.RunCycleAsync(timeout.Token)).Keys);
        Assert.Equal(RepublishOutcome.Republished, ok.Outcome);
        Assert.Equal(1, ok.Attempts);
        Assert.InRange(ok.Holders ?? 0, 3, 6);
    }
}
