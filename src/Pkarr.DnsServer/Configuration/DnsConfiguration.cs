// The DNS server's TOML file (spec pkarr.md §9.2: pkdns's [general], [dns] and [dht] keys, plus ours, each listed in
// DnsServerOptions.cs) → DnsServerOptions. The relay's reader does the TOML (syntax errors with their line, duplicate
// keys) and the relay's Setting conversions do the common values, so both servers read and refuse alike.
//
// As in the relay, an unknown section or key anywhere is an error naming it and its line: pkdns ignores unknown keys,
// so "mim_ttl = 300" silently keeps 60; a typo in a server's configuration should stop it at start instead.
// pkdns files (config.toml on master, pkdns.toml on the 0.7.1 tag; same keys) load as they are.

using Pkarr.Relay.Configuration;

namespace Pkarr.DnsServer.Configuration;

/// <summary>Loads <see cref="DnsServerOptions"/> from the DNS server's TOML file.</summary>
public static partial class DnsConfiguration
{
    /// <summary>How each key is read into the options. Its keys are every key the server accepts.</summary>
    private static readonly Dictionary<string, Action<DnsServerOptions, Setting>> Keys = new(StringComparer.Ordinal)
    {
        ["general.socket"] = (o, s) => o.General.Listen = s.EndPoint(allowAnyPort: true),
        ["general.forward"] = (o, s) => o.General.Forward = s.Upstreams(),
        ["general.dns_over_http_socket"] = (o, s) => o.General.DohListen = s.EndPoint(allowAnyPort: true),
        ["general.tls_certificate"] = (o, s) => o.General.TlsCertificatePath = s.ExistingFile(),
        ["general.tls_key"] = (o, s) => o.General.TlsKeyPath = s.ExistingFile(),
        ["general.behind_proxy"] = (o, s) => o.General.BehindProxy = s.Boolean(),
        ["general.verbose"] = (o, s) => o.General.Verbose = s.Boolean(),
        ["dns.min_ttl"] = (o, s) => o.Dns.MinTtl = Ttl(s),
        ["dns.max_ttl"] = (o, s) => o.Dns.MaxTtl = Ttl(s),
        ["dns.negative_ttl"] = (o, s) => o.Dns.NegativeTtl = Ttl(s),
        ["dns.serve_stale_ttl"] = (o, s) => o.Dns.ServeStaleTtl = Ttl(s),
        ["dns.query_rate_limit"] = (o, s) => o.Dns.QueryRateLimit = s.Count(0),
        ["dns.query_rate_limit_burst"] = (o, s) => o.Dns.QueryRateLimitBurst = s.Count(1),
        ["dns.disable_any_queries"] = (o, s) => o.Dns.AnyQueries = s.Boolean() ? AnyQueryMode.Refused : o.Dns.AnyQueries,
        ["dns.any_queries"] = (o, s) => o.Dns.AnyQueries = AnyQueries(s),
        ["dns.icann_cache_mb"] = (o, s) => o.Dns.IcannCacheMb = Megabytes(s, 0),
        ["dns.max_recursion_depth"] = (o, s) => o.Dns.MaxRecursionDepth = RecursionDepth(s),
        ["dns.delegate_to_private_addresses"] = (o, s) => o.Dns.DelegateToPrivateAddresses = s.Boolean(),
        ["dns.forward_timeout_ms"] = (o, s) => o.Dns.ForwardTimeout = s.Milliseconds(1, MaxTimeoutMs),
        ["dns.max_udp_payload"] = (o, s) => o.Dns.MaxUdpPayload = (int)s.Integer(MinUdpPayload, MaxUdpPayload),
        ["dns.max_tcp_connections"] = (o, s) => o.Dns.MaxTcpConnections = s.Count(1),
        ["dns.max_tcp_connections_per_ip"] = (o, s) => o.Dns.MaxTcpConnectionsPerIp = s.Count(1),
        ["dns.tcp_idle_timeout_ms"] = (o, s) => o.Dns.TcpIdleTimeout = s.Milliseconds(1, MaxTcpIdleMs),
        ["dht.dht_cache_mb"] = (o, s) => o.Dht.DhtCacheMb = Megabytes(s, 1),
        ["dht.dht_query_rate_limit"] = (o, s) => o.Dht.DhtQueryRateLimit = s.Count(0),
        ["dht.dht_query_rate_limit_burst"] = (o, s) => o.Dht.DhtQueryRateLimitBurst = s.Count(1),
        ["dht.top_level_domain"] = (o, s) => o.Dht.TopLevelDomain = s.TopLevelDomain(),
        ["dht.origins"] = (o, s) => o.Dht.Origins = [.. s.List("a list of domain names such as [\"example.net\"]").Select(e => e.DomainName())],
        ["dht.match_search_suffixes"] = (o, s) => o.Dht.MatchSearchSuffixes = s.Boolean(),
        ["dht.lookup_timeout_ms"] = (o, s) => o.Dht.LookupTimeout = s.Milliseconds(1, MaxTimeoutMs),
        ["dht.use_dht"] = (o, s) => o.Dht.UseDht = s.Boolean(),
        ["dht.bootstrap"] = (o, s) => o.Dht.Bootstrap =
            [.. s.NonEmptyList("a list of \"host:port\" strings", "leave the key out for the public bootstrap nodes").Select(e => e.Bootstrap())],
        ["dht.use_relays"] = (o, s) => o.Dht.UseRelays = s.Boolean(),
        ["dht.relays"] = (o, s) => o.Dht.Relays =
            [.. s.NonEmptyList("a list of relay URLs", "set use_relays = false for none, or leave the key out for the default relays").Select(e => e.Relay())],
    };

