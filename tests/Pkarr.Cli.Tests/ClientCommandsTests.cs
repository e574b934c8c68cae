using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Pkarr.Cli.Commands;
using Pkarr.Cli.Tests.Dht;
using Pkarr.Client;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Cli.Tests.Dht.DhtCli;

namespace Pkarr.Cli.Tests;

/// <summary>
/// publish, resolve and endpoints in-process against a loopback testnet. Every run passes --bootstrap, --no-relays
/// (or a loopback --relay) and a --cache-dir under the test's temporary directory, so nothing leaves 127.0.0.1 and
/// no test reads the user's cache.
/// </summary>
public sealed class ClientCommandsTests : IClassFixture<TestnetFixture>, IDisposable
{
    private const string Zone = "$TTL 300\n@ IN A 192.0.2.10\n@ IN AAAA 2001:db8::10\n_hi IN TXT \"hello from pkarr\"\n@ IN HTTPS 1 . alpn=h2 port=8443\n";

    private readonly TestnetFixture _net;
    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-client-cli-").FullName;

    public ClientCommandsTests(TestnetFixture net) => _net = net;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A fresh key per test, so tests sharing the testnet never see each other's packets.</summary>
    private (string File, PublicKey Key) NewKey()
    {
        using var keypair = Keypair.Random();
        string file = Path.Combine(_dir, $"{Guid.NewGuid():N}.key");
        keypair.WriteSecretKeyFile(file);
        return (file, keypair.PublicKey);
    }

    private string File(string content)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.zone");
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    private string CacheDir(string name) => Path.Combine(_dir, name);

    /// <summary>A client command on the testnet, DHT only.</summary>
    private Task<Run> Offline(string cache, params string[] args) =>
        RunPkarr([.. args, "--bootstrap", _net.Bootstrap, "--no-relays", "--cache-dir", CacheDir(cache), "--timeout", "20"]);

