// The relay's configuration (shared spec pkarr.md §6.5–6.7): an optional TOML file, then PKARR_RELAY__… environment
// variables on top, checked key by key into RelayOptions. Both sources become Settings (Setting.cs) and go through
// the one table of keys below, so a value is read and refused the same way wherever it was written.
//
// We are stricter than the reference: it rejects unknown keys only in [rate_limiter] and ignores them elsewhere, so
// "prot = 8080" under [http] silently runs on 6881. Here an unknown section or key anywhere is an error, because a
// typo in a server's configuration should stop it at start, not change its behaviour unseen.
//
// Without a file the built-in defaults apply, rate limiting on (2r/s, burst 2, spec §6.5). With a file, a missing
// [rate_limiter] section turns rate limiting off, as in the reference; an environment variable for any rate_limiter
// key creates the section, whose required keys must then all be set.

using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay.Configuration;

/// <summary>Loads <see cref="RelayOptions"/> from the relay's TOML file and <c>PKARR_RELAY__…</c> environment
/// variables.</summary>
public static partial class RelayConfiguration
{
    /// <summary>How each key is read into the options. Its keys are every key the relay accepts.</summary>
    private static readonly Dictionary<string, Action<RelayOptions, Setting>> Keys = new(StringComparer.Ordinal)
    {
        ["http.port"] = (o, s) => o.Http.Port = s.Port(),
        ["http.bind"] = (o, s) => o.Http.BindAddress = s.Ipv4Address(),
        ["mainline.port"] = (o, s) => o.Mainline.Port = s.Port(),
        ["mainline.bind"] = (o, s) => o.Mainline.BindAddress = s.Ipv4Address(),
        ["mainline.bootstrap"] = (o, s) => o.Mainline.Bootstrap = [.. s.List("a list of \"host:port\" strings").Select(e => e.EndPoint())],
        ["cache.backend"] = (o, s) => o.Cache.Backend = s.Choice(("sqlite", StoreBackend.Sqlite), ("redis", StoreBackend.Redis)),
        ["cache.path"] = (o, s) => o.Cache.Path = s.Directory(),
        ["cache.size"] = (o, s) => o.Cache.Size = s.Count(0),
        ["cache.hot_size"] = (o, s) => o.Cache.HotSize = s.Count(0),
        ["cache.minimum_ttl"] = (o, s) => o.Cache.MinimumTtl = (uint)s.Integer(0, uint.MaxValue),
        ["cache.maximum_ttl"] = (o, s) => o.Cache.MaximumTtl = (uint)s.Integer(0, uint.MaxValue),
        ["cache.redis_url"] = (o, s) => o.Cache.RedisUrl = s.Text(RedisUrlAccepted),
        ["cache.redis_prefix"] = (o, s) => o.Cache.RedisPrefix = s.Text("a key prefix such as \"pkarr:\""),
        ["rate_limiter.behind_proxy"] = (o, s) => o.RateLimiter!.BehindProxy = s.Boolean(),
        ["rate_limiter.quota"] = (o, s) => o.RateLimiter!.Quota = s.Quota(),
        ["rate_limiter.burst"] = (o, s) => o.RateLimiter!.Burst = s.Count(1),
        ["rate_limiter.dht_quota"] = (o, s) => o.RateLimiter!.DhtQuota = s.Quota(),
        ["rate_limiter.dht_burst"] = (o, s) => o.RateLimiter!.DhtBurst = s.Count(1),
        ["rate_limiter.user_dht_quota"] = (o, s) => o.RateLimiter!.UserDhtQuota = s.Quota(),
        ["rate_limiter.user_dht_burst"] = (o, s) => o.RateLimiter!.UserDhtBurst = s.Count(1),
        ["republisher.enabled"] = (o, s) => o.Republisher.Enabled = s.Boolean(),
        ["republisher.max_keys"] = (o, s) => o.Republisher.MaxKeys = s.Count(0),
        ["republisher.interval"] = (o, s) => o.Republisher.Interval = TimeSpan.FromSeconds(s.Count(1)),
        ["republisher.concurrency"] = (o, s) => o.Republisher.Concurrency = s.Count(1),
        ["web.enabled"] = (o, s) => o.Web.Enabled = s.Boolean(),
        ["web.root"] = (o, s) => o.Web.Root = s.Directory(),
    };

    /// <summary>The keys a <c>[rate_limiter]</c> section must have (spec §6.7): the reference has no defaults for
    /// them once the section is there.</summary>
    private static readonly string[] RequiredRateLimiterKeys =
        ["rate_limiter.behind_proxy", "rate_limiter.quota", "rate_limiter.dht_quota", "rate_limiter.user_dht_quota"];

