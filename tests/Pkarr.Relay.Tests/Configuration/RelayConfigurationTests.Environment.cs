using System.Net;
using Pkarr.Relay.Configuration;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay.Tests.Configuration;

public sealed partial class RelayConfigurationTests
{
    private static Dictionary<string, string?> Environment(params (string Name, string? Value)[] variables) =>
        variables.ToDictionary(v => v.Name, v => v.Value);

    [Fact]
    public void A_variable_overrides_the_files_value_and_keeps_the_rest()
    {
        var options = _files.Load("[http]\nport = 7000\nbind = \"127.0.0.1\"\n[cache]\nsize = 10\n",
            Environment(("PKARR_RELAY__HTTP__PORT", "8080"), ("pkarr_relay__Cache__Size", "20"), ("OTHER__HTTP__PORT", "1")));

        Assert.Equal(8080, options.Http.Port);
        Assert.Equal(IPAddress.Loopback, options.Http.BindAddress);
        Assert.Equal(20, options.Cache.Size);
    }

    [Fact]
    public void Variables_apply_on_top_of_the_defaults_without_a_file()
    {
        var options = RelayConfiguration.Load(null, Environment(
            ("PKARR_RELAY__RATE_LIMITER__QUOTA", "10r/s"),
            ("PKARR_RELAY__RATE_LIMITER__BEHIND_PROXY", "TRUE"),
            ("PKARR_RELAY__REPUBLISHER__ENABLED", "false"),
            ("PKARR_RELAY__MAINLINE__PORT", "0"),
            ("PKARR_RELAY__WEB__ROOT", null)));

        var limits = options.RateLimiter!;
        Assert.Equal(new Quota(10, QuotaUnit.Second), limits.Quota);
        Assert.True(limits.BehindProxy);
        Assert.Equal(2, limits.Burst); // the default configuration's burst, not the new quota's count
        Assert.Equal(new Quota(2, QuotaUnit.Second), limits.DhtQuota);
        Assert.False(options.Republisher.Enabled);
        Assert.Equal(0, options.Mainline.Port);
        Assert.Null(options.Web.Root);
    }

    [Fact]
    public void Variables_create_the_rate_limiter_section_a_file_leaves_out()
    {
        var options = _files.Load("[http]\nport = 7000\n", Environment(
            ("PKARR_RELAY__RATE_LIMITER__BEHIND_PROXY", "false"),
            ("PKARR_RELAY__RATE_LIMITER__QUOTA", "5r/s"),
            ("PKARR_RELAY__RATE_LIMITER__DHT_QUOTA", "6r/m"),
            ("PKARR_RELAY__RATE_LIMITER__USER_DHT_QUOTA", "7r/h"),
            ("PKARR_RELAY__RATE_LIMITER__USER_DHT_BURST", "1")));

        var limits = options.RateLimiter!;
        Assert.Equal(new Quota(5, QuotaUnit.Second), limits.Quota);
        Assert.Equal(5, limits.Burst);
        Assert.Equal(new Quota(6, QuotaUnit.Minute), limits.DhtQuota);
        Assert.Equal(6, limits.DhtBurst);
        Assert.Equal(new Quota(7, QuotaUnit.Hour), limits.UserDhtQuota);
        Assert.Equal(1, limits.UserDhtBurst);
    }

