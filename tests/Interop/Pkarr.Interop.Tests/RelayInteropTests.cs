// Interop against OUR relay (src/Pkarr.Relay: Kestrel on 127.0.0.1, an OS-chosen port, in this process):
//   * the relay client of npm `pkarr` 1.3.0 (Pkarr.relayPut / Pkarr.relayGet, driven by pkarr-peer.mjs) publishes to
//     it and resolves from it, and reads what our client published there;
//   * a packet PUT on it reaches the DHT and libtorrent 2.0.8 (the shared peers kit's lt_testnet.py) gets the BEP 44
//     mutable item with the packet's value, seq and signature.
// The other direction, our client against the npm relay server, is PkarrJsRelayTests.
//
// What npm pkarr 1.3.0's relay client does with our relay's answers, as read in node_modules/pkarr/index.js:
//   * relayPut returns the fetch response: our 204 is `ok`, our 409 (an older packet) is not;
//   * relayGet decodes the body whatever the status: our 404 (empty body) fails to decode.

using System.Globalization;
using System.Net;
using System.Text.Json;
using Mainline;
using Mainline.Tests.Interop;
using Pkarr.Client;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay;

namespace Pkarr.Interop.Tests;

/// <summary>Our relay over its in-process testnet, one for the whole class; every test uses its own key.</summary>
public sealed class OurRelayFixture : IAsyncLifetime
{
    public RelayServer Relay { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var options = RelayOptions.ForTestnet();
        options.Http.Port = 0;
        options.Republisher.Enabled = false;
        Relay = await RelayServer.StartAsync(options);
        Http = new HttpClient { BaseAddress = Relay.Url, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Relay is not null)
        {
            await Relay.DisposeAsync();
        }
    }
}

public sealed class NpmClientOnOurRelayTests(OurRelayFixture fixture) : IClassFixture<OurRelayFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private const string Records = """[{"name":"@","type":"TXT","ttl":300,"data":"published by pkarr-js"},{"name":"www","type":"A","ttl":60,"data":"127.0.0.2"}]""";

    private string Url => fixture.Relay.Url.ToString();

    private static string Micros(ulong timestamp) => timestamp.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_npm_relay_client_publishes_to_our_relay_and_resolves_from_it()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        byte[] seed = RandomSeed();
        using var keypair = Keypair.FromSecretKey(seed);
        ulong timestamp = Timestamp.Now().Microseconds;

        var (exit, output) = await NodePeer.RunAsync(Timeout,
            "publish-relay", "--url", Url, "--seed", Convert.ToHexStringLower(seed), "--timestamp", Micros(timestamp), "--records", Records);
        string payloadHex;
        using (output)
        {
            Assert.True(exit == 0, output.RootElement.ToString());
            Assert.Equal(204, output.RootElement.GetProperty("status").GetInt32());
            payloadHex = output.RootElement.GetProperty("relay_payload_hex").GetString()!;
        }

        // Our relay stored exactly the bytes pkarr-js signed, and put them on its DHT.
        using (var stored = await fixture.Http.GetAsync(keypair.PublicKey.ToZ32() + "?policy=CacheOnly", timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
            Assert.Equal(payloadHex, Convert.ToHexStringLower(await stored.Content.ReadAsByteArrayAsync(timeout.Token)));
        }

        await using (var dhtClient = await PkarrClient.CreateAsync(new PkarrClientOptions
        {
            UseRelays = false,
            Bootstrap = [.. fixture.Relay.TestnetBootstrap.Select(e => e.ToString())],
            DhtBindAddress = IPAddress.Loopback,
            DhtPort = 0,
            DhtMode = DhtMode.Client,
        }, timeout.Token))
        {
            var fromDht = await dhtClient.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
            Assert.True(fromDht.Found, fromDht.Error?.ToString());
            Assert.Equal(payloadHex, Convert.ToHexStringLower(fromDht.Packet.RelayPayload.Span));
        }

        // pkarr-js reads it back through our relay.
        await AssertNpmResolvesAsync(keypair.PublicKey, timestamp, payloadHex);

        // An older packet for the same key: our relay answers 409, pkarr-js's relayPut reports it, nothing changes.
        var (olderExit, olderOutput) = await NodePeer.RunAsync(Timeout,
            "publish-relay", "--url", Url, "--seed", Convert.ToHexStringLower(seed), "--timestamp", Micros(timestamp - 1_000_000),
            "--records", """[{"name":"@","type":"TXT","ttl":300,"data":"older"}]""");
        using (olderOutput)
        {
            Assert.Equal(3, olderExit);
            Assert.Equal(409, olderOutput.RootElement.GetProperty("status").GetInt32());
        }

        await AssertNpmResolvesAsync(keypair.PublicKey, timestamp, payloadHex);
    }

    [Fact]
    public async Task The_npm_relay_client_reads_what_our_client_published_to_our_relay()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder()
            .Txt("@", "published by dotnet", 300)
            .A("www", IPAddress.Parse("127.0.0.1"), 60)
            .Sign(keypair);

        await using (var client = await PkarrClient.CreateAsync(new PkarrClientOptions
        {
            UseDht = false,
            Relays = [fixture.Relay.Url],
            RequestTimeout = TimeSpan.FromSeconds(15),
        }, timeout.Token))
        {
            var published = await client.PublishAsync(packet, cancellationToken: timeout.Token);
            Assert.True(published.Succeeded, published.Error?.ToString());
            Assert.Equal(204, Assert.Single(published.Relays).StatusCode);
        }

        var (exit, output) = await NodePeer.RunAsync(Timeout,
            "resolve-relay", "--url", Url, "--pubkey", Convert.ToHexStringLower(keypair.PublicKey.Bytes));
        using (output)
        {
            var root = output.RootElement;
            Assert.True(exit == 0, root.ToString());
            Assert.Equal(packet.Timestamp.AsSeq, root.GetProperty("timestamp").GetInt64());
            Assert.Equal(Convert.ToHexStringLower(packet.RelayPayload.Span), root.GetProperty("relay_payload_hex").GetString());
            Assert.Contains(root.GetProperty("records").EnumerateArray(), r =>
                r.GetProperty("type").GetString() == "TXT" && r.GetProperty("data")[0].GetString() == "published by dotnet");
            Assert.Contains(root.GetProperty("records").EnumerateArray(), r =>
                r.GetProperty("type").GetString() == "A" && r.GetProperty("data").GetString() == "127.0.0.1");
        }

        // A key nobody published: our relay looks on its DHT, answers 404 with no body, and pkarr-js finds no packet.
        using var unknown = Keypair.Random();
        var (missingExit, missingOutput) = await NodePeer.RunAsync(Timeout,
            "resolve-relay", "--url", Url, "--pubkey", Convert.ToHexStringLower(unknown.PublicKey.Bytes));
        using (missingOutput)
        {
            Assert.Equal(3, missingExit);
            Assert.False(missingOutput.RootElement.GetProperty("ok").GetBoolean());
        }

        using var direct = await fixture.Http.GetAsync(unknown.PublicKey.ToZ32(), timeout.Token);
        Assert.Equal(HttpStatusCode.NotFound, direct.StatusCode);
    }

    private async Task AssertNpmResolvesAsync(PublicKey key, ulong timestamp, string payloadHex)
    {
        var (exit, output) = await NodePeer.RunAsync(Timeout,
            "resolve-relay", "--url", Url, "--pubkey", Convert.ToHexStringLower(key.Bytes));
        using (output)
        {
            var root = output.RootElement;
            Assert.True(exit == 0, root.ToString());
            Assert.Equal((long)timestamp, root.GetProperty("timestamp").GetInt64());
            Assert.Equal(payloadHex, root.GetProperty("relay_payload_hex").GetString());
            Assert.Contains(root.GetProperty("records").EnumerateArray(), r =>
                r.GetProperty("type").GetString() == "TXT" && r.GetProperty("data")[0].GetString() == "published by pkarr-js");
        }
    }

    private static byte[] RandomSeed()
    {
        byte[] seed = new byte[32];
        Random.Shared.NextBytes(seed);
        return seed;
    }
}

