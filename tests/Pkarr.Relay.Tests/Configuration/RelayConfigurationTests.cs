using System.Net;
using Pkarr.Relay.Configuration;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay.Tests.Configuration;

public sealed partial class RelayConfigurationTests : IDisposable
{
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Without_a_file_the_defaults_apply_with_rate_limiting_on()
    {
        var options = RelayConfiguration.Load(null, ConfigFiles.NoEnvironment);

        Assert.Equal(ConfigFiles.Snapshot(new RelayOptions()), ConfigFiles.Snapshot(options));
        Assert.Equal(6881, options.Http.Port);
        Assert.Equal(IPAddress.Any, options.Http.BindAddress);
        Assert.Null(options.Mainline.Port);
        Assert.Null(options.Mainline.Bootstrap);
        Assert.Null(options.Cache.Path);
        Assert.Equal(1_000_000, options.Cache.Size);
        Assert.Equal(300u, options.Cache.MinimumTtl);
        Assert.Equal(86400u, options.Cache.MaximumTtl);
        var limits = Assert.IsType<RateLimiterSettings>(options.RateLimiter);
        Assert.False(limits.BehindProxy);
        Assert.Equal(new Quota(2, QuotaUnit.Second), limits.Quota);
        Assert.Equal(2, limits.Burst);
        Assert.Equal(new Quota(2, QuotaUnit.Second), limits.DhtQuota);
        Assert.Equal(2, limits.DhtBurst);
        Assert.Equal(new Quota(2, QuotaUnit.Second), limits.UserDhtQuota);
        Assert.Equal(2, limits.UserDhtBurst);
    }

    [Fact]
    public void A_file_without_a_rate_limiter_section_turns_rate_limiting_off()
    {
        var options = _files.Load("[http]\nport = 7000\n");

        Assert.Null(options.RateLimiter);
        Assert.Equal(7000, options.Http.Port);

        var empty = _files.Load("");
        Assert.Null(empty.RateLimiter);
        var defaults = new RelayOptions { RateLimiter = null };
        Assert.Equal(ConfigFiles.Snapshot(defaults), ConfigFiles.Snapshot(empty));
    }

    [Fact]
    public void The_example_file_gives_the_defaults()
    {
        var options = _files.Load(RelayConfiguration.ExampleToml);

        Assert.Equal(ConfigFiles.Snapshot(RelayConfiguration.Load(null, ConfigFiles.NoEnvironment)), ConfigFiles.Snapshot(options));
        Assert.NotNull(options.RateLimiter);
    }

    [Fact]
    public void The_example_file_shows_every_key_in_its_section()
    {
        var shown = new HashSet<string>();
        string? section = null;
        foreach (var line in RelayConfiguration.ExampleToml.Split('\n'))
        {
            if (line.StartsWith('['))
            {
                section = line.Trim('[', ']');
            }
            else if (section is not null && line.TrimStart('#', ' ').Split(" = ") is [var key, _])
            {
                shown.Add(section + "." + key);
            }
        }

        Assert.Equal(RelayConfiguration.KnownKeys.Order(), shown.Order());
    }

