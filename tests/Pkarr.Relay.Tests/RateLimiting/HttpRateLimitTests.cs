using System.Net;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay.Tests.RateLimiting;

/// <summary>The rate limits of spec §6.5 on a real relay (Kestrel on 127.0.0.1, testnet behind it); the limits run on a
/// fake clock while the DHT and the store keep real time.</summary>
public sealed class HttpRateLimitTests
{
    private const string Origin = "https://app.example";

    private static Task<RelayFixture> StartAsync(RateLimiterSettings? settings, FakeTimeProvider clock) =>
        RelayFixture.StartAsync(options =>
        {
            options.RateLimiter = settings;
            options.RateLimitClock = clock;
        });

    private static async Task<HttpResponseMessage> SendAsync(RelayFixture relay, HttpMethod method, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await relay.Http.SendAsync(request);
    }

    private static Task<HttpResponseMessage> GetAsync(RelayFixture relay, string path, params (string Name, string Value)[] headers) =>
        SendAsync(relay, HttpMethod.Get, path, headers);

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values) : null;

    private static async Task AssertHttpLimitedAsync(HttpResponseMessage response, int seconds)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(seconds.ToString(), Header(response, "x-ratelimit-after"));
        Assert.Equal(seconds.ToString(), Header(response, "Retry-After"));
        Assert.Equal($"Too Many Requests! Wait for {seconds}s", await response.Content.ReadAsStringAsync());
        Assert.Null(response.Content.Headers.ContentType);

        // Refused before the CORS layer, and without the state headers of granted requests.
        foreach (string name in new[] { "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Vary", "x-ratelimit-limit", "x-ratelimit-remaining" })
        {
            Assert.Null(Header(response, name));
        }
    }

    [Fact]
    public async Task The_http_limit_passes_the_burst_with_its_state_then_answers_429_without_cors()
    {
        var clock = new FakeTimeProvider();
        await using var relay = await StartAsync(new RateLimiterSettings { Quota = new Quota(2, QuotaUnit.Second), Burst = 3 }, clock);

        for (int i = 0; i < 3; i++)
        {
            using var allowed = await GetAsync(relay, "/healthz", ("Origin", Origin));
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            Assert.Equal("3", Header(allowed, "x-ratelimit-limit"));
            Assert.Equal((2 - i).ToString(), Header(allowed, "x-ratelimit-remaining"));
            Assert.Equal(Origin, Header(allowed, "Access-Control-Allow-Origin"));
        }

        using (var refused = await GetAsync(relay, "/healthz", ("Origin", Origin)))
        {
            await AssertHttpLimitedAsync(refused, 0);
        }

        // Every request counts, whatever it asks for; a header naming another client changes nothing without
        // behind_proxy.
        using (var page = await GetAsync(relay, "/status"))
        using (var preflight = await SendAsync(relay, HttpMethod.Options, "/" + Keypair.Random().PublicKey.ToZ32(), ("Origin", Origin), ("Access-Control-Request-Method", "PUT")))
        using (var unknown = await GetAsync(relay, "/no/such/route"))
        using (var spoofed = await GetAsync(relay, "/healthz", ("X-Forwarded-For", "203.0.113.9")))
        {
            await AssertHttpLimitedAsync(page, 0);
            await AssertHttpLimitedAsync(preflight, 0);
            await AssertHttpLimitedAsync(unknown, 0);
            await AssertHttpLimitedAsync(spoofed, 0);
        }

        clock.Advance(TimeSpan.FromMilliseconds(500));
        using var refilled = await GetAsync(relay, "/status");
        Assert.Equal(HttpStatusCode.OK, refilled.StatusCode);
        Assert.Equal("0", Header(refilled, "x-ratelimit-remaining"));
        using var again = await GetAsync(relay, "/status");
        await AssertHttpLimitedAsync(again, 0);
    }

    [Fact]
    public async Task The_wait_is_told_in_whole_seconds_truncated()
    {
        var clock = new FakeTimeProvider();
        await using var relay = await StartAsync(new RateLimiterSettings { Quota = new Quota(1, QuotaUnit.Minute), Burst = 1 }, clock);

        using (var first = await GetAsync(relay, "/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("1", Header(first, "x-ratelimit-limit"));
            Assert.Equal("0", Header(first, "x-ratelimit-remaining"));
        }

        using (var refused = await GetAsync(relay, "/healthz"))
        {
            await AssertHttpLimitedAsync(refused, 60);
        }

        clock.Advance(TimeSpan.FromSeconds(30.5));
        using (var refused = await GetAsync(relay, "/healthz"))
        {
            await AssertHttpLimitedAsync(refused, 29);
        }

        using (var head = await SendAsync(relay, HttpMethod.Head, "/healthz"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, head.StatusCode);
            Assert.Equal("29", Header(head, "Retry-After"));
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }

        clock.Advance(TimeSpan.FromSeconds(29.5));
        using var allowed = await GetAsync(relay, "/healthz");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Preflights_and_cache_lookups_take_http_tokens()
    {
        var clock = new FakeTimeProvider();
        await using var relay = await StartAsync(new RateLimiterSettings { Quota = new Quota(1, QuotaUnit.Hour), Burst = 2 }, clock);
        string key = Keypair.Random().PublicKey.ToZ32();

        using (var preflight = await SendAsync(relay, HttpMethod.Options, "/" + key, ("Origin", Origin), ("Access-Control-Request-Method", "PUT")))
        {
            Assert.Equal(HttpStatusCode.OK, preflight.StatusCode);
            Assert.Equal("1", Header(preflight, "x-ratelimit-remaining"));
            Assert.Equal("PUT", Header(preflight, "Access-Control-Allow-Methods"));
        }

        using (var miss = await GetAsync(relay, "/" + key + "?policy=CacheOnly"))
        {
            Assert.Equal(HttpStatusCode.NotFound, miss.StatusCode);
            Assert.Equal("0", Header(miss, "x-ratelimit-remaining"));
        }

        using var refused = await GetAsync(relay, "/" + key + "?policy=CacheOnly");
        await AssertHttpLimitedAsync(refused, 3600);
    }

    [Fact]
    public async Task Behind_a_proxy_each_forwarded_client_has_its_own_bucket()
    {
        var clock = new FakeTimeProvider();
        await using var relay = await StartAsync(new RateLimiterSettings { BehindProxy = true, Quota = new Quota(1, QuotaUnit.Minute), Burst = 1 }, clock);

        using (var first = await GetAsync(relay, "/healthz", ("X-Forwarded-For", "203.0.113.1, 10.0.0.1")))
        using (var firstAgain = await GetAsync(relay, "/healthz", ("X-Forwarded-For", "203.0.113.1")))
        using (var second = await GetAsync(relay, "/healthz", ("X-Forwarded-For", "unknown, 203.0.113.2")))
        using (var third = await GetAsync(relay, "/healthz", ("X-Real-IP", "203.0.113.3")))
        using (var fourth = await GetAsync(relay, "/healthz", ("Forwarded", "for=\"[2001:db8::4]:443\";proto=https")))
        using (var proxy = await GetAsync(relay, "/healthz"))
        using (var proxyAgain = await GetAsync(relay, "/healthz", ("X-Forwarded-For", "garbage")))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            await AssertHttpLimitedAsync(firstAgain, 60);
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal(HttpStatusCode.OK, third.StatusCode);
            Assert.Equal(HttpStatusCode.OK, fourth.StatusCode);
            Assert.Equal(HttpStatusCode.OK, proxy.StatusCode);       // no header: the TCP peer, 127.0.0.1
            await AssertHttpLimitedAsync(proxyAgain, 60);
        }
    }

    [Fact]
    public async Task The_user_dht_limit_refuses_dht_work_while_cache_hits_still_pass()
    {
        var clock = new FakeTimeProvider();
        await using var relay = await StartAsync(new RateLimiterSettings
        {
            Quota = new Quota(1000, QuotaUnit.Second),
            UserDhtQuota = new Quota(1, QuotaUnit.Minute),
            UserDhtBurst = 1,
        }, clock);
        var keypair = Keypair.Random();
        string key = keypair.PublicKey.ToZ32();
        string missing = Keypair.Random().PublicKey.ToZ32();
        var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.1"), 3600).Sign(keypair);

        using (var body = new ByteArrayContent(packet.RelayPayload.ToArray()))
        using (var put = await relay.Http.PutAsync(key, body))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);   // the one user-DHT token
        }

        for (int i = 0; i < 3; i++)
        {
            using var hit = await GetAsync(relay, "/" + key);
            Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
            Assert.Equal(packet.RelayPayload.ToArray(), await hit.Content.ReadAsByteArrayAsync());
        }

        using (var miss = await GetAsync(relay, "/" + missing, ("Origin", Origin)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, miss.StatusCode);
            Assert.Equal("Too many requests to DHT nodes", await miss.Content.ReadAsStringAsync());
            Assert.Equal("60", Header(miss, "Retry-After"));

            // It passes back out through the HTTP limit and the CORS layer.
            Assert.Equal("1000", Header(miss, "x-ratelimit-limit"));
            Assert.NotNull(Header(miss, "x-ratelimit-remaining"));
            Assert.Equal(Origin, Header(miss, "Access-Control-Allow-Origin"));
            Assert.Equal("true", Header(miss, "Access-Control-Allow-Credentials"));
        }

        using (var networkOnly = await GetAsync(relay, "/" + key + "?policy=NetworkOnly"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, networkOnly.StatusCode);
        }

        using (var cacheOnly = await GetAsync(relay, "/" + missing + "?policy=CacheOnly"))
        {
            Assert.Equal(HttpStatusCode.NotFound, cacheOnly.StatusCode);   // never touches the DHT
        }

        var newer = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.2")).Sign(keypair);
        using (var body = new ByteArrayContent(newer.RelayPayload.ToArray()))
        using (var put = await relay.Http.PutAsync(key, body))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, put.StatusCode);
            Assert.Equal("Too many requests to DHT nodes", await put.Content.ReadAsStringAsync());
        }

        clock.Advance(TimeSpan.FromSeconds(30));
        using (var miss = await GetAsync(relay, "/" + missing))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, miss.StatusCode);
            Assert.Equal("30", Header(miss, "Retry-After"));
        }

        clock.Advance(TimeSpan.FromSeconds(30));
        using var resolved = await GetAsync(relay, "/" + missing);
        Assert.Equal(HttpStatusCode.NotFound, resolved.StatusCode);       // the DHT was asked, and has nothing
    }

    [Fact]
    public async Task Without_limits_nothing_is_refused_and_no_state_is_sent()
    {
        var clock = new FakeTimeProvider();
        await using var relay = await StartAsync(null, clock);
        for (int i = 0; i < 20; i++)
        {
            using var response = await GetAsync(relay, i % 2 == 0 ? "/healthz" : "/status");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Null(Header(response, "x-ratelimit-limit"));
            Assert.Null(Header(response, "x-ratelimit-remaining"));
        }

        for (int i = 0; i < 3; i++)
        {
            using var miss = await GetAsync(relay, "/" + Keypair.Random().PublicKey.ToZ32());
            Assert.Equal(HttpStatusCode.NotFound, miss.StatusCode);
        }
    }
}
