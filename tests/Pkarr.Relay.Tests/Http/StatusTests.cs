// The status page (shared spec pkarr.md §6.9), GET /api/status, and the web app at / (built in, or a folder) with
// the status page moved to /status.

using System.Globalization;
using System.Net;
using System.Text.Json;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay.Http;
using Pkarr.Relay.RateLimiting;
using static Pkarr.Relay.Tests.Http.HttpApiSupport;

namespace Pkarr.Relay.Tests.Http;

public sealed class StatusTests
{
    [Theory]
    [InlineData(0L, "0")]
    [InlineData(999L, "999")]
    [InlineData(1_234L, "1,234")]
    [InlineData(9_999L, "9,999")]
    [InlineData(10_000L, "10.0K")]
    [InlineData(12_345L, "12.3K")]
    [InlineData(999_949L, "999.9K")]
    [InlineData(999_960L, "1.0M")]
    [InlineData(1_000_000L, "1.0M")]
    [InlineData(4_560_000L, "4.6M")]
    [InlineData(1_250_000_000L, "1.3B")]
    [InlineData(2_000_000_000_000L, "2,000.0B")]
    public void Counts_are_abbreviated_from_ten_thousand_and_separated_below(long value, string shown) =>
        Assert.Equal(shown, StatusPage.Count(value));