/// <summary>
/// A libtorrent testnet (8 DHT-only sessions on 127.0.0.1, lt_testnet.py serve) and our relay joined to it through
/// its bootstrap list, as on the real network (no in-process testnet). Every process is ours and is killed by id.
/// </summary>
public sealed class LibtorrentRelayFixture : IAsyncLifetime
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private PeerProcess? _libtorrent;

    public RelayServer Relay { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public IReadOnlyList<string> LibtorrentEndpoints { get; private set; } = [];

    private static string LtScript => Path.GetFullPath(Path.Combine(
        Environment.GetEnvironmentVariable("MAINLINE_PEERS_KIT") ?? Path.Combine(NodePeer.RepositoryRoot, "..", "shared", "peers"),
        "lt_testnet.py"));

    public async Task InitializeAsync()
    {
        if (!File.Exists(LtScript))
        {
            throw new InvalidOperationException($"interop peer missing: {LtScript} (the shared peers kit; set MAINLINE_PEERS_KIT to its folder)");
        }

        // libtorrent gives its sessions 10 s to start listening; on a loaded machine that can run out, so a failed
        // start is retried (at most three times, each bounded by StartTimeout) on fresh ports.
        JsonElement ready;
        for (int attempt = 1; ; attempt++)
        {
            int basePort = PeerProcess.FreeUdpPortRange(8);
            _libtorrent = PeerProcess.Start(Python, [LtScript, "serve", "--nodes", "8", "--base-port", basePort.ToString(CultureInfo.InvariantCulture),
                "--duration", "600", "--settle", "20"], NodePeer.RepositoryRoot);
            try
            {
                ready = await _libtorrent.WaitForEventAsync("ready", StartTimeout);
                break;
            }
            catch (TimeoutException) when (attempt < 3)
            {
                await _libtorrent.DisposeAsync();
            }
        }

        LibtorrentEndpoints = [.. ready.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()!)];

        var options = RelayOptions.ForTestnet();
        options.Testnet = false;
        options.Http.Port = 0;
        options.Republisher.Enabled = false;
        options.Mainline.Bootstrap = [.. LibtorrentEndpoints];
        Relay = await RelayServer.StartAsync(options);
        Http = new HttpClient { BaseAddress = Relay.Url, Timeout = TimeSpan.FromSeconds(30) };
        using var joined = new CancellationTokenSource(StartTimeout);
        if (!await Relay.Dht.BootstrappedAsync(joined.Token))
        {
            throw new InvalidOperationException("our relay's DHT node could not join the libtorrent testnet:\n" + _libtorrent.Stderr);
        }
    }

    /// <summary>Runs a libtorrent one-shot client (a read-only session) that joins the libtorrent testnet.</summary>
    public Task<JsonElement> LtAsync(int timeoutSeconds, params string[] args) =>
        PeerProcess.RunAsync(Python, [LtScript, .. args, "--bootstrap", string.Join(',', LibtorrentEndpoints),
            "--timeout", timeoutSeconds.ToString(CultureInfo.InvariantCulture)], NodePeer.RepositoryRoot, TimeSpan.FromSeconds(timeoutSeconds + 45));

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Relay is not null)
        {
            await Relay.DisposeAsync();
        }

        if (_libtorrent is not null)
        {
            await _libtorrent.DisposeAsync();
        }
    }
}

