// The options of `pkarr relay` and how they become RelayOptions: the config file (and the environment variables
// RelayConfiguration reads) first, then --testnet's settings, then each flag, so what is typed wins over what is
// written down.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using Microsoft.Extensions.Logging;
using Pkarr.Cli.Commands.Dht;
using Pkarr.Relay;
using Pkarr.Relay.Configuration;

namespace Pkarr.Cli.Commands;

internal sealed class RelayArguments
{
    /// <summary>The log levels <c>--log-level</c> takes, by name.</summary>
    private static readonly Dictionary<string, LogLevel> LogLevels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["trace"] = Microsoft.Extensions.Logging.LogLevel.Trace,
        ["debug"] = Microsoft.Extensions.Logging.LogLevel.Debug,
        ["information"] = Microsoft.Extensions.Logging.LogLevel.Information,
        ["warning"] = Microsoft.Extensions.Logging.LogLevel.Warning,
        ["error"] = Microsoft.Extensions.Logging.LogLevel.Error,
    };

    internal Option<string?> Config { get; } = new("--config", "-c")
    {
        Description = "A TOML configuration file ([http], [mainline], [cache], [rate_limiter], [republisher], [web]). "
            + "Without one: HTTP and DHT on port 6881, an ephemeral store, rate limits of 2 requests/s. "
            + "PKARR_RELAY__<SECTION>__<KEY> environment variables override it; the flags below override both.",
        HelpName = "FILE",
    };

    internal Option<bool> Testnet { get; } = new("--testnet")
    {
        Description = $"Run a private 10-node DHT on 127.0.0.1 in this process and serve HTTP on 127.0.0.1:{HttpSettings.TestnetPort}, "
            + "without rate limits (no public network; over a config file's settings).",
    };

    internal Option<int?> HttpPort { get; } = new("--http-port")
    {
        Description = "The HTTP port (0: any free port); over [http] port.",
        HelpName = "N",
    };

    internal Option<int?> DhtPort { get; } = new("--dht-port")
    {
        Description = "The UDP port of the relay's DHT node (0: any free port; a taken port falls back to a free one); over [mainline] port.",
        HelpName = "N",
    };

    internal Option<string[]> Bootstrap { get; } = new("--bootstrap", "-b")
    {
        Description = "A DHT node to join through, HOST:PORT; repeat for more (default: the public bootstrap nodes); over [mainline] bootstrap.",
        HelpName = "HOST:PORT",
    };

    internal Option<string?> CacheDir { get; } = new("--cache-dir")
    {
        Description = "Keep the packet store in DIR/pkarr-cache (DIR is created if missing); over [cache] path.",
        HelpName = "DIR",
    };

    internal Option<LogLevel> LogLevel { get; } = new("--log-level")
    {
        Description = "The least important log lines written to standard error: trace, debug, information, warning or error.",
        HelpName = "LEVEL",
        DefaultValueFactory = _ => Microsoft.Extensions.Logging.LogLevel.Information,
        CustomParser = ParseLogLevel,
    };

    internal void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(Testnet);
        command.Options.Add(HttpPort);
        command.Options.Add(DhtPort);
        command.Options.Add(Bootstrap);
        command.Options.Add(CacheDir);
        command.Options.Add(LogLevel);
    }

    /// <summary>The relay's settings. <paramref name="environment"/> stands in for the process's environment
    /// variables (tests); null reads them.</summary>
    /// <exception cref="RelayConfigurationException">The config file or an environment variable is wrong.</exception>
    /// <exception cref="ArgumentException">A flag is wrong.</exception>
    /// <exception cref="FormatException">A bootstrap entry is not HOST:PORT.</exception>
    /// <exception cref="IOException">The cache directory cannot be created.</exception>
    internal RelayOptions ToOptions(ParseResult result, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var options = RelayConfiguration.Load(result.GetValue(Config), environment);
        bool testnet = result.GetValue(Testnet);
        if (testnet)
        {
            ApplyTestnet(options);
        }

        if (result.GetValue(HttpPort) is int httpPort)
        {
            options.Http.Port = Port("--http-port", httpPort);
        }

        if (result.GetValue(DhtPort) is int dhtPort)
        {
            options.Mainline.Port = Port("--dht-port", dhtPort);
        }

        if (result.GetValue(Bootstrap) is { Length: > 0 } bootstrap)
        {
            if (testnet)
            {
                // The relay joins its own testnet; a bootstrap list would be silently ignored.
                throw DhtErrors.OneOf("--bootstrap", "--testnet");
            }

            DhtArguments.Bootstrap(bootstrap);
            options.Mainline.Bootstrap = [.. bootstrap];
        }

        if (result.GetValue(CacheDir) is { } cacheDir)
        {
            string directory = Path.GetFullPath(cacheDir);
            Directory.CreateDirectory(directory);
            options.Cache.Path = directory;
        }

        return options;
    }

    /// <summary>The level of <c>--log-level</c>.</summary>
    internal LogLevel Level(ParseResult result) => result.GetValue(LogLevel);

    /// <summary>What <see cref="RelayOptions.ForTestnet"/> sets, over the settings of a config file: a loopback
    /// relay on its own testnet, without rate limits. The store, the republisher and the web app stay as written.</summary>
    internal static void ApplyTestnet(RelayOptions options)
    {
        var testnet = RelayOptions.ForTestnet();
        options.Testnet = testnet.Testnet;
        options.Http.Port = testnet.Http.Port;
        options.Http.BindAddress = testnet.Http.BindAddress;
        options.Mainline.Port = testnet.Mainline.Port;
        options.Mainline.BindAddress = testnet.Mainline.BindAddress;
        options.Mainline.Bootstrap = null;
        options.RateLimiter = testnet.RateLimiter;
    }

    private static int Port(string option, int port) =>
        port is >= IPEndPoint.MinPort and <= IPEndPoint.MaxPort ? port : throw CliErrors.BadPort(option, port);

    private static LogLevel ParseLogLevel(ArgumentResult result)
    {
        string value = result.Tokens.Count == 0 ? "information" : result.Tokens[0].Value;
        if (LogLevels.TryGetValue(value, out var level))
        {
            return level;
        }

        result.AddError($"--log-level must be trace, debug, information, warning or error, not '{value}'.");
        return Microsoft.Extensions.Logging.LogLevel.Information;
    }
}