    [Fact]
    public void The_page_shows_the_three_blocks_with_formatted_values()
    {
        var status = Status("0.1.0", packets: 1_234, capacity: 1_000_000, publicAddress: "203.0.113.5:7000", firewalled: false, estimate: 12_345, stddev: 0.056);

        string html = StatusPage.Render(status);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("<title>Pkarr Relay</title>", html, StringComparison.Ordinal);
        Assert.Contains("background:#000", html, StringComparison.Ordinal);
        Assert.Contains("monospace", html, StringComparison.Ordinal);
        Assert.Contains("https://github.com/pubky/pkarr/blob/main/design/relays.md", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Versioning</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Cache stats</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Dht Info</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Version</dt><dd>0.1.0</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Packets</dt><dd>1,234</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Capacity</dt><dd>1.0M</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Utilisation</dt><dd>0.12%</dd>", html, StringComparison.Ordinal);
        // The public port wins over the bound one when known.
        Assert.Contains("<dt>Port</dt><dd>7000</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Firewalled</dt><dd>no</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Size estimate</dt><dd>12.3K ± 5.6%</dd>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<form", html, StringComparison.OrdinalIgnoreCase);

        string other = StatusPage.Render(Status("0.1.0", packets: 0, capacity: 0, publicAddress: null, firewalled: true, estimate: 0, stddev: null));
        Assert.Contains("<dt>Port</dt><dd>6881</dd>", other, StringComparison.Ordinal);
        Assert.Contains("<dt>Firewalled</dt><dd>yes</dd>", other, StringComparison.Ordinal);
        Assert.Contains("<dt>Utilisation</dt><dd>0.00%</dd>", other, StringComparison.Ordinal);
        Assert.Contains("<dt>Size estimate</dt><dd>0</dd>", other, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_value_on_the_page_is_html_encoded()
    {
        string html = StatusPage.Render(Status("<script>alert('x')</script>&\"", packets: 1, capacity: 10, publicAddress: null, firewalled: false, estimate: 1, stddev: 0));

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_web_app_the_relay_serves_the_page_at_root_and_the_status_json()
    {
        await using var relay = await RelayFixture.StartAsync(o => o.Web.Enabled = false);
        for (int i = 0; i < 3; i++)
        {
            using var keypair = Keypair.Random();
            Assert.True(await relay.Server.Store!.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair))));
        }

        using var page = await relay.Http.GetAsync("/");
        string html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html; charset=utf-8", Raw(page, "Content-Type"));
        Assert.Equal(StatusPage.ContentSecurityPolicy, Raw(page, "Content-Security-Policy"));
        Assert.Contains("<title>Pkarr Relay</title>", html, StringComparison.Ordinal);
        Assert.Contains($"<dt>Version</dt><dd>{RelayStatus.RelayVersion}</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Packets</dt><dd>3</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Capacity</dt><dd>1.0M</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Utilisation</dt><dd>0.00%</dd>", html, StringComparison.Ordinal);
        Assert.Contains($"<dt>Port</dt><dd>{relay.Server.DhtEndPoint.Port}</dd>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<form", html, StringComparison.OrdinalIgnoreCase);

        using var head = await SendAsync(relay.Http, HttpMethod.Head, "/");
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        // Without the web app, /status is not a route: it is parsed as a key.
        using var status = await relay.Http.GetAsync("/status");
        Assert.Equal(HttpStatusCode.BadRequest, status.StatusCode);

        using var api = await relay.Http.GetAsync("/api/status");
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.Equal("application/json; charset=utf-8", Raw(api, "Content-Type"));
        using var json = JsonDocument.Parse(await api.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal(["version", "uptime_seconds", "store", "dht", "rate_limits", "requests"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(RelayStatus.RelayVersion, root.GetProperty("version").GetString());
        Assert.DoesNotContain('+', RelayStatus.RelayVersion);
        Assert.InRange(root.GetProperty("uptime_seconds").GetInt64(), 0, 600);

        var store = root.GetProperty("store");
        Assert.Equal(3, store.GetProperty("packets").GetInt64());
        Assert.Equal(1_000_000, store.GetProperty("capacity").GetInt64());
        Assert.Equal("sqlite", store.GetProperty("backend").GetString());
        Assert.Equal(relay.Server.StoreLocation, store.GetProperty("location").GetString());

        var dht = root.GetProperty("dht");
        Assert.Equal(
            ["local_port", "public_address", "firewalled", "server_mode", "size_estimate", "size_estimate_stddev", "routing_table_size"],
            dht.EnumerateObject().Select(p => p.Name));
        Assert.Equal(relay.Server.DhtEndPoint.Port, dht.GetProperty("local_port").GetInt32());
        Assert.True(dht.GetProperty("server_mode").GetBoolean());
        Assert.InRange(dht.GetProperty("routing_table_size").GetInt32(), 1, 100);
        Assert.True(dht.GetProperty("firewalled").ValueKind is JsonValueKind.True or JsonValueKind.False);
        Assert.True(dht.GetProperty("public_address").ValueKind is JsonValueKind.String or JsonValueKind.Null);

        Assert.False(root.GetProperty("rate_limits").GetProperty("enabled").GetBoolean());

        var requests = root.GetProperty("requests");
        Assert.Equal(["window_seconds", "resolves", "publishes", "rate_limited"], requests.EnumerateObject().Select(p => p.Name));
        Assert.Equal(60, requests.GetProperty("window_seconds").GetInt32());
        Assert.Equal(["last_minute", "total"], requests.GetProperty("resolves").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task The_built_in_web_app_is_served_at_root_by_default_with_its_modules_and_the_page_moves_to_status()
    {
        await using var relay = await RelayFixture.StartAsync();

        using var index = await relay.Http.GetAsync("/");
        string html = await index.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.StartsWith("text/html", Raw(index, "Content-Type"), StringComparison.Ordinal);
        Assert.Equal(RelayApi.WebContentSecurityPolicy, Raw(index, "Content-Security-Policy"));
        Assert.Equal("nosniff", Raw(index, "X-Content-Type-Options"));
        Assert.Equal("no-cache", Raw(index, "Cache-Control"));
        Assert.Contains("<script type=\"module\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<title>Pkarr Relay</title>", html, StringComparison.Ordinal);

        // The vendored Ed25519 library sits at its path, hyphenated folder included.
        using var vendored = await relay.Http.GetAsync("/vendor/noble-ed25519/index.js");
        Assert.Equal(HttpStatusCode.OK, vendored.StatusCode);
        Assert.Contains("javascript", Raw(vendored, "Content-Type"), StringComparison.Ordinal);
        Assert.Contains("export {", await vendored.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var licence = await relay.Http.GetAsync("/vendor/noble-ed25519/LICENSE");
        Assert.Equal(HttpStatusCode.OK, licence.StatusCode);

        using var missing = await relay.Http.GetAsync("/js/missing.js");
        Assert.NotEqual(HttpStatusCode.OK, missing.StatusCode);

        using var page = await relay.Http.GetAsync("/status");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<title>Pkarr Relay</title>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task The_web_app_files_are_compressed_for_clients_that_ask_and_payloads_never(string encoding)
    {
        await using var relay = await RelayFixture.StartAsync();
        using var keypair = Keypair.Random();
        var packet = Packet(keypair);
        Assert.True(await relay.Server.Store!.PutIfNewerAsync(CachedPacket.Seen(packet)));

        using var plain = await relay.Http.GetAsync("/vendor/noble-ed25519/index.js");
        byte[] identity = await plain.Content.ReadAsByteArrayAsync();
        Assert.Empty(plain.Content.Headers.ContentEncoding);

        using var compressed = await SendAsync(relay.Http, HttpMethod.Get, "/vendor/noble-ed25519/index.js", r => r.Headers.Add("Accept-Encoding", encoding));
        Assert.Equal([encoding], compressed.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", compressed.Headers.Vary);
        byte[] body = await compressed.Content.ReadAsByteArrayAsync();
        Assert.True(body.Length < identity.Length / 2, $"{body.Length} bytes compressed of {identity.Length}");
        using var input = new MemoryStream(body);
        using Stream decoder = encoding == "br"
            ? new System.IO.Compression.BrotliStream(input, System.IO.Compression.CompressionMode.Decompress)
            : new System.IO.Compression.GZipStream(input, System.IO.Compression.CompressionMode.Decompress);
        using var output = new MemoryStream();
        await decoder.CopyToAsync(output);
        Assert.Equal(identity, output.ToArray());

        using var payload = await SendAsync(relay.Http, HttpMethod.Get, "/" + keypair.PublicKey.ToZ32(), r => r.Headers.Add("Accept-Encoding", encoding));
        Assert.Empty(payload.Content.Headers.ContentEncoding);
        Assert.Equal(packet.RelayPayload.ToArray(), await payload.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_web_app_files_pass_the_http_rate_limit_and_the_api_does_not()
    {
        await using var relay = await RelayFixture.StartAsync(o => o.RateLimiter = new RateLimiterSettings
        {
            Quota = new Quota(1, QuotaUnit.Minute),
            Burst = 1,
            DhtQuota = new Quota(1000, QuotaUnit.Second),
            UserDhtQuota = new Quota(1000, QuotaUnit.Second),
        });

        // A page load: the document and its modules, more than the burst many times over.
        for (int i = 0; i < 5; i++)
        {
            foreach (string path in (string[])["/", "/vendor/noble-ed25519/index.js", "/vendor/noble-hashes/sha2.js"])
            {
                using var file = await relay.Http.GetAsync(path);
                Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            }
        }

        using (var first = await relay.Http.GetAsync("/api/status"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using var second = await relay.Http.GetAsync("/api/status");
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        using var key = await relay.Http.GetAsync("/" + Keypair.Random().PublicKey.ToZ32());
        Assert.Equal(HttpStatusCode.TooManyRequests, key.StatusCode);
    }

    [Fact]
    public void The_status_counts_resolves_publishes_and_refusals_over_the_last_minute()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.Parse("2026-12-02T12:00:00Z", CultureInfo.InvariantCulture));
        var rates = new Pkarr.Relay.Metrics.RequestRates(time);
        rates.Resolve();
        rates.Resolve();
        rates.Publish();
        time.Advance(TimeSpan.FromSeconds(30));
        rates.Resolve();
        rates.RateLimited();

        Assert.Equal(new(3, 3), rates.Resolves);
        Assert.Equal(new(1, 1), rates.Publishes);
        Assert.Equal(new(1, 1), rates.RateLimitedRequests);

        // The first three leave the window after 60 s; the totals stay.
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(new(1, 3), rates.Resolves);
        Assert.Equal(new(0, 1), rates.Publishes);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(new(1, 3), rates.Resolves);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(new(0, 3), rates.Resolves);

        // A slot used again a minute later starts from zero.
        rates.Resolve();
        Assert.Equal(new(1, 4), rates.Resolves);
        time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(new(0, 4), rates.Resolves);
        Assert.Equal(new(0, 1), rates.RateLimitedRequests);

        // Refused HTTP requests count; dropped DHT queries of other nodes are not requests to the relay.
        using var metrics = new Pkarr.Relay.Metrics.RelayMetrics(time);
        metrics.RateLimited("http");
        metrics.RateLimited("user_dht");
        metrics.RateLimited("dht");
        Assert.Equal(new(2, 2), metrics.Rates.RateLimitedRequests);
    }

    [Fact]
    public async Task The_relay_counts_its_requests_and_says_where_a_packet_came_from()
    {
        await using var relay = await RelayFixture.StartAsync();
        using var keypair = Keypair.Random();
        var packet = Packet(keypair);
        string key = keypair.PublicKey.ToZ32();

        using (var put = await SendAsync(relay.Http, HttpMethod.Put, "/" + key, r => r.Content = new ByteArrayContent(packet.RelayPayload.ToArray())))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        using (var cached = await relay.Http.GetAsync("/" + key))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
            Assert.Equal("cache", Raw(cached, RelayApi.SourceHeader));
        }

        using (var network = await relay.Http.GetAsync("/" + key + "?policy=NetworkOnly"))
        {
            Assert.Equal(HttpStatusCode.OK, network.StatusCode);
            Assert.Equal("dht", Raw(network, RelayApi.SourceHeader));
        }

        using (var bad = await relay.Http.GetAsync("/not-a-key"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.False(bad.Headers.Contains(RelayApi.SourceHeader));
        }

        using var api = await relay.Http.GetAsync("/api/status");
        using var json = JsonDocument.Parse(await api.Content.ReadAsStringAsync());
        var requests = json.RootElement.GetProperty("requests");
        Assert.Equal(3, requests.GetProperty("resolves").GetProperty("last_minute").GetInt64());
        Assert.Equal(3, requests.GetProperty("resolves").GetProperty("total").GetInt64());
        Assert.Equal(1, requests.GetProperty("publishes").GetProperty("total").GetInt64());
        Assert.Equal(0, requests.GetProperty("rate_limited").GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task A_web_app_folder_is_served_at_root_and_the_page_moves_to_status()
    {
        string folder = Directory.CreateTempSubdirectory("pkarr-web-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "index.html"), "<!DOCTYPE html><title>web app</title>");
            await File.WriteAllTextAsync(Path.Combine(folder, "app.js"), "export const app = 1;");
            await File.WriteAllTextAsync(Path.Combine(folder, ".secret"), "hidden");
            await using var relay = await RelayFixture.StartAsync(o =>
            {
                o.Web.Root = folder;
                o.RateLimiter = new RateLimiterSettings
                {
                    Quota = new Quota(1000, QuotaUnit.Second),
                    DhtQuota = new Quota(1000, QuotaUnit.Second),
                    UserDhtQuota = new Quota(1000, QuotaUnit.Second),
                };
            });

            using var index = await relay.Http.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, index.StatusCode);
            Assert.Equal("<!DOCTYPE html><title>web app</title>", await index.Content.ReadAsStringAsync());
            Assert.StartsWith("text/html", Raw(index, "Content-Type"), StringComparison.Ordinal);
            Assert.Equal(RelayApi.WebContentSecurityPolicy, Raw(index, "Content-Security-Policy"));

            using var script = await relay.Http.GetAsync("/app.js");
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
            Assert.Equal("export const app = 1;", await script.Content.ReadAsStringAsync());
            Assert.Contains("javascript", Raw(script, "Content-Type"), StringComparison.Ordinal);

            using var hidden = await relay.Http.GetAsync("/.secret");
            Assert.NotEqual(HttpStatusCode.OK, hidden.StatusCode);
            using var missing = await relay.Http.GetAsync("/missing.js");
            Assert.NotEqual(HttpStatusCode.OK, missing.StatusCode);

            using var page = await relay.Http.GetAsync("/status");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<title>Pkarr Relay</title>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var api = await relay.Http.GetAsync("/api/status");
            using var json = JsonDocument.Parse(await api.Content.ReadAsStringAsync());
            Assert.True(json.RootElement.GetProperty("rate_limits").GetProperty("enabled").GetBoolean());

            // Keys are still keys.
            using var keypair = Keypair.Random();
            var packet = Packet(keypair);
            Assert.True(await relay.Server.Store!.PutIfNewerAsync(CachedPacket.Seen(packet)));
            using var get = await relay.Http.GetAsync(keypair.PublicKey.ToZ32() + "?policy=CacheOnly");
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(packet.RelayPayload.ToArray(), await get.Content.ReadAsByteArrayAsync());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_web_app_folder_fails_the_start()
    {
        string folder = Path.Combine(Path.GetTempPath(), "pkarr-web-missing-" + Guid.NewGuid().ToString("N"));

        var error = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => RelayFixture.StartAsync(o => o.Web.Root = folder));

        Assert.Contains(folder, error.Message, StringComparison.Ordinal);
    }

    private static RelayStatus Status(string version, long packets, long capacity, string? publicAddress, bool firewalled, long estimate, double? stddev) =>
        new(version, 42,
            new StoreStatus(packets, capacity, "sqlite", "/var/lib/pkarr/packets.db"),
            new DhtStatus(6881, publicAddress, firewalled, true, estimate, stddev, 8),
            new RateLimitStatus(false),
            new RequestStatus(60, new(0, 0), new(0, 0), new(0, 0)));
}