    private const string RedisUrlAccepted = "a Redis server such as \"127.0.0.1:6379\" or \"redis://host:6379\"";

    private static readonly string[] Sections = [.. Keys.Keys.Select(SectionOf).Distinct()];

    /// <summary>Every key the relay accepts, as <c>section.key</c>.</summary>
    internal static IEnumerable<string> KnownKeys => Keys.Keys;

    /// <summary>
    /// Reads the relay's settings: the TOML file at <paramref name="path"/> (or the built-in defaults when null), then
    /// the <c>PKARR_RELAY__&lt;SECTION&gt;__&lt;KEY&gt;</c> variables of <paramref name="environment"/> on top.
    /// </summary>
    /// <param name="path">The TOML file; relative paths in it are relative to its directory. Null: no file.</param>
    /// <param name="environment">Environment variables; null reads the process's. A null value counts as unset.</param>
    /// <returns>Options for <see cref="RelayServer.StartAsync"/>; the caller sets the clock, logging and
    /// <see cref="RelayOptions.Testnet"/>.</returns>
    /// <exception cref="RelayConfigurationException">The file is missing or not TOML, or a section, key or value is
    /// not accepted; the message names the file and line or the variable, the key, and what is accepted.</exception>
    public static RelayOptions Load(string? path, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var file = path is null ? new SettingLayer() : TomlSettings.Read(path);
        var merged = file.Merge(EnvironmentSettings.Read(environment ?? EnvironmentSettings.Process()));

        foreach (var (name, origin) in merged.Sections)
        {
            if (!Sections.Contains(name))
            {
                throw Error.ConfigKey(origin, name, $"is not a section; the sections are {string.Join(", ", Sections)}");
            }
        }

        var options = new RelayOptions();
        if (path is not null)
        {
            options.RateLimiter = null;
        }

        if (options.RateLimiter is null && merged.Sections.TryGetValue("rate_limiter", out var rateLimiter))
        {
            if (RequiredRateLimiterKeys.FirstOrDefault(k => !merged.Settings.ContainsKey(k)) is { } missing)
            {
                throw Error.ConfigKey(rateLimiter, missing, rateLimiter.FromEnvironment
                    ? $"is required once a rate_limiter key is set and the file has no [rate_limiter] section; set {EnvironmentSettings.Prefix}{missing.Replace(".", "__", StringComparison.Ordinal).ToUpperInvariant()} too ({Required(missing)})"
                    : $"is required in [rate_limiter] ({Required(missing)}); without the section, rate limiting is off");
            }

            options.RateLimiter = new RateLimiterSettings();
        }

        foreach (var setting in merged.Settings.Values)
        {
            if (!Keys.TryGetValue(setting.Key, out var read))
            {
                var keys = Keys.Keys.Where(k => SectionOf(k) == setting.Section).Select(k => k[(k.IndexOf('.', StringComparison.Ordinal) + 1)..]);
                throw Error.ConfigKey(setting.Origin, setting.Key, $"is not a key of [{setting.Section}]; its keys are {string.Join(", ", keys)}");
            }

            read(options, setting);
        }

        CheckTogether(options, merged);
        return options;
    }

    /// <summary>The rules that tie keys together, checked once every value is read.</summary>
    private static void CheckTogether(RelayOptions options, SettingLayer merged)
    {
        var cache = options.Cache;
        if (cache.MinimumTtl > cache.MaximumTtl)
        {
            throw merged.Settings.TryGetValue("cache.minimum_ttl", out var minimum)
                ? Error.ConfigValue(minimum, $"{cache.MinimumTtl} is greater than cache.maximum_ttl ({cache.MaximumTtl})")
                : Error.ConfigValue(merged.Settings["cache.maximum_ttl"], $"{cache.MaximumTtl} is less than cache.minimum_ttl ({cache.MinimumTtl})");
        }

        if (cache.Backend == StoreBackend.Redis && cache.RedisUrl is null)
        {
            throw Error.ConfigKey(merged.Settings["cache.backend"].Origin, "cache.redis_url", $"is required when cache.backend is \"redis\": {RedisUrlAccepted}");
        }

        if (options.RateLimiter is { } limits)
        {
            // The reference's default burst is the quota's count: a full second's (minute's …) worth at once.
            limits.Burst ??= limits.Quota.Count;
            limits.DhtBurst ??= limits.DhtQuota.Count;
            limits.UserDhtBurst ??= limits.UserDhtQuota.Count;
        }
    }

    private static string Required(string key) =>
        key == "rate_limiter.behind_proxy" ? "true or false" : "a quota \"<N>r/<unit>\", e.g. \"2r/s\"";

    private static string SectionOf(string key) => key[..key.IndexOf('.', StringComparison.Ordinal)];
}