    [Fact]
    public void A_rate_limiter_created_by_variables_needs_its_required_keys()
    {
        var path = _files.Write("[http]\nport = 7000\n");

        var e = ConfigFiles.RefusedBy(path, Environment(("PKARR_RELAY__RATE_LIMITER__QUOTA", "5r/s")),
            "PKARR_RELAY__RATE_LIMITER__QUOTA", "rate_limiter.behind_proxy");

        Assert.Contains("set PKARR_RELAY__RATE_LIMITER__BEHIND_PROXY too", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_variable_completes_the_files_rate_limiter_section()
    {
        var options = _files.Load("[rate_limiter]\nbehind_proxy = true\nquota = \"1r/s\"\ndht_quota = \"1r/s\"\n",
            Environment(("PKARR_RELAY__RATE_LIMITER__USER_DHT_QUOTA", "3r/s")));

        Assert.Equal(new Quota(3, QuotaUnit.Second), options.RateLimiter!.UserDhtQuota);
    }

    [Theory]
    [InlineData("PKARR_RELAY__HTTP__PORT", "abc", "http.port", "\"abc\" is not an integer from 0 to 65535")]
    [InlineData("PKARR_RELAY__HTTP__PORT", "70000", "http.port", "\"70000\" is not an integer from 0 to 65535")]
    [InlineData("PKARR_RELAY__HTTP__PORT", "", "http.port", "\"\" is not an integer")]
    [InlineData("PKARR_RELAY__RATE_LIMITER__QUOTA", "5mb/s", "rate_limiter.quota", "\"5mb/s\" is not \"<N>r/<unit>\" (e.g. \"2r/s\")")]
    [InlineData("PKARR_RELAY__REPUBLISHER__ENABLED", "yes", "republisher.enabled", "\"yes\" is not a boolean (true or false)")]
    [InlineData("PKARR_RELAY__CACHE__BACKEND", "mysql", "cache.backend", "\"mysql\" is not \"sqlite\" or \"redis\"")]
    [InlineData("PKARR_RELAY__CACHE__MINIMUM_TTL", "90000", "cache.minimum_ttl", "90000 is greater than cache.maximum_ttl (86400)")]
    [InlineData("PKARR_RELAY__HTTP__PROT", "8080", "http.prot", "is not a key of [http]; its keys are port, bind")]
    [InlineData("PKARR_RELAY__HTTTP__PORT", "8080", "htttp", "is not a section")]
    [InlineData("PKARR_RELAY__HTTP", "8080", "http", "is not PKARR_RELAY__<SECTION>__<KEY>")]
    [InlineData("PKARR_RELAY__HTTP__PORT__X__Y", "8080", "http.port", "is not PKARR_RELAY__<SECTION>__<KEY>")]
    [InlineData("PKARR_RELAY__MAINLINE__BOOTSTRAP", "127.0.0.1:6881", "mainline.bootstrap", "\"127.0.0.1:6881\" is not a list of \"host:port\" strings; set one variable per entry: PKARR_RELAY__MAINLINE__BOOTSTRAP__0")]
    [InlineData("PKARR_RELAY__MAINLINE__BOOTSTRAP__X", "127.0.0.1:6881", "mainline.bootstrap", "\"x\" is not a list index")]
    [InlineData("PKARR_RELAY__CACHE__BACKEND", "redis", "cache.redis_url", "is required when cache.backend is \"redis\"")]
    public void A_bad_variable_is_refused_by_its_name(string variable, string value, string key, string problem)
    {
        var path = _files.Write("[http]\nport = 7000\n" + AllRateLimiterKeys);

        var e = ConfigFiles.RefusedBy(path, Environment((variable, value)), variable, key);

        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void List_entries_from_variables_replace_the_files_list_whole()
    {
        var options = _files.Load("[mainline]\nbootstrap = [\"a.example:1\", \"b.example:2\", \"c.example:3\"]\n", Environment(
            ("PKARR_RELAY__MAINLINE__BOOTSTRAP__1", "127.0.0.1:6882"),
            ("PKARR_RELAY__MAINLINE__BOOTSTRAP__0", "127.0.0.1:6881")));

        Assert.Equal(["127.0.0.1:6881", "127.0.0.1:6882"], options.Mainline.Bootstrap!);
    }

    [Fact]
    public void A_bad_list_entry_or_a_gap_is_refused_by_its_variable()
    {
        ConfigFiles.RefusedBy(null, Environment(
                ("PKARR_RELAY__MAINLINE__BOOTSTRAP__0", "127.0.0.1:6881"),
                ("PKARR_RELAY__MAINLINE__BOOTSTRAP__1", "no-port")),
            "PKARR_RELAY__MAINLINE__BOOTSTRAP__1", "mainline.bootstrap[1]");

        var gap = ConfigFiles.RefusedBy(null, Environment(
                ("PKARR_RELAY__MAINLINE__BOOTSTRAP__0", "127.0.0.1:6881"),
                ("PKARR_RELAY__MAINLINE__BOOTSTRAP__2", "127.0.0.1:6883")),
            "PKARR_RELAY__MAINLINE__BOOTSTRAP__2", "mainline.bootstrap");
        Assert.Contains("entry 1 is missing", gap.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_set_by_two_variables_is_refused()
    {
        var e = Assert.Throws<RelayConfigurationException>(() => RelayConfiguration.Load(null, Environment(
            ("PKARR_RELAY__HTTP__PORT", "1"), ("pkarr_relay__http__port", "2"))));

        Assert.Equal("http.port", e.Key);
        Assert.Contains("more than one variable", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_relative_path_in_a_variable_is_relative_to_the_working_directory()
    {
        var store = _files.Directory("store");
        var relative = Path.GetRelativePath(System.Environment.CurrentDirectory, store);

        var options = _files.Load("", Environment(("PKARR_RELAY__CACHE__PATH", relative)));

        Assert.Equal(store, options.Cache.Path);
    }

    [Fact]
    public void Without_a_dictionary_the_process_environment_is_read()
    {
        const string Variable = "PKARR_RELAY__REPUBLISHER__MAX_KEYS";
        System.Environment.SetEnvironmentVariable(Variable, "1234");
        try
        {
            Assert.Equal(1234, RelayConfiguration.Load(null).Republisher.MaxKeys);
            Assert.Equal(10_000, RelayConfiguration.Load(null, ConfigFiles.NoEnvironment).Republisher.MaxKeys);
        }
        finally
        {
            System.Environment.SetEnvironmentVariable(Variable, null);
        }
    }
}