    /// <summary>RFC 2181 §8: TTLs are 31-bit.</summary>
    private const long MaxTtl = int.MaxValue;

    /// <summary>RFC 6891 §6.2.5: below 512 means 512; above 4096 invites IP fragmentation (DNS flag day 2020).</summary>
    private const int MinUdpPayload = 512;

    private const int MaxUdpPayload = 4096;

    /// <summary>A resolver gives up on a query within seconds; a longer wait only holds its slot.</summary>
    private const long MaxTimeoutMs = 60_000;

    private const long MaxTcpIdleMs = 3_600_000;

    /// <summary>1 TiB: beyond any machine this runs on, and far from overflowing bytes in a long.</summary>
    private const long MaxMegabytes = 1 << 20;

    private const long MaxRecursion = 255;

    private static readonly string[] Sections = [.. Keys.Keys.Select(SectionOf).Distinct()];

    /// <summary>Every key the server accepts, as <c>section.key</c>.</summary>
    internal static IEnumerable<string> KnownKeys => Keys.Keys;

    /// <summary>
    /// Reads the TOML file at <paramref name="path"/> over <paramref name="defaults"/> (not changed; a copy is
    /// returned). Relative paths in the file are relative to its directory.
    /// </summary>
    /// <param name="path">The file; null: no file, the defaults as they are.</param>
    /// <param name="defaults">What keys left out keep; null: the built-in defaults.</param>
    /// <returns>The options; the caller sets the clock, logging and <see cref="DnsServerOptions.Testnet"/>.</returns>
    /// <exception cref="DnsConfigurationException">The file is missing or not TOML, or a section, key or value is not
    /// accepted; the message names the file, the line and the key, and says what is accepted.</exception>
    public static DnsServerOptions Load(string? path, DnsServerOptions? defaults = null)
    {
        var options = Copy(defaults ?? new DnsServerOptions());
        if (path is null)
        {
            return options;
        }

        try
        {
            var file = TomlSettings.Read(path, string.Join(", ", Sections.Select(s => $"[{s}]")));
            foreach (var (name, origin) in file.Sections)
            {
                if (!Sections.Contains(name))
                {
                    throw Error.ConfigKey(origin, name, $"is not a section; the sections are {string.Join(", ", Sections)}");
                }
            }

            foreach (var setting in file.Settings.Values)
            {
                if (!Keys.TryGetValue(setting.Key, out var read))
                {
                    var keys = Keys.Keys.Where(k => SectionOf(k) == setting.Section).Select(k => k[(k.IndexOf('.', StringComparison.Ordinal) + 1)..]);
                    throw Error.ConfigKey(setting.Origin, setting.Key, $"is not a key of [{setting.Section}]; its keys are {string.Join(", ", keys)}");
                }

                read(options, setting);
            }

            CheckTogether(options, file);
            return options;
        }
        catch (RelayConfigurationException error)
        {
            throw new DnsConfigurationException(error);
        }
    }

    /// <summary>The rules that tie keys together, checked once every value is read.</summary>
    private static void CheckTogether(DnsServerOptions options, SettingLayer file)
    {
        var settings = file.Settings;
        if (options.Dns.MinTtl > options.Dns.MaxTtl)
        {
            throw settings.TryGetValue("dns.min_ttl", out var minimum)
                ? Error.ConfigValue(minimum, $"{options.Dns.MinTtl} is greater than dns.max_ttl ({options.Dns.MaxTtl})")
                : Error.ConfigValue(settings["dns.max_ttl"], $"{options.Dns.MaxTtl} is less than dns.min_ttl ({options.Dns.MinTtl})");
        }

        if (settings.TryGetValue("dns.disable_any_queries", out var disable) && settings.TryGetValue("dns.any_queries", out var mode)
            && disable.Boolean() != (AnyQueries(mode) == AnyQueryMode.Refused))
        {
            throw Error.ConfigValue(mode, $"\"{mode.Value}\" contradicts dns.disable_any_queries = {(disable.Boolean() ? "true" : "false")}{Line(disable)}; keep one of the two keys");
        }

        var general = options.General;
        if ((general.TlsCertificatePath is null) != (general.TlsKeyPath is null))
        {
            var (given, missing) = general.TlsKeyPath is null ? ("general.tls_certificate", "general.tls_key") : ("general.tls_key", "general.tls_certificate");
            throw Error.ConfigKey(settings[given].Origin, missing, $"is required with {given}: TLS needs both the certificate chain and its private key (PEM files)");
        }

        var dht = options.Dht;
        if (!dht.UseDht && !dht.UseRelays)
        {
            var last = new[] { settings.GetValueOrDefault("dht.use_dht"), settings.GetValueOrDefault("dht.use_relays") }
                .OfType<Setting>().MaxBy(s => s.Origin.Line ?? 0)!;
            throw Error.ConfigValue(last, "false leaves no way to find packets: keep use_dht or use_relays true");
        }

        if (!dht.UseRelays && settings.TryGetValue("dht.relays", out var relays))
        {
            throw Error.ConfigValue(relays, "lists relays but dht.use_relays is false: remove one of the two");
        }

        if (!dht.UseDht && settings.TryGetValue("dht.bootstrap", out var bootstrap))
        {
            throw Error.ConfigValue(bootstrap, "lists bootstrap nodes but dht.use_dht is false: remove one of the two");
        }
    }

