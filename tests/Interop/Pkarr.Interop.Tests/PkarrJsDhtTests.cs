// Interop on the Mainline DHT with npm `pkarr` 1.3.0 (its lib/dht.js DHT client over bittorrent-dht, unmodified,
// driven by pkarr-peer.mjs publish-dht / resolve-dht): it publishes to an in-process testnet and our client resolves
// the packet, our client publishes and it resolves the packet, with the same relay payload bytes and records on both
// sides. Everything stays on 127.0.0.1; every peer process is bounded by its --timeout-s and killed after NodeTimeout.
//
// What npm pkarr 1.3.0 does on the DHT, as read in node_modules/pkarr/lib/dht.js and checked here:
//   * get(key) without fullLookup resolves with the FIRST reply that carries a valid signature for the key, whatever
//     its seq; get(key, { fullLookup: true }) waits for the whole lookup and keeps the answer with the highest seq
//     (ties: the later reply). So its default resolve can return an older packet while any node still holds one.
//   * put() stores on the nodes of its lookup that handed out a token; it fails only when every one refuses, with the
//     code of a 3xx refusal (our nodes answer 302 to a seq lower than the one they hold).
//   * bittorrent-dht uses 2 s query timeouts and no BEP 43 read-only flag: the short-lived npm nodes enter our
//     testnet's routing tables and are queried (then time out) by later lookups, so the testnet is kept small.

using System.Globalization;
using System.Net;
using System.Text.Json;
using Mainline;
using Pkarr.Client;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Interop.Tests;

/// <summary>One 12-node testnet for the whole class; every test uses its own key.</summary>
public sealed class NpmDhtFixture : IAsyncLifetime
{
    public Testnet Testnet { get; private set; } = null!;

    /// <summary>The testnet as pkarr-peer.mjs takes it: 127.0.0.1:port,...</summary>
    internal string Bootstrap => string.Join(",", Testnet.Bootstrap.Select(e => e.ToString()));

    public async Task InitializeAsync() => Testnet = await Testnet.CreateAsync(12);

    public async Task DisposeAsync()
    {
        if (Testnet is not null)
        {
            await Testnet.DisposeAsync();
        }
    }
}

