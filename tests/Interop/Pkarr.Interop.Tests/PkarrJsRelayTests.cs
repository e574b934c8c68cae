// Interop with the HTTP relay of npm `pkarr` 1.3.0 (a third-party relay, unmodified) whose DHT node runs on an
// in-process Mainline testnet: our client publishes to it and resolves from it, the npm relay client reads what we
// published, and we resolve what the npm client published. Everything stays on 127.0.0.1.
//
// What this relay does differently from a v7 relay, and how our client copes:
//   * it reads the whole last path segment as the key, so `?policy=…` makes it answer 400: our client asks once
//     more without the policy;
//   * it answers GET 200 with a chunked body (no Content-Length), PUT 200 with no body and no
//     Pkarr-Dht-Stored-Nodes (counted as 1 node), and ignores If-Modified-Since and Cache-Control.

using System.Net;
using Mainline;
using Pkarr.Client;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Interop.Tests;

/// <summary>One testnet and one npm relay for the whole class; every test uses its own key.</summary>
public sealed class NpmRelayFixture : IAsyncLifetime
{
    public Testnet Testnet { get; private set; } = null!;

    internal NpmRelay Relay { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Testnet = await Testnet.CreateAsync(8);
        Relay = await NpmRelay.StartAsync(Testnet, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        if (Relay is not null)
        {
            await Relay.DisposeAsync();
        }

        if (Testnet is not null)
        {
            await Testnet.DisposeAsync();
        }
    }
}

public sealed class PkarrJsRelayTests(NpmRelayFixture fixture) : IClassFixture<NpmRelayFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private Task<PkarrClient> RelayClient() => PkarrClient.CreateAsync(new PkarrClientOptions
    {
        UseDht = false,
        Relays = [fixture.Relay.Url],
        // The relay's DHT lookups run on a loaded test machine; the 2 s default is for the internet's relays.
        RequestTimeout = TimeSpan.FromSeconds(15),
    });

    private static SignedPacket Packet(Keypair keypair, string text) =>
        SignedPacket.Builder()
            .Txt("@", text, 300)
            .A("www", IPAddress.Parse("127.0.0.1"), 60)
            .Sign(keypair);

    [Fact]
    public async Task Our_client_publishes_to_the_npm_relay_and_resolves_from_it()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, "published by dotnet");

        await using (var publisher = await RelayClient())
        {
            var published = await publisher.PublishAsync(packet, cancellationToken: timeout.Token);
            Assert.True(published.Succeeded, $"{published.Error}\n{fixture.Relay.Log}");
            var outcome = Assert.Single(published.Relays);
            Assert.Equal(200, outcome.StatusCode);
            Assert.Equal(1, outcome.StoredOn);
            Assert.Equal(1, published.StoredOn);
        }

        // A fresh client, so that the packet comes from the relay (and through it from the DHT), not from a cache.
        await using var resolver = await RelayClient();
        foreach (var policy in new[] { ResolvePolicy.NetworkOnly, ResolvePolicy.CacheFirst, ResolvePolicy.CacheOnly })
        {
            var resolved = await resolver.ResolveAsync(keypair.PublicKey, policy, timeout.Token);
            Assert.True(resolved.Found, $"{policy}: {resolved.Error}\n{fixture.Relay.Log}");
            Assert.True(resolved.Packet.IsSameAs(packet));
            Assert.Equal(packet.Bytes.ToArray(), resolved.Packet.Bytes.ToArray());
        }

        // The npm relay put it on our Mainline nodes: a DHT-only client finds it there.
        await using var dhtClient = await PkarrClient.CreateAsync(new PkarrClientOptions
        {
            UseRelays = false,
            Bootstrap = [.. fixture.Testnet.Bootstrap.Select(e => e.ToString())],
            DhtBindAddress = IPAddress.Loopback,
            DhtPort = 0,
            DhtMode = DhtMode.Client,
        }, timeout.Token);
        var fromDht = await dhtClient.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
        Assert.True(fromDht.Found, fromDht.Error?.ToString());
        Assert.True(fromDht.Packet.IsSameAs(packet));
    }

    [Fact]
    public async Task An_unknown_key_is_not_found_on_the_npm_relay()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var keypair = Keypair.Random();
        await using var client = await RelayClient();

        var result = await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);

        Assert.False(result.Found);
        Assert.Equal(ResolveErrorKind.NotFound, result.Error.Kind);
    }

    [Fact]
    public async Task The_npm_relay_client_reads_what_we_published()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, "read by pkarr-js");
        await using (var client = await RelayClient())
        {
            var published = await client.PublishAsync(packet, cancellationToken: timeout.Token);
            Assert.True(published.Succeeded, $"{published.Error}\n{fixture.Relay.Log}");
        }

        var (exit, output) = NodePeer.Run(
            "resolve-relay", "--url", fixture.Relay.Url.ToString(), "--pubkey", Convert.ToHexStringLower(keypair.PublicKey.Bytes));
        using (output)
        {
            var root = output.RootElement;
            Assert.True(exit == 0, $"{root}\n{fixture.Relay.Log}");
            Assert.Equal(packet.Timestamp.AsSeq, root.GetProperty("timestamp").GetInt64());
            Assert.Equal(Convert.ToHexStringLower(packet.RelayPayload.Span), root.GetProperty("relay_payload_hex").GetString());
            Assert.Contains(root.GetProperty("records").EnumerateArray(), r =>
                r.GetProperty("type").GetString() == "TXT" && r.GetProperty("data")[0].GetString() == "read by pkarr-js");
        }
    }

    [Fact]
    public async Task We_resolve_what_the_npm_relay_client_published()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        byte[] seed = new byte[32];
        Random.Shared.NextBytes(seed);
        using var keypair = Keypair.FromSecretKey(seed);
        ulong timestamp = Timestamp.Now().Microseconds;

        var (exit, output) = NodePeer.Run(
            "publish-relay",
            "--url", fixture.Relay.Url.ToString(),
            "--seed", Convert.ToHexStringLower(seed),
            "--timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--records", """[{"name":"@","type":"TXT","ttl":300,"data":"published by pkarr-js"},{"name":"www","type":"A","ttl":60,"data":"127.0.0.2"}]""");
        string payloadHex;
        using (output)
        {
            Assert.True(exit == 0, $"{output.RootElement}\n{fixture.Relay.Log}");
            Assert.Equal(200, output.RootElement.GetProperty("status").GetInt32());
            Assert.Equal(Convert.ToHexStringLower(keypair.PublicKey.Bytes), output.RootElement.GetProperty("public_key_hex").GetString());
            payloadHex = output.RootElement.GetProperty("relay_payload_hex").GetString()!;
        }

        await using var client = await RelayClient();
        var resolved = await client.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);

        Assert.True(resolved.Found, $"{resolved.Error}\n{fixture.Relay.Log}");
        Assert.Equal(timestamp, resolved.Packet.Timestamp.Microseconds);
        Assert.Equal(payloadHex, Convert.ToHexStringLower(resolved.Packet.RelayPayload.Span));
        Assert.Equal("published by pkarr-js", Assert.IsType<Pkarr.Dns.TxtData>(Assert.Single(resolved.Packet.ResourceRecords("@")).Data).Text);
        Assert.Equal(IPAddress.Parse("127.0.0.2"), Assert.IsType<Pkarr.Dns.AData>(Assert.Single(resolved.Packet.ResourceRecords("www")).Data).Address);
    }
}