    private static uint Ttl(Setting setting) => (uint)setting.Integer(0, MaxTtl);

    private static int Megabytes(Setting setting, long min) => (int)setting.Integer(min, MaxMegabytes);

    private static AnyQueryMode AnyQueries(Setting setting) =>
        setting.Choice(("minimal", AnyQueryMode.Minimal), ("hinfo", AnyQueryMode.Hinfo), ("refused", AnyQueryMode.Refused));

    private static int RecursionDepth(Setting setting)
    {
        // pkdns accepts 0 and then answers every query with SERVFAIL (spec §9.5); 0 is never what was meant.
        if (setting.Value is 0L)
        {
            throw Error.ConfigValue(setting, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"0 would fail every query (even a plain answer takes one step); write an integer from 1 to {MaxRecursion} (default 15)"));
        }

        return (int)setting.Integer(1, MaxRecursion);
    }

    private static string Line(Setting setting) => setting.Origin.Line is { } line
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" (line {line})")
        : "";

    private static string SectionOf(string key) => key[..key.IndexOf('.', StringComparison.Ordinal)];

    /// <summary>A deep copy, so that loading never changes the caller's defaults.</summary>
    private static DnsServerOptions Copy(DnsServerOptions source) => new()
    {
        General = new GeneralSettings
        {
            Listen = source.General.Listen,
            Forward = [.. source.General.Forward],
            DohListen = source.General.DohListen,
            TlsCertificatePath = source.General.TlsCertificatePath,
            TlsKeyPath = source.General.TlsKeyPath,
            BehindProxy = source.General.BehindProxy,
            Verbose = source.General.Verbose,
        },
        Dns = new DnsSettings
        {
            MinTtl = source.Dns.MinTtl,
            MaxTtl = source.Dns.MaxTtl,
            NegativeTtl = source.Dns.NegativeTtl,
            ServeStaleTtl = source.Dns.ServeStaleTtl,
            QueryRateLimit = source.Dns.QueryRateLimit,
            QueryRateLimitBurst = source.Dns.QueryRateLimitBurst,
            AnyQueries = source.Dns.AnyQueries,
            IcannCacheMb = source.Dns.IcannCacheMb,
            MaxRecursionDepth = source.Dns.MaxRecursionDepth,
            DelegateToPrivateAddresses = source.Dns.DelegateToPrivateAddresses,
            ForwardTimeout = source.Dns.ForwardTimeout,
            MaxUdpPayload = source.Dns.MaxUdpPayload,
            MaxTcpConnections = source.Dns.MaxTcpConnections,
            MaxTcpConnectionsPerIp = source.Dns.MaxTcpConnectionsPerIp,
            TcpIdleTimeout = source.Dns.TcpIdleTimeout,
        },
        Dht = new DhtSettings
        {
            DhtCacheMb = source.Dht.DhtCacheMb,
            DhtQueryRateLimit = source.Dht.DhtQueryRateLimit,
            DhtQueryRateLimitBurst = source.Dht.DhtQueryRateLimitBurst,
            TopLevelDomain = source.Dht.TopLevelDomain,
            Origins = [.. source.Dht.Origins],
            MatchSearchSuffixes = source.Dht.MatchSearchSuffixes,
            LookupTimeout = source.Dht.LookupTimeout,
            UseDht = source.Dht.UseDht,
            Bootstrap = source.Dht.Bootstrap is null ? null : [.. source.Dht.Bootstrap],
            UseRelays = source.Dht.UseRelays,
            Relays = source.Dht.Relays is null ? null : [.. source.Dht.Relays],
        },
        Testnet = source.Testnet,
        TimeProvider = source.TimeProvider,
        LoggerFactory = source.LoggerFactory,
    };
}