    /// <summary>Asserts <paramref name="exit"/>, nothing on stdout and one <c>error:</c> line containing <paramref name="reason"/>.</summary>
    private static void AssertFails(Run run, int exit, string reason)
    {
        Assert.True(run.Exit == exit, $"exit {run.Exit}, expected {exit}; stderr: {run.Error}");
        Assert.Equal("", run.Out);
        string error = run.Error.TrimEnd('\n');
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_then_resolve_from_another_cache_prints_the_records_as_text_and_json()
    {
        var (secret, key) = NewKey();
        var publish = await Offline("publisher", "publish", "--secret", secret, "--zone", File(Zone));
        Assert.True(publish.Exit == 0, publish.Error);
        Assert.Equal("", publish.Error);
        Assert.Equal(3, publish.Lines.Length);
        Assert.Matches($"^packet {key} timestamp \\d+ \\(4 records, \\d+ bytes\\)$", publish.Lines[0]);
        Assert.Matches("^dht: stored on \\d+ nodes$", publish.Lines[1]);
        Assert.Matches("^verdict: published, stored on \\d+ nodes$", publish.Lines[2]);

        // Another cache directory: the packet can only come from the DHT.
        var text = await Offline("reader", "resolve", key.ToString(), "--policy", "network-only");
        Assert.True(text.Exit == 0, text.Error);
        Assert.Contains($"; public_key: {key}\n", text.Out, StringComparison.Ordinal);
        Assert.Contains("; last_seen: ", text.Out, StringComparison.Ordinal);
        Assert.EndsWith(
            "@ 300 IN A 192.0.2.10\n@ 300 IN AAAA 2001:db8::10\n_hi 300 IN TXT \"hello from pkarr\"\n@ 300 IN HTTPS 1 . alpn=\"h2\" port=8443\n",
            text.Out,
            StringComparison.Ordinal);

        var json = await Offline("reader", "resolve", "pk:" + key, "--policy", "network-only", "--json");
        Assert.True(json.Exit == 0, json.Error);
        using var packet = JsonDocument.Parse(Assert.Single(json.Lines));
        var root = packet.RootElement;
        Assert.Equal(key.ToString(), root.GetProperty("public_key").GetString());
        Assert.True(root.GetProperty("last_seen").GetInt64() >= root.GetProperty("timestamp").GetInt64());
        var records = root.GetProperty("records").EnumerateArray().ToList();
        Assert.Equal(["@", "@", "_hi", "@"], records.Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(["A", "AAAA", "TXT", "HTTPS"], records.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal("\"hello from pkarr\"", records[2].GetProperty("data").GetString());
    }

    [Fact]
    public async Task Publish_json_is_one_object_with_the_dht_outcome_and_the_verdict()
    {
        var (secret, key) = NewKey();
        var publish = await Offline("publisher", "publish", "--secret", secret, "--zone", File(Zone), "--json");
        Assert.True(publish.Exit == 0, publish.Error);
        using var json = JsonDocument.Parse(Assert.Single(publish.Lines));
        var root = json.RootElement;
        Assert.Equal(key.ToString(), root.GetProperty("public_key").GetString());
        Assert.Equal(4, root.GetProperty("records").GetInt32());
        Assert.True(root.GetProperty("published").GetBoolean());
        int storedOn = root.GetProperty("stored_on").GetInt32();
        Assert.InRange(storedOn, 1, 10);
        Assert.Equal(storedOn, root.GetProperty("dht").GetProperty("stored_on").GetInt32());
        Assert.False(root.TryGetProperty("error", out _));
        Assert.False(root.GetProperty("dht").TryGetProperty("error", out _));
        Assert.Equal(0, root.GetProperty("relays").GetArrayLength());
    }

    [Fact]
    public async Task A_second_publish_signs_above_the_cached_packet_and_resolve_sees_the_newer_one()
    {
        var (secret, key) = NewKey();
        var first = await Offline("publisher", "publish", "--secret", secret, "--zone", File(Zone), "--json");
        var second = await Offline("publisher", "publish", "--secret", secret, "--zone", File("@ IN A 192.0.2.99\n"), "--json");
        Assert.True(first.Exit == 0 && second.Exit == 0, first.Error + second.Error);
        long firstTimestamp = JsonDocument.Parse(first.Out).RootElement.GetProperty("timestamp").GetInt64();
        long secondTimestamp = JsonDocument.Parse(second.Out).RootElement.GetProperty("timestamp").GetInt64();
        Assert.True(secondTimestamp > firstTimestamp);

        var resolved = await Offline("reader", "resolve", key.ToString(), "--policy", "network-only", "--json");
        Assert.True(resolved.Exit == 0, resolved.Error);
        var root = JsonDocument.Parse(resolved.Out).RootElement;
        Assert.Equal(secondTimestamp, root.GetProperty("timestamp").GetInt64());
        Assert.Equal("192.0.2.99", Assert.Single(root.GetProperty("records").EnumerateArray()).GetProperty("data").GetString());
    }

    [Fact]
    public async Task Cache_only_finds_a_packet_a_network_resolve_left_in_the_same_cache_dir_and_nothing_in_another()
    {
        var (secret, key) = NewKey();
        Assert.Equal(0, (await Offline("publisher", "publish", "--secret", secret, "--zone", File(Zone))).Exit);

        // Before any network resolve the reader's cache is empty: not found, exit 3, naming the cache file.
        var empty = await Offline("reader", "resolve", key.ToString(), "--policy", "cache-only");
        AssertFails(empty, ExitCodes.NotFound, $"no packet for {key} in the cache ({Path.Combine(CacheDir("reader"), "packets.db")})");

        var network = await Offline("reader", "resolve", key.ToString(), "--policy", "network-only", "--json");
        Assert.True(network.Exit == 0, network.Error);

        // A new process in real use; here a new client over the same file.
        var cached = await Offline("reader", "resolve", key.ToString(), "--policy", "cache-only", "--json");
        Assert.True(cached.Exit == 0, cached.Error);
        Assert.Equal(network.Out, cached.Out);

        AssertFails(await Offline("other", "resolve", key.ToString(), "--policy", "cache-only"), ExitCodes.NotFound, "in the cache");
    }

    [Fact]
    public async Task No_cache_resolves_from_the_network_and_keeps_nothing()
    {
        var (secret, key) = NewKey();
        Assert.Equal(0, (await Offline("publisher", "publish", "--secret", secret, "--zone", File(Zone))).Exit);
        var run = await RunPkarr("resolve", key.ToString(), "--bootstrap", _net.Bootstrap, "--no-relays", "--no-cache", "--timeout", "20");
        Assert.True(run.Exit == 0, run.Error);
        Assert.Contains("192.0.2.10", run.Out, StringComparison.Ordinal);

        var cacheOnly = await RunPkarr("resolve", key.ToString(), "--policy", "cache-only", "--bootstrap", _net.Bootstrap, "--no-relays", "--no-cache");
        AssertFails(cacheOnly, ExitCodes.NotFound, "in the cache:");
    }

    [Fact]
    public async Task A_key_nobody_published_is_not_found_with_exit_3()
    {
        var (_, key) = NewKey();
        AssertFails(await Offline("reader", "resolve", key.ToString(), "--policy", "network-only"), ExitCodes.NotFound, $"no packet found for {key}");
    }

    [Fact]
    public async Task A_signed_value_that_is_not_a_dns_packet_is_its_own_error_with_its_seq()
    {
        var (secret, key) = NewKey();
        var put = await RunPkarr("dht", "put-mutable", "--secret", secret, "--value-hex", "00ff", "--seq", "1700000000000000",
            "--bootstrap", _net.Bootstrap, "--timeout", "20");
        Assert.True(put.Exit == 0, put.Error);

        var run = await Offline("reader", "resolve", key.ToString(), "--policy", "network-only");
        AssertFails(run, ExitCodes.InvalidSignedPacket, "(seq 1700000000000000) is signed but is not a DNS packet");
    }

    [Fact]
    public async Task A_dht_nobody_answers_is_a_network_error_with_exit_2()
    {
        var (secret, key) = NewKey();

        // A UDP port on 127.0.0.1 bound by a socket that never reads: DHT queries to it go unanswered.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        string silent = socket.LocalEndPoint!.ToString()!;
        var resolve = await RunPkarr("resolve", key.ToString(), "--policy", "network-only", "--bootstrap", silent, "--no-relays",
            "--cache-dir", CacheDir("c"), "--timeout", "20");
        AssertFails(resolve, ExitCodes.NetworkError, $"resolving {key} failed");

        var publish = await RunPkarr("publish", "--secret", secret, "--zone", File(Zone), "--bootstrap", silent, "--no-relays",
            "--cache-dir", CacheDir("c"), "--timeout", "20");
        Assert.Equal(ExitCodes.NetworkError, publish.Exit);
        Assert.StartsWith("dht: failed: ", publish.Lines[1], StringComparison.Ordinal);
        Assert.StartsWith("verdict: failed: ", publish.Lines[2], StringComparison.Ordinal);
        Assert.StartsWith($"error: publishing {key} failed: ", publish.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relay_that_does_not_answer_gets_its_own_line_and_fails_the_publish()
    {
        var (secret, key) = NewKey();
        string relay = $"http://{ClosedTcpEndpoint()}/";
        var text = await RunPkarr("publish", "--secret", secret, "--zone", File(Zone), "--no-dht", "--relay", relay,
            "--cache-dir", CacheDir("c"), "--timeout", "20");
        Assert.Equal(ExitCodes.NetworkError, text.Exit);
        Assert.StartsWith($"relay {relay}: no answer, failed: ", text.Lines[1], StringComparison.Ordinal);
        Assert.StartsWith("verdict: failed: ", text.Lines[2], StringComparison.Ordinal);
        Assert.Contains($"publishing {key} failed", text.Error, StringComparison.Ordinal);

        var json = await RunPkarr("publish", "--secret", secret, "--zone", File(Zone), "--no-dht", "--relay", relay,
            "--cache-dir", CacheDir("c"), "--json", "--timeout", "20");
        Assert.Equal(ExitCodes.NetworkError, json.Exit);
        var root = JsonDocument.Parse(json.Out).RootElement;
        Assert.False(root.GetProperty("published").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("dht").ValueKind);
        var outcome = Assert.Single(root.GetProperty("relays").EnumerateArray());
        Assert.Equal(relay, outcome.GetProperty("relay").GetString());
        Assert.Equal(JsonValueKind.Null, outcome.GetProperty("status").ValueKind);
        Assert.False(string.IsNullOrEmpty(outcome.GetProperty("error").GetProperty("kind").GetString()));
        Assert.Equal(root.GetProperty("error").GetProperty("kind").GetString(), outcome.GetProperty("error").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Endpoints_lists_the_https_endpoint_with_the_apex_addresses_or_exits_3()
    {
        var (secret, key) = NewKey();
        Assert.Equal(0, (await Offline("publisher", "publish", "--secret", secret, "--zone", File(Zone))).Exit);

        var text = await Offline("reader", "endpoints", $"https://{key}/path");
        Assert.True(text.Exit == 0, text.Error);
        Assert.Equal($"priority=1 target=. port=8443 addresses=192.0.2.10,2001:db8::10 params=\"alpn=\\\"h2\\\" port=8443\" key={key}", Assert.Single(text.Lines));

        var json = await Offline("reader", "endpoints", key.ToString(), "--json");
        Assert.True(json.Exit == 0, json.Error);
        var root = JsonDocument.Parse(Assert.Single(json.Lines)).RootElement;
        Assert.Equal(".", root.GetProperty("target").GetString());
        Assert.Equal(8443, root.GetProperty("port").GetInt32());
        Assert.Equal(["192.0.2.10", "2001:db8::10"], root.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(["alpn=\"h2\"", "port=8443"], root.GetProperty("params").EnumerateArray().Select(a => a.GetString()));

        // Records at the apex only: a subdomain has no endpoint; nor does a key nobody published.
        AssertFails(await Offline("reader", "endpoints", $"api.{key}"), ExitCodes.NotFound, $"no HTTPS endpoint found for api.{key}");
        var (_, unknown) = NewKey();
        AssertFails(await Offline("reader", "endpoints", unknown.ToString()), ExitCodes.NotFound, "no HTTPS endpoint found");
    }

    [Theory]
    [InlineData("resolve {key} --policy bogus --no-relays", "--policy 'bogus' is not a resolve policy")]
    [InlineData("resolve {key} --relay ftp://relay", "--relay 'ftp://relay' is not an absolute http or https URL")]
    [InlineData("resolve {key} --no-dht --no-relays", "--no-dht and --no-relays together leave no network")]
    [InlineData("resolve nope --no-relays", "'nope' is not a public key")]
    [InlineData("endpoints nope.example --no-relays", "'nope.example' does not end in a public key")]
    [InlineData("endpoints {key} --scheme 1bad --no-relays", "'1bad' is not a URI scheme")]
    public async Task Bad_input_is_one_line_with_exit_1(string commandLine, string reason)
    {
        var (_, key) = NewKey();
        string[] args = commandLine.Replace("{key}", key.ToString(), StringComparison.Ordinal).Split(' ');
        AssertFails(await RunPkarr([.. args, "--bootstrap", _net.Bootstrap, "--cache-dir", CacheDir("c")]), ExitCodes.BadInput, reason);
    }

    [Fact]
    public async Task Both_cache_options_and_a_relay_with_no_relays_are_refused()
    {
        var (_, key) = NewKey();
        AssertFails(
            await RunPkarr("resolve", key.ToString(), "--bootstrap", _net.Bootstrap, "--no-relays", "--no-cache", "--cache-dir", CacheDir("c")),
            ExitCodes.BadInput, "give either --cache-dir or --no-cache");
        AssertFails(
            await RunPkarr("resolve", key.ToString(), "--bootstrap", _net.Bootstrap, "--no-relays", "--relay", "http://127.0.0.1:1/", "--no-cache"),
            ExitCodes.BadInput, "give either --relay or --no-relays");
    }

    [Fact]
    public async Task Publish_refuses_a_bad_zone_file_before_any_network_traffic()
    {
        var (secret, _) = NewKey();
        var run = await Offline("c", "publish", "--secret", secret, "--zone", File("@ IN A 192.0.2.1\nwww IN A 999.1.2.3\n"));
        AssertFails(run, ExitCodes.BadInput, "line 2");
        Assert.False(Directory.Exists(CacheDir("c")), "the zone file is read before the client (and its cache) is created");
    }

    [Fact]
    public void The_exit_code_of_a_failed_publish_says_refused_or_network()
    {
        var (_, key) = NewKey();
        Assert.Equal(ExitCodes.Refused, CliErrors.PublishFailed(key, PublishError.NotMostRecent).ExitCode);
        Assert.Equal(ExitCodes.Refused, CliErrors.PublishFailed(key, new PublishError(PublishErrorKind.Rejected, 302, "old")).ExitCode);
        Assert.Equal(ExitCodes.NetworkError, CliErrors.PublishFailed(key, new PublishError(PublishErrorKind.NoResponses)).ExitCode);
        Assert.Equal(ExitCodes.NetworkError, CliErrors.PublishFailed(key, new PublishError(PublishErrorKind.NoDhtNodesQueried)).ExitCode);
    }

    [Fact]
    public void A_refused_publish_prints_the_verdict_alone_and_its_kind_in_json()
    {
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().Address("@", IPAddress.Parse("192.0.2.1"), 300).Sign(keypair);
        var refused = new PublishResult { PublicKey = keypair.PublicKey, Packet = packet, Error = PublishError.NotMostRecent };
        string[] lines = PublishCommand.ToText(packet, refused).Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("verdict: failed: not most recent", lines[1], StringComparison.Ordinal);
        var root = JsonDocument.Parse(PublishCommand.ToJson(packet, refused)).RootElement;
        Assert.Equal("not_most_recent", root.GetProperty("error").GetProperty("kind").GetString());
        Assert.False(root.GetProperty("published").GetBoolean());
    }

    [Fact]
    public async Task Republish_prints_a_line_per_cycle_and_exits_by_the_last_cycle()
    {
        var (secret, key) = NewKey();
        var (_, unpublished) = NewKey();
        Assert.Equal(0, (await Offline("publisher", "publish", "--secret", secret, "--zone", File(Zone))).Exit);

        var ok = await Offline("publisher", "republish", "--secret", secret, "--min-nodes", "3", "--cycles", "2", "--interval", "10ms");
        Assert.True(ok.Exit == 0, ok.Error);
        Assert.Equal(2, ok.Lines.Length);
        Assert.Matches("^cycle 1 at \\S+Z: 1 keys, 1 republished, 0 failed in [0-9.]+ s$", ok.Lines[0]);
        Assert.StartsWith("cycle 2 at ", ok.Lines[1], StringComparison.Ordinal);

        // A key nobody published has nothing to republish: the cycle names it, and the exit code is 2.
        var json = await Offline("other", "republish", "--key", key.ToString(), "--key", unpublished.ToString(),
            "--min-nodes", "3", "--cycles", "1", "--json");
        Assert.Equal(ExitCodes.NetworkError, json.Exit);
        var root = JsonDocument.Parse(Assert.Single(json.Lines)).RootElement;
        Assert.Equal(1, root.GetProperty("republished").GetInt32());
        Assert.Equal(1, root.GetProperty("failed").GetInt32());
        var keys = root.GetProperty("keys").EnumerateArray().ToList();
        Assert.Equal([key.ToString(), unpublished.ToString()], keys.Select(k => k.GetProperty("public_key").GetString()));
        Assert.Equal(["republished", "no_packet"], keys.Select(k => k.GetProperty("outcome").GetString()));
        Assert.True(keys[0].GetProperty("holders").GetInt32() >= 3);

        var text = await Offline("other", "republish", "--key", unpublished.ToString(), "--cycles", "1");
        Assert.Equal(ExitCodes.NetworkError, text.Exit);
        Assert.EndsWith($"1 keys, 0 republished, 1 failed in {text.Out.Split(" failed in ")[1].Split(' ')[0]} s; {unpublished}: no packet known for it (publish one first)",
            Assert.Single(text.Lines), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("republish --no-relays", "give at least one --secret FILE or --key KEY")]
    [InlineData("republish --key {key} --interval soon --no-relays", "--interval 'soon' is not a positive duration")]
    [InlineData("republish --key {key} --min-nodes -1 --no-relays", "--min-nodes must be 0 or more")]
    [InlineData("republish --key {key} --cycles 0 --no-relays", "--cycles must be at least 1")]
    [InlineData("republish --key nope --no-relays", "'nope' is not a public key")]
    public async Task Bad_republish_input_is_one_line_with_exit_1(string commandLine, string reason) =>
        await Bad_input_is_one_line_with_exit_1(commandLine, reason);

    [Theory]
    [InlineData("90", 90)]
    [InlineData("1.5", 1.5)]
    [InlineData("500ms", 0.5)]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("1h", 3600)]
    [InlineData("2d", 172800)]
    [InlineData("01:00:00", 3600)]
    public void Durations_parse_with_or_without_a_unit(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), RepublishCommand.ParseDuration(text));

    [Theory]
    [InlineData("0")]
    [InlineData("-5s")]
    [InlineData("1y")]
    [InlineData("h")]
    [InlineData("")]
    [InlineData("00:00:00")]
    public void Other_durations_are_refused(string text) =>
        Assert.Throws<FormatException>(() => RepublishCommand.ParseDuration(text));

    [Theory]
    [InlineData("cache-only", ResolvePolicy.CacheOnly)]
    [InlineData("cache-first", ResolvePolicy.CacheFirst)]
    [InlineData("network-only", ResolvePolicy.NetworkOnly)]
    [InlineData("NetworkOnly", ResolvePolicy.NetworkOnly)]
    public void Policies_parse_in_both_spellings(string text, ResolvePolicy policy) =>
        Assert.Equal(policy, ResolveCommand.ParsePolicy(text));

    [Theory]
    [InlineData("cacheonly")]
    [InlineData("Cache-Only")]
    [InlineData("")]
    public void Other_policy_names_are_refused(string text) =>
        Assert.Throws<FormatException>(() => ResolveCommand.ParsePolicy(text));

    /// <summary>A TCP port on 127.0.0.1 that nothing listens on: connections are refused at once.</summary>
    private static string ClosedTcpEndpoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        string endpoint = listener.LocalEndpoint.ToString()!;
        listener.Stop();
        return endpoint;
    }
}
