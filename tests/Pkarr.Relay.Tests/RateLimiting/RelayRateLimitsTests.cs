using System.Diagnostics.Metrics;
using System.Net;
using Mainline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Relay.Metrics;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay.Tests.RateLimiting;

public sealed class RelayRateLimitsTests
{
    private static readonly Quota OnePerSecond = new(1, QuotaUnit.Second);
    private static readonly Quota OnePerMinute = new(1, QuotaUnit.Minute);

    private static IncomingRequest Query(string address, int port = 6881) =>
        new("ping", NodeId.Random(), new IPEndPoint(IPAddress.Parse(address), port));

    private static DefaultHttpContext Request(string peer, string? forwardedFor = null)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwardedFor is not null)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }

        return context;
    }

    /// <summary>Counts the rejections <paramref name="metrics"/> records, by limit.</summary>
    private static MeterListener Rejections(RelayMetrics metrics, Dictionary<string, long> counts)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Name == "pkarr.relay.rate_limited")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "limit")
                {
                    lock (counts)
                    {
                        counts[(string)tag.Value!] = counts.GetValueOrDefault((string)tag.Value!) + value;
                    }
                }
            }
        });
        listener.Start();
        return listener;
    }

    [Fact]
    public void Without_settings_there_is_no_limiter_at_all()
    {
        using var limits = new RelayRateLimits(null, TimeProvider.System);
        Assert.Null(limits.DhtRequestFilter);
        Assert.Null(limits.HttpBuckets);
        Assert.Null(limits.UserDhtBuckets);
        Assert.Null(limits.DhtBuckets);
        var context = Request("192.0.2.1");
        for (int i = 0; i < 100; i++)
        {
            Assert.True(limits.TryAcquireUserDht(context, out var wait));
            Assert.Equal(TimeSpan.Zero, wait);
        }

        var services = new ServiceCollection();
        limits.AddServices(services);
        Assert.Empty(services);

        using var withLimits = new RelayRateLimits(new RateLimiterSettings(), TimeProvider.System);
        withLimits.AddServices(services);
        Assert.NotEmpty(services);
        Assert.NotNull(withLimits.DhtRequestFilter);
    }

    [Fact]
    public void Bursts_default_to_the_quota_count()
    {
        using var limits = new RelayRateLimits(new RateLimiterSettings
        {
            Quota = new Quota(5, QuotaUnit.Minute),
            UserDhtQuota = new Quota(7, QuotaUnit.Hour),
            DhtQuota = new Quota(9, QuotaUnit.Second),
            DhtBurst = 1,
        }, TimeProvider.System);
        Assert.Equal(5, limits.HttpBuckets!.Burst);
        Assert.Equal(7, limits.UserDhtBuckets!.Burst);
        Assert.Equal(1, limits.DhtBuckets!.Burst);
        Assert.Equal(TimeSpan.FromSeconds(12), limits.HttpBuckets.Quota.Period);
    }

    public static TheoryData<string, Action<RateLimiterSettings>> BadSettings => new()
    {
        { "quota", s => s.Quota = new Quota(0, QuotaUnit.Second) },
        { "burst", s => s.Burst = 0 },
        { "user_dht_quota", s => s.UserDhtQuota = default },
        { "user_dht_burst", s => s.UserDhtBurst = -1 },
        { "dht_quota", s => s.DhtQuota = new Quota(-3, QuotaUnit.Day) },
        { "dht_burst", s => s.DhtBurst = 0 },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void Settings_that_make_no_bucket_are_refused_naming_the_key(string key, Action<RateLimiterSettings> spoil)
    {
        var settings = new RateLimiterSettings();
        using (new RelayRateLimits(settings, TimeProvider.System))
        {
        }

        spoil(settings);
        var error = Assert.Throws<ArgumentException>(() => new RelayRateLimits(settings, TimeProvider.System));
        Assert.StartsWith($"[rate_limiter] {key}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dht_filter_drops_queries_above_dht_quota_per_peer_ipv4()
    {
        var clock = new FakeTimeProvider();
        using var metrics = new RelayMetrics();
        var counts = new Dictionary<string, long>();
        using var listener = Rejections(metrics, counts);
        using var limits = new RelayRateLimits(new RateLimiterSettings { DhtQuota = OnePerSecond, DhtBurst = 2 }, clock) { Metrics = metrics };
        var filter = limits.DhtRequestFilter!;

        Assert.True(filter(Query("192.0.2.1")));
        Assert.True(filter(Query("192.0.2.1", 6882)));
        Assert.False(filter(Query("192.0.2.1", 9999)));          // another port of the same IP
        Assert.False(filter(Query("::ffff:192.0.2.1")));         // the same IPv4, mapped
        Assert.True(filter(Query("192.0.2.2")));
        Assert.True(filter(Query("2001:db8::1")));

        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(filter(Query("192.0.2.1")));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(filter(Query("192.0.2.1")));
        Assert.False(filter(Query("192.0.2.1")));

        lock (counts)
        {
            Assert.Equal(4, counts.GetValueOrDefault("dht"));
            Assert.Equal(0, counts.GetValueOrDefault("http"));
        }
    }

    [Fact]
    public void The_user_dht_limit_keys_on_the_real_client_ip()
    {
        var clock = new FakeTimeProvider();
        var settings = new RateLimiterSettings { BehindProxy = true, UserDhtQuota = OnePerMinute, UserDhtBurst = 1 };
        using var limits = new RelayRateLimits(settings, clock);

        Assert.True(limits.TryAcquireUserDht(Request("10.0.0.1", "203.0.113.1"), out _));
        Assert.False(limits.TryAcquireUserDht(Request("10.0.0.1", "203.0.113.1"), out var wait));
        Assert.Equal(TimeSpan.FromMinutes(1), wait);
        Assert.False(limits.TryAcquireUserDht(Request("10.0.0.2", "203.0.113.1"), out _));
        Assert.True(limits.TryAcquireUserDht(Request("10.0.0.1", "203.0.113.2"), out _));
        Assert.True(limits.TryAcquireUserDht(Request("10.0.0.1"), out _));   // the proxy itself
        Assert.False(limits.TryAcquireUserDht(Request("10.0.0.1"), out _));

        clock.Advance(TimeSpan.FromSeconds(15));
        Assert.False(limits.TryAcquireUserDht(Request("10.0.0.1", "203.0.113.1"), out wait));
        Assert.Equal(TimeSpan.FromSeconds(45), wait);
        clock.Advance(TimeSpan.FromSeconds(45));
        Assert.True(limits.TryAcquireUserDht(Request("10.0.0.1", "203.0.113.1"), out _));

        // Not behind a proxy: the header is the client's own word and is ignored.
        using var direct = new RelayRateLimits(new RateLimiterSettings { UserDhtQuota = OnePerMinute, UserDhtBurst = 1 }, clock);
        Assert.True(direct.TryAcquireUserDht(Request("10.0.0.1", "203.0.113.1"), out _));
        Assert.False(direct.TryAcquireUserDht(Request("10.0.0.1", "203.0.113.2"), out _));
    }

    [Fact]
    public async Task Http_rejections_are_counted()
    {
        var clock = new FakeTimeProvider();
        using var metrics = new RelayMetrics();
        var counts = new Dictionary<string, long>();
        using var listener = Rejections(metrics, counts);
        using var limits = new RelayRateLimits(new RateLimiterSettings { Quota = OnePerMinute, Burst = 2 }, clock) { Metrics = metrics };

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        limits.AddServices(builder.Services);
        await using var app = builder.Build();
        limits.UseHttpLimit(app);
        app.MapGet("/", () => "ok");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };

        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++)
        {
            using var response = await http.GetAsync("/");
            statuses.Add(response.StatusCode);
        }

        await app.StopAsync();
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        lock (counts)
        {
            Assert.Equal(3, counts.GetValueOrDefault("http"));
            Assert.Equal(0, counts.GetValueOrDefault("dht"));
        }
    }
}