public sealed class PkarrJsDhtTests(NpmDhtFixture fixture) : IClassFixture<NpmDhtFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    // The peer's own bound (--timeout-s) plus its start-up and the npm install check; past it the process is killed.
    private const int PeerTimeoutSeconds = 20;
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(PeerTimeoutSeconds + 20);

    private const string NpmRecords = """
        [{"name":"@","type":"TXT","ttl":300,"data":"published by pkarr-js over the dht"},
         {"name":"www","type":"A","ttl":60,"data":"127.0.0.2"},
         {"name":"www","type":"AAAA","ttl":60,"data":"2001:db8::2"},
         {"name":"alias","type":"CNAME","ttl":120,"data":"www.example.com"},
         {"name":"@","type":"MX","ttl":300,"data":{"preference":10,"exchange":"mail.example.com"}}]
        """;

    // Read-only DHT clients (BEP 43): they stay out of the testnet's routing tables, so that once disposed they are
    // not among the nodes the npm lookups wait for.
    private Task<PkarrClient> DhtClient(CancellationToken cancellationToken) => PkarrClient.CreateAsync(new PkarrClientOptions
    {
        UseRelays = false,
        Bootstrap = [.. fixture.Testnet.Bootstrap.Select(e => e.ToString())],
        DhtBindAddress = IPAddress.Loopback,
        DhtPort = 0,
        DhtMode = DhtMode.Client,
    }, cancellationToken);

    private static (Keypair Keypair, string SeedHex) NewKey()
    {
        byte[] seed = new byte[32];
        Random.Shared.NextBytes(seed);
        return (Keypair.FromSecretKey(seed), Convert.ToHexStringLower(seed));
    }

    private static string Micros(ulong timestamp) => timestamp.ToString(CultureInfo.InvariantCulture);

    private Task<(int Exit, JsonDocument Output)> NpmPublish(string seedHex, ulong timestamp, string records) =>
        NodePeer.RunAsync(
            NodeTimeout,
            "publish-dht", "--bootstrap", fixture.Bootstrap, "--seed", seedHex, "--records", records,
            "--timestamp", Micros(timestamp), "--timeout-s", PeerTimeoutSeconds.ToString(CultureInfo.InvariantCulture));

    private Task<(int Exit, JsonDocument Output)> NpmResolve(PublicKey key, bool fullLookup)
    {
        string[] args = ["resolve-dht", "--bootstrap", fixture.Bootstrap, "--pubkey", key.ToString(),
            "--timeout-s", PeerTimeoutSeconds.ToString(CultureInfo.InvariantCulture)];
        return NodePeer.RunAsync(NodeTimeout, fullLookup ? [.. args, "--full-lookup"] : args);
    }

    [Fact]
    public async Task We_resolve_what_npm_pkarr_published_on_the_dht()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (keypair, seedHex) = NewKey();
        using var _ = keypair;
        ulong timestamp = Timestamp.Now().Microseconds;

        string payloadHex;
        JsonElement records;
        var (exit, output) = await NpmPublish(seedHex, timestamp, NpmRecords);
        using (output)
        {
            var root = output.RootElement;
            Assert.True(exit == 0, root.ToString());
            Assert.Equal(Convert.ToHexStringLower(keypair.PublicKey.Bytes), root.GetProperty("public_key_hex").GetString());
            Assert.Equal((long)timestamp, root.GetProperty("timestamp").GetInt64());
            Assert.NotEmpty(root.GetProperty("put_to").EnumerateArray());
            payloadHex = root.GetProperty("relay_payload_hex").GetString()!;
            records = root.GetProperty("records").Clone();
        }

        await using var client = await DhtClient(timeout.Token);
        var resolved = await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);

        Assert.True(resolved.Found, resolved.Error?.ToString());
        Assert.Equal(timestamp, resolved.Packet.Timestamp.Microseconds);
        Assert.Equal(payloadHex, Convert.ToHexStringLower(resolved.Packet.RelayPayload.Span));
        Assert.Equal(5, resolved.Packet.AllResourceRecords.Count);
        PkarrJsInteropTests.AssertSameRecords(resolved.Packet, records);

        // The refused side: a key npm did not publish is not found, so the packet above came from npm's put.
        using var other = Keypair.Random();
        var missing = await client.ResolveAsync(other.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
        Assert.False(missing.Found);
        Assert.Equal(ResolveErrorKind.NotFound, missing.Error.Kind);
    }

    [Fact]
    public async Task Npm_pkarr_resolves_what_we_published_on_the_dht()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder()
            .A("www", IPAddress.Parse("127.0.0.3"), 60)
            .Aaaa("www", IPAddress.Parse("2001:db8::3"), 60)
            .Txt("@", "published by dotnet over the dht", 300)
            .Txt("_long", new string('x', 300), 300) // two character-strings on the wire: 254 + 46 bytes
            .Cname("alias", "www.example.com", 120)
            .Mx("@", 20, "mail.example.com", 300)
            .Sign(keypair);

        await using (var client = await DhtClient(timeout.Token))
        {
            var published = await client.PublishAsync(packet, cancellationToken: timeout.Token);
            Assert.True(published.Succeeded, published.Error?.ToString());
            Assert.True(published.StoredOn > 0);
        }

        var (exit, output) = await NpmResolve(keypair.PublicKey, fullLookup: false);
        using (output)
        {
            var root = output.RootElement;
            Assert.True(exit == 0, root.ToString());
            Assert.Equal(Convert.ToHexStringLower(keypair.PublicKey.Bytes), root.GetProperty("public_key_hex").GetString());
            Assert.Equal(packet.Timestamp.AsSeq, root.GetProperty("timestamp").GetInt64());
            Assert.Equal(Convert.ToHexStringLower(packet.RelayPayload.Span), root.GetProperty("relay_payload_hex").GetString());
            var records = root.GetProperty("records");
            PkarrJsInteropTests.AssertSameRecords(packet, records);
            var longTxt = Assert.Single(records.EnumerateArray(), r => r.GetProperty("name").GetString()!.StartsWith("_long.", StringComparison.Ordinal));
            Assert.Equal([254, 46], longTxt.GetProperty("data").EnumerateArray().Select(s => s.GetString()!.Length));
        }
    }

    [Fact]
    public async Task Npm_pkarr_does_not_find_a_key_nobody_published()
    {
        using var keypair = Keypair.Random();

        foreach (bool fullLookup in new[] { false, true })
        {
            var (exit, output) = await NpmResolve(keypair.PublicKey, fullLookup);
            using (output)
            {
                Assert.True(exit == 3, output.RootElement.ToString());
                Assert.False(output.RootElement.GetProperty("found").GetBoolean());
            }
        }
    }

    [Fact]
    public async Task Npm_pkarr_resolves_our_newer_packet_over_its_older_one()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (keypair, seedHex) = NewKey();
        using var _ = keypair;
        ulong older = Timestamp.Now().Microseconds - 60_000_000;

        var (exit, output) = await NpmPublish(seedHex, older, """[{"name":"@","type":"TXT","ttl":300,"data":"older, by pkarr-js"}]""");
        using (output)
        {
            Assert.True(exit == 0, output.RootElement.ToString());
        }

        var packet = SignedPacket.Builder().Txt("@", "newer, by dotnet", 300).A("www", IPAddress.Parse("127.0.0.4"), 60).Sign(keypair);
        Assert.True(packet.Timestamp.Microseconds > older);
        await using (var client = await DhtClient(timeout.Token))
        {
            var published = await client.PublishAsync(packet, cancellationToken: timeout.Token);
            Assert.True(published.Succeeded, published.Error?.ToString());
            // Every testnet node stored ours over npm's, so no node is left with only the older packet: npm's default
            // first-answer get then has nothing older to return, and its full lookup returns the highest seq.
            Assert.Equal(fixture.Testnet.Nodes.Count, published.StoredOn);
        }

        foreach (bool fullLookup in new[] { false, true })
        {
            (exit, output) = await NpmResolve(keypair.PublicKey, fullLookup);
            using (output)
            {
                var root = output.RootElement;
                Assert.True(exit == 0, root.ToString());
                Assert.Equal(fullLookup, root.GetProperty("full_lookup").GetBoolean());
                Assert.Equal(packet.Timestamp.AsSeq, root.GetProperty("timestamp").GetInt64());
                Assert.Equal(Convert.ToHexStringLower(packet.RelayPayload.Span), root.GetProperty("relay_payload_hex").GetString());
                PkarrJsInteropTests.AssertSameRecords(packet, root.GetProperty("records"));
            }
        }

        // The refused side: npm republishing an older packet is turned down by every node (302) and changes nothing.
        (exit, output) = await NpmPublish(seedHex, older + 1, """[{"name":"@","type":"TXT","ttl":300,"data":"stale, by pkarr-js"}]""");
        using (output)
        {
            Assert.True(exit == 3, output.RootElement.ToString());
            Assert.Equal(302, output.RootElement.GetProperty("code").GetInt32());
        }

        await using var resolver = await DhtClient(timeout.Token);
        var resolved = await resolver.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
        Assert.True(resolved.Found, resolved.Error?.ToString());
        Assert.Equal(packet.RelayPayload.ToArray(), resolved.Packet.RelayPayload.ToArray());
    }
}