    [Fact]
    public void Every_key_is_read()
    {
        var cache = _files.Directory("conf/store");
        var web = _files.Directory("conf/site");
        var options = _files.Load("""
            [http]
            port = 8080
            bind = "127.0.0.1"

            [mainline]
            port = 0
            bind = "127.0.0.2"
            bootstrap = ["127.0.0.1:6881", "router.example:6882", "[::1]:6883"]

            [cache]
            backend = "redis"
            path = "store"
            size = 500
            hot_size = 50
            minimum_ttl = 60
            maximum_ttl = 600
            redis_url = "127.0.0.1:6379,password=secret"
            redis_prefix = "fleet-a:"

            [rate_limiter]
            behind_proxy = true
            quota = "10r/m"
            burst = 20
            dht_quota = "3r/h"
            dht_burst = 4
            user_dht_quota = "5r/d"
            user_dht_burst = 6

            [republisher]
            enabled = false
            max_keys = 99
            interval = 120
            concurrency = 3

            [web]
            root = "site"
            """, name: "conf/relay.toml");

        Assert.Equal(8080, options.Http.Port);
        Assert.Equal(IPAddress.Loopback, options.Http.BindAddress);
        Assert.Equal(0, options.Mainline.Port);
        Assert.Equal(IPAddress.Parse("127.0.0.2"), options.Mainline.BindAddress);
        Assert.Equal(["127.0.0.1:6881", "router.example:6882", "[::1]:6883"], options.Mainline.Bootstrap!);
        Assert.Equal(StoreBackend.Redis, options.Cache.Backend);
        Assert.Equal(cache, options.Cache.Path);
        Assert.Equal(500, options.Cache.Size);
        Assert.Equal(50, options.Cache.HotSize);
        Assert.Equal(60u, options.Cache.MinimumTtl);
        Assert.Equal(600u, options.Cache.MaximumTtl);
        Assert.Equal("127.0.0.1:6379,password=secret", options.Cache.RedisUrl);
        Assert.Equal("fleet-a:", options.Cache.RedisPrefix);
        var limits = options.RateLimiter!;
        Assert.True(limits.BehindProxy);
        Assert.Equal(new Quota(10, QuotaUnit.Minute), limits.Quota);
        Assert.Equal(20, limits.Burst);
        Assert.Equal(new Quota(3, QuotaUnit.Hour), limits.DhtQuota);
        Assert.Equal(4, limits.DhtBurst);
        Assert.Equal(new Quota(5, QuotaUnit.Day), limits.UserDhtQuota);
        Assert.Equal(6, limits.UserDhtBurst);
        Assert.False(options.Republisher.Enabled);
        Assert.Equal(99, options.Republisher.MaxKeys);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Republisher.Interval);
        Assert.Equal(3, options.Republisher.Concurrency);
        Assert.Equal(web, options.Web.Root);
    }

    [Fact]
    public void Bursts_default_to_their_quotas_count()
    {
        var limits = _files.Load("""
            [rate_limiter]
            behind_proxy = false
            quota = "7r/s"
            dht_quota = "8r/m"
            user_dht_quota = "9r/h"
            user_dht_burst = 1
            """).RateLimiter!;

        Assert.Equal(7, limits.Burst);
        Assert.Equal(8, limits.DhtBurst);
        Assert.Equal(1, limits.UserDhtBurst);
    }

    [Theory]
    [InlineData("1r/s", 1, QuotaUnit.Second)]
    [InlineData("10r/m", 10, QuotaUnit.Minute)]
    [InlineData("100r/h", 100, QuotaUnit.Hour)]
    [InlineData("86400r/d", 86400, QuotaUnit.Day)]
    [InlineData("10000000r/s", 10_000_000, QuotaUnit.Second)]
    public void Quotas_in_the_reference_syntax_are_accepted(string quota, int count, QuotaUnit unit)
    {
        var options = _files.Load(RateLimiter($"quota = \"{quota}\""));

        Assert.Equal(new Quota(count, unit), options.RateLimiter!.Quota);
    }

    [Fact]
    public void Relative_paths_are_relative_to_the_files_directory_and_canonicalised()
    {
        var store = _files.Directory("data/store");
        var site = _files.Directory("site");
        var options = _files.Load("""
            [cache]
            path = "../data/./store/"
            [web]
            root = "../site"
            """, name: "etc/relay.toml");

        Assert.Equal(store, options.Cache.Path);
        Assert.Equal(site, options.Web.Root);
        Assert.True(Path.IsPathFullyQualified(options.Cache.Path!));

        // The same relative path is refused when the directory is not beside the file.
        _files.Refused("[cache]\npath = \"../data/store\"\n", "cache.path", 2);
    }

    [Fact]
    public void A_cache_path_that_is_a_symbolic_link_is_replaced_by_its_target()
    {
        var target = _files.Directory("real");
        File.CreateSymbolicLink(Path.Combine(_files.Root, "link"), target);

        var options = _files.Load("[cache]\npath = \"link\"\n");

        Assert.Equal(target, options.Cache.Path);
    }

    [Fact]
    public void The_redis_backend_needs_a_redis_url()
    {
        var e = _files.Refused("[cache]\nbackend = \"redis\"\n", "cache.redis_url", 2);
        Assert.Contains("required when cache.backend is \"redis\"", e.Message, StringComparison.Ordinal);

        var options = _files.Load("[cache]\nbackend = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\n");
        Assert.Equal(StoreBackend.Redis, options.Cache.Backend);
        Assert.Equal("redis://127.0.0.1:6379", options.Cache.RedisUrl);
    }

    [Fact]
    public void Equal_ttl_bounds_are_accepted()
    {
        var options = _files.Load("[cache]\nminimum_ttl = 600\nmaximum_ttl = 600\n");

        Assert.Equal(600u, options.Cache.MinimumTtl);
        Assert.Equal(600u, options.Cache.MaximumTtl);
    }

    /// <summary>A complete [rate_limiter] section with <paramref name="line"/> replacing its quota.</summary>
    private static string RateLimiter(string line) => $"""
        [rate_limiter]
        behind_proxy = false
        {line}
        dht_quota = "2r/s"
        user_dht_quota = "2r/s"
        """;
}