public sealed class LibtorrentOnOurRelayTests(LibtorrentRelayFixture fixture) : IClassFixture<LibtorrentRelayFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_packet_put_on_our_relay_is_found_on_the_dht_by_libtorrent()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var keypair = Keypair.Random();
        string pubkey = Convert.ToHexStringLower(keypair.PublicKey.Bytes);
        var now = Timestamp.Now().Microseconds;
        var first = Packet(keypair, "first", now - 2_000_000);
        var second = Packet(keypair, "second", now);
        var older = Packet(keypair, "older", now - 1_000_000);

        await PutAsync(first, HttpStatusCode.NoContent, timeout.Token);
        AssertItem(await fixture.LtAsync(30, "get-mutable", "--pubkey", pubkey, "--first"), first);

        // A newer packet replaces it on the libtorrent nodes.
        await PutAsync(second, HttpStatusCode.NoContent, timeout.Token);
        AssertItem(await fixture.LtAsync(30, "get-mutable", "--pubkey", pubkey, "--first",
            "--seq", second.Timestamp.Microseconds.ToString(CultureInfo.InvariantCulture)), second);

        // An older one is refused (409) and never reaches the DHT: libtorrent's full lookup (the highest seq) still
        // finds the second packet.
        await PutAsync(older, HttpStatusCode.Conflict, timeout.Token);
        AssertItem(await fixture.LtAsync(30, "get-mutable", "--pubkey", pubkey), second);
    }

    [Fact]
    public async Task Libtorrent_finds_nothing_for_a_key_our_relay_never_put()
    {
        using var keypair = Keypair.Random();
        var result = await fixture.LtAsync(5, "get-mutable", "--pubkey", Convert.ToHexStringLower(keypair.PublicKey.Bytes), "--first");
        Assert.False(result.GetProperty("ok").GetBoolean(), result.ToString());
        Assert.False(result.GetProperty("found").GetBoolean());
    }

    private static SignedPacket Packet(Keypair keypair, string text, ulong micros) =>
        SignedPacket.Builder()
            .Timestamp(new Timestamp(micros))
            .Txt("@", text, 300)
            .Sign(keypair);

    private async Task PutAsync(SignedPacket packet, HttpStatusCode expected, CancellationToken cancel)
    {
        using var body = new ByteArrayContent(packet.RelayPayload.ToArray());
        using var put = await fixture.Http.PutAsync(packet.PublicKey.ToZ32(), body, cancel);
        Assert.True(expected == put.StatusCode, $"{put.StatusCode}: {await put.Content.ReadAsStringAsync(cancel)}");
        if (expected == HttpStatusCode.NoContent)
        {
            Assert.True(int.Parse(put.Headers.GetValues("Pkarr-Dht-Stored-Nodes").Single(), CultureInfo.InvariantCulture) > 0);
        }
    }

    private static void AssertItem(JsonElement lt, SignedPacket packet)
    {
        Assert.True(lt.GetProperty("ok").GetBoolean(), lt.ToString());
        Assert.True(lt.GetProperty("found").GetBoolean());
        Assert.True(lt.GetProperty("sig_valid").GetBoolean());
        Assert.Equal((long)packet.Timestamp.Microseconds, lt.GetProperty("seq").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(packet.EncodedPacket.Span), lt.GetProperty("v_hex").GetString());
        Assert.Equal(Convert.ToHexStringLower(packet.Signature), lt.GetProperty("sig").GetString());
        Assert.Equal(Convert.ToHexStringLower(packet.PublicKey.Bytes), lt.GetProperty("public_key").GetString());
    }
}
