using System.Net;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Tests.Metrics;

/// <summary>GET /metrics on a real relay: the relay's counters and gauges, ASP.NET Core's request histogram and
/// Kestrel's connection gauges, in the Prometheus text format.</summary>
public sealed class MetricsTests
{
    private static readonly TimeSpan PollDelay = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task After_a_few_requests_metrics_show_the_relay_series_request_durations_and_state_gauges()
    {
        await using var relay = await RelayFixture.StartAsync();
        var (key, packet) = NewPacket();
        Assert.Equal(HttpStatusCode.NoContent, await PutAsync(relay, key, packet));
        for (int i = 0; i < 3; i++)
        {
            using var hit = await relay.Http.GetAsync(key);
            Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
        }

        using (var missing = await relay.Http.GetAsync(NewPacket().Key + "?policy=CacheOnly"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var invalid = await relay.Http.GetAsync("not-a-key"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        }

        // Request durations are recorded as each request ends and the store gauge within a second of the write:
        // scrape until both show (bounded).
        var samples = await ScrapeUntilAsync(relay, s =>
            Value(s, "pkarr_relay_store_packets") == 1
            && Value(s, "http_server_request_duration_seconds_count", ("http_request_method", "GET"), ("http_response_status_code", "400")) == 1);

        Assert.Equal(3, Value(samples, "pkarr_relay_cache_lookups_total", ("result", "hit")));
        Assert.Equal(1, Value(samples, "pkarr_relay_cache_lookups_total", ("result", "miss")));
        Assert.Equal(1, Value(samples, "pkarr_relay_publishes_total", ("outcome", "stored")));
        Assert.Null(Value(samples, "pkarr_relay_publishes_total", ("outcome", "conflict")));

        // Requests by route and status, with the latency histogram's buckets.
        Assert.Equal(3, Value(samples, "http_server_request_duration_seconds_count",
            ("http_route", "/{key}"), ("http_request_method", "GET"), ("http_response_status_code", "200")));
        Assert.Equal(1, Value(samples, "http_server_request_duration_seconds_count",
            ("http_route", "/{key}"), ("http_request_method", "PUT"), ("http_response_status_code", "204")));
        Assert.Equal(1, Value(samples, "http_server_request_duration_seconds_count",
            ("http_route", "/{key}"), ("http_request_method", "GET"), ("http_response_status_code", "404")));
        Assert.Equal(3, Value(samples, "http_server_request_duration_seconds_bucket",
            ("http_route", "/{key}"), ("http_response_status_code", "200"), ("le", "+Inf")));
        Assert.True(Value(samples, "http_server_request_duration_seconds_sum", ("http_response_status_code", "200")) > 0);

        // The scrapes themselves are not counted as requests.
        Assert.DoesNotContain(samples, s => s.Name.StartsWith("http_server_request_duration", StringComparison.Ordinal) && s.Has("http_route", "/metrics"));

        // Kestrel's meter and the state gauges.
        Assert.Contains(samples, s => s.Name == "kestrel_active_connections");
        Assert.Equal(1_000_000, Value(samples, "pkarr_relay_store_capacity"));
        Assert.InRange(Value(samples, "pkarr_relay_dht_routing_table_nodes")!.Value, 1, 30); // a 10-node testnet
        Assert.InRange(Value(samples, "pkarr_relay_dht_size_estimate")!.Value, 1, 10_000);
        Assert.Null(Value(samples, "pkarr_relay_republisher_keys")); // switched off in the fixture
    }

    [Fact]
    public async Task Two_relays_in_one_process_each_export_only_their_own_series()
    {
        await using var busy = await RelayFixture.StartAsync();
        await using var idle = await RelayFixture.StartAsync();
        var (key, packet) = NewPacket();
        Assert.Equal(HttpStatusCode.NoContent, await PutAsync(busy, key, packet));

        var busySamples = await ScrapeUntilAsync(busy, s => Value(s, "pkarr_relay_store_packets") == 1);
        var idleSamples = await ScrapeUntilAsync(idle, s => Value(s, "pkarr_relay_store_packets") is not null);

        Assert.Equal(1, Value(busySamples, "pkarr_relay_publishes_total", ("outcome", "stored")));
        Assert.Equal(1, Value(busySamples, "http_server_request_duration_seconds_count", ("http_request_method", "PUT")));
        Assert.Equal(0, Value(idleSamples, "pkarr_relay_store_packets"));
        Assert.Null(Value(idleSamples, "pkarr_relay_publishes_total", ("outcome", "stored")));
        Assert.Null(Value(idleSamples, "http_server_request_duration_seconds_count", ("http_request_method", "PUT")));
        Assert.Single(idleSamples, s => s.Name == "pkarr_relay_store_capacity");
    }

    private static (string Key, SignedPacket Packet) NewPacket()
    {
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.1")).Sign(keypair);
        return (keypair.PublicKey.ToZ32(), packet);
    }

    private static async Task<HttpStatusCode> PutAsync(RelayFixture relay, string key, SignedPacket packet)
    {
        using var body = new ByteArrayContent(packet.RelayPayload.ToArray());
        using var response = await relay.Http.PutAsync(key, body);
        return response.StatusCode;
    }

    /// <summary>Scrapes until <paramref name="ready"/> holds, for at most 15 s; returns the last scrape either way.</summary>
    private static async Task<IReadOnlyList<PrometheusSample>> ScrapeUntilAsync(RelayFixture relay, Func<IReadOnlyList<PrometheusSample>, bool> ready)
    {
        IReadOnlyList<PrometheusSample> samples = [];
        for (int attempt = 0; attempt < 40; attempt++)
        {
            using var response = await relay.Http.GetAsync("metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            samples = PrometheusSample.Parse(await response.Content.ReadAsStringAsync());
            if (ready(samples))
            {
                return samples;
            }

            await Task.Delay(PollDelay);
        }

        return samples;
    }

    /// <summary>The sum of the samples named <paramref name="name"/> that carry every label given; null when none does.</summary>
    private static double? Value(IReadOnlyList<PrometheusSample> samples, string name, params (string Label, string Value)[] labels)
    {
        var matching = samples.Where(s => s.Name == name && labels.All(l => s.Has(l.Label, l.Value))).ToList();
        return matching.Count == 0 ? null : matching.Sum(s => s.Value);
    }
}
