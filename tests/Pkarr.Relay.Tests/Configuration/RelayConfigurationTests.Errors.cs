using Pkarr.Relay.Configuration;

namespace Pkarr.Relay.Tests.Configuration;

public sealed partial class RelayConfigurationTests
{
    private const string AllRateLimiterKeys = """
        [rate_limiter]
        behind_proxy = false
        quota = "2r/s"
        dht_quota = "2r/s"
        user_dht_quota = "2r/s"
        """;

    [Fact]
    public void A_bad_quota_names_the_file_the_line_the_key_and_the_syntax()
    {
        var e = _files.Refused(RateLimiter("quota = \"5mb/s\""), "rate_limiter.quota", 3);

        Assert.Equal($"{e.Source}:3: rate_limiter.quota: \"5mb/s\" is not \"<N>r/<unit>\" (e.g. \"2r/s\")", e.Message);
    }

    [Theory]
    [InlineData("2r-s")]            // missing '/'
    [InlineData("2r")]              // missing '/' and unit
    [InlineData("2/s")]             // missing 'r'
    [InlineData("r/s")]             // missing count
    [InlineData("0r/s")]            // zero
    [InlineData("-1r/s")]
    [InlineData("5mb/s")]           // another unit
    [InlineData("2r/w")]
    [InlineData("2r/S")]
    [InlineData("2147483648r/s")]   // beyond 32 bits
    [InlineData("2147483647r/s")]   // so high that one token comes back in no time
    [InlineData("")]
    public void Quotas_outside_the_reference_syntax_are_refused(string quota)
    {
        foreach (var key in new[] { "quota", "dht_quota", "user_dht_quota" })
        {
            var toml = AllRateLimiterKeys.Replace($"\n{key} = \"2r/s\"", $"\n{key} = \"{quota}\"", StringComparison.Ordinal);
            var e = _files.Refused(toml, "rate_limiter." + key);
            Assert.Contains($"\"{quota}\"", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_quota_that_is_not_a_string_is_refused()
    {
        var e = _files.Refused(RateLimiter("quota = 2"), "rate_limiter.quota", 3);

        Assert.Contains("2 is not a quota \"<N>r/<unit>\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_minimum_ttl_above_the_maximum_is_refused()
    {
        var e = _files.Refused("[cache]\nminimum_ttl = 700\nmaximum_ttl = 600\n", "cache.minimum_ttl", 2);
        Assert.Contains("700 is greater than cache.maximum_ttl (600)", e.Message, StringComparison.Ordinal);

        // Only the maximum set, below the default minimum of 300: the maximum is the key that is wrong.
        _files.Refused("[cache]\nmaximum_ttl = 200\n", "cache.maximum_ttl", 2);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("mainline")]
    [InlineData("cache")]
    [InlineData("republisher")]
    [InlineData("web")]
    public void An_unknown_key_is_refused_in_every_section(string section)
    {
        var e = _files.Refused($"[{section}]\n\ncolour = 1\n", $"{section}.colour", 3);

        Assert.Contains($"is not a key of [{section}]; its keys are ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("colour = 1")]
    [InlineData("per_second = 2")]   // the reference's old keys are errors there too
    [InlineData("burst_size = 10")]
    public void An_unknown_key_is_refused_in_the_rate_limiter_section(string line)
    {
        var key = "rate_limiter." + line.Split(" = ")[0];
        var e = _files.Refused(AllRateLimiterKeys + "\n" + line + "\n", key, 6);

        Assert.Contains("is not a key of [rate_limiter]; its keys are behind_proxy, quota, burst", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_in_a_subtable_of_a_section_is_refused()
    {
        _files.Refused("[http]\nport = 1\n[http.tls]\ncert = \"x\"\n", "http.tls");
    }

    [Fact]
    public void An_unknown_section_is_refused()
    {
        var e = _files.Refused("[http]\nport = 1\n\n[htttp]\nport = 2\n", "htttp", 4);

        Assert.Contains("is not a section; the sections are http, mainline, cache, rate_limiter, republisher, web", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_outside_any_section_is_refused()
    {
        _files.Refused("port = 8080\n", "port", 1);
        _files.Refused("[[http]]\nport = 8080\n", "http", 1);
    }

    [Theory]
    [InlineData("http", "port = \"8080\"", "http.port", "the string \"8080\" is not an integer from 0 to 65535")]
    [InlineData("http", "port = 65536", "http.port", "65536 is not an integer from 0 to 65535")]
    [InlineData("http", "port = -1", "http.port", "-1 is not an integer from 0 to 65535")]
    [InlineData("http", "bind = 1", "http.bind", "1 is not an IPv4 address")]
    [InlineData("http", "bind = \"127.1\"", "http.bind", "the string \"127.1\" is not an IPv4 address")]
    [InlineData("http", "bind = \"::1\"", "http.bind", "the string \"::1\" is not an IPv4 address")]
    [InlineData("mainline", "port = 1.5", "mainline.port", "the float 1.5 is not an integer")]
    [InlineData("mainline", "bootstrap = \"127.0.0.1:6881\"", "mainline.bootstrap", "the string \"127.0.0.1:6881\" is not a list of \"host:port\" strings")]
    [InlineData("mainline", "bootstrap = [\"127.0.0.1:6881\", 6881]", "mainline.bootstrap[1]", "6881 is not a \"host:port\"")]
    [InlineData("mainline", "bootstrap = [\"127.0.0.1\"]", "mainline.bootstrap[0]", "the string \"127.0.0.1\" is not a \"host:port\"")]
    [InlineData("mainline", "bootstrap = [\"127.0.0.1:0\"]", "mainline.bootstrap[0]", "is not a \"host:port\"")]
    [InlineData("cache", "size = -1", "cache.size", "-1 is not an integer from 0 to 2147483647")]
    [InlineData("cache", "size = true", "cache.size", "true is not an integer")]
    [InlineData("cache", "hot_size = \"big\"", "cache.hot_size", "is not an integer")]
    [InlineData("cache", "minimum_ttl = 4294967296", "cache.minimum_ttl", "is not an integer from 0 to 4294967295")]
    [InlineData("cache", "backend = \"postgres\"", "cache.backend", "the string \"postgres\" is not \"sqlite\" or \"redis\"")]
    [InlineData("cache", "backend = \"SQLite\"", "cache.backend", "is not \"sqlite\" or \"redis\"")]
    [InlineData("cache", "redis_url = \"\"", "cache.redis_url", "the string \"\" is not a Redis server")]
    [InlineData("cache", "path = 1", "cache.path", "1 is not a directory path")]
    [InlineData("republisher", "enabled = \"yes\"", "republisher.enabled", "the string \"yes\" is not a boolean (true or false)")]
    [InlineData("republisher", "interval = 0", "republisher.interval", "0 is not an integer from 1 to")]
    [InlineData("republisher", "concurrency = 0", "republisher.concurrency", "0 is not an integer from 1 to")]
    [InlineData("republisher", "max_keys = { a = 1 }", "republisher.max_keys", "a table is not an integer")]
    [InlineData("republisher", "max_keys = 1979-05-27", "republisher.max_keys", "the date-time 1979-05-27 is not an integer")]
    [InlineData("web", "root = [\"a\"]", "web.root", "a list is not a directory path")]
    public void A_value_of_the_wrong_type_or_range_is_refused(string section, string line, string key, string problem)
    {
        var e = _files.Refused($"[{section}]\n{line}\n", key, 2);

        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("burst = 0", "rate_limiter.burst")]
    [InlineData("dht_burst = -2", "rate_limiter.dht_burst")]
    [InlineData("user_dht_burst = \"3\"", "rate_limiter.user_dht_burst")]
    [InlineData("behind_proxy = 1", "rate_limiter.behind_proxy")]
    public void Bad_rate_limiter_values_are_refused(string line, string key)
    {
        var toml = line.StartsWith("behind_proxy", StringComparison.Ordinal)
            ? AllRateLimiterKeys.Replace("behind_proxy = false", line, StringComparison.Ordinal)
            : AllRateLimiterKeys + "\n" + line + "\n";

        _files.Refused(toml, key);
    }

    [Theory]
    [InlineData("rate_limiter.behind_proxy", "true or false")]
    [InlineData("rate_limiter.quota", "a quota")]
    [InlineData("rate_limiter.dht_quota", "a quota")]
    [InlineData("rate_limiter.user_dht_quota", "a quota")]
    public void A_rate_limiter_section_without_a_required_key_is_refused(string key, string accepted)
    {
        var name = key["rate_limiter.".Length..];
        var toml = string.Join('\n', AllRateLimiterKeys.Split('\n').Where(l => !l.StartsWith(name + " ", StringComparison.Ordinal)));

        var e = _files.Refused("# relay\n" + toml, key, 2);

        Assert.Contains($"is required in [rate_limiter] ({accepted}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_rate_limiter_section_is_refused()
    {
        _files.Refused("[rate_limiter]\n", "rate_limiter.behind_proxy", 1);
    }

    [Fact]
    public void A_missing_cache_directory_is_refused()
    {
        var e = _files.Refused("[cache]\npath = \"nowhere\"\n", "cache.path", 2);

        Assert.Contains($"the string \"nowhere\" is not an existing directory (resolved to {Path.Combine(_files.Root, "nowhere")}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_web_root_is_refused()
    {
        _files.Refused("[web]\nroot = \"wwwroot\"\n", "web.root", 2);
    }

    [Fact]
    public void A_cache_path_that_is_a_file_is_refused()
    {
        _files.Write("", "plain");

        _files.Refused("[cache]\npath = \"plain\"\n", "cache.path", 2);
    }

    [Fact]
    public void A_toml_syntax_error_names_the_file_and_line()
    {
        var e = _files.Refused("[http]\nport = 8080\n\nbind = \n", key: null, line: 4);
        Assert.Contains("not valid TOML", e.Message, StringComparison.Ordinal);

        // Duplicate keys are TOML errors, not "the last one wins".
        _files.Refused("[http]\nport = 1\nport = 2\n", key: null, line: 3);
        _files.Refused("[http]\n[cache]\n[http]\n", key: null, line: 3);
        _files.Refused("[http]\nbind = \"0.0.0.0\n", key: null, line: 2);
    }

    [Fact]
    public void A_missing_file_is_refused_by_its_path()
    {
        var path = Path.Combine(_files.Root, "absent.toml");

        var e = Assert.Throws<RelayConfigurationException>(() => RelayConfiguration.Load(path, ConfigFiles.NoEnvironment));

        Assert.Equal(path, e.Source);
        Assert.Null(e.Key);
        Assert.Equal($"{path}: the configuration file does not exist", e.Message);
    }
}
