// The options of the commands that go through a PkarrClient (publish, resolve, endpoints, republish): where to
// look (DHT with --bootstrap, relays with --relay, either switched off) and the persistent cache that makes
// `--policy cache-only` mean something from one run to the next. The DHT options (--bootstrap, --timeout, --json)
// and the run (deadline, Ctrl+C, one-line errors) are the dht commands' own.
using System.CommandLine;
using Mainline;
using Pkarr.Cli.Commands.Dht;
using Pkarr.Client;

namespace Pkarr.Cli.Commands;

internal sealed class NetworkOptions
{
    /// <summary>The cache file's name inside the cache directory.</summary>
    internal const string CacheFileName = "packets.db";

    internal DhtCommonOptions Common { get; } = new();

    internal Option<string[]> Relays { get; } = new("--relay", "-r")
    {
        Description = "A relay's base URL (http or https); repeat the option for more (default: the public relays).",
        HelpName = "URL",
    };

    internal Option<bool> NoDht { get; } = new("--no-dht") { Description = "Do not use the Mainline DHT, only relays." };

    internal Option<bool> NoRelays { get; } = new("--no-relays") { Description = "Do not use relays, only the Mainline DHT." };

    internal Option<string?> CacheDir { get; } = new("--cache-dir")
    {
        Description = $"Keep the packet cache ({CacheFileName}) in this directory (default: $XDG_CACHE_HOME/pkarr, else ~/.cache/pkarr).",
        HelpName = "DIR",
    };

    internal Option<bool> NoCache { get; } = new("--no-cache") { Description = "Use no cache: neither read nor write one." };

    internal void AddTo(Command command)
    {
        Common.AddTo(command);
        command.Options.Add(Relays);
        command.Options.Add(NoDht);
        command.Options.Add(NoRelays);
        command.Options.Add(CacheDir);
        command.Options.Add(NoCache);
    }

    /// <summary>Runs <paramref name="body"/> as the dht commands run theirs, except that a timeout is a network error.</summary>
    internal Task<int> RunAsync(CliConsole console, ParseResult result, Func<DhtInvocation, Task<int>> body, CancellationToken interrupt) =>
        DhtInvocation.RunAsync(console, Common, result, body, interrupt, ExitCodes.NetworkError);

    /// <summary>The cache file the options name; null with <c>--no-cache</c>.</summary>
    internal string? CachePath(ParseResult result)
    {
        if (result.GetValue(NoCache))
        {
            if (result.GetValue(CacheDir) is not null)
            {
                throw DhtErrors.OneOf("--cache-dir", "--no-cache");
            }

            return null;
        }

        return Path.GetFullPath(Path.Combine(result.GetValue(CacheDir) ?? DefaultCacheDirectory(), CacheFileName));
    }

    /// <summary>The client options for a short-lived command: a client-mode DHT node (BEP 43: it asks, it does not
    /// serve) on any free port, loopback-bound when every bootstrap node is on loopback.</summary>
    internal PkarrClientOptions ClientOptions(DhtInvocation run, ParseResult result)
    {
        bool useDht = !result.GetValue(NoDht);
        bool useRelays = !result.GetValue(NoRelays);
        string[] relays = result.GetValue(Relays) ?? [];
        if (!useRelays && relays.Length > 0)
        {
            throw DhtErrors.OneOf("--relay", "--no-relays");
        }

        if (!useDht && !useRelays)
        {
            throw CliErrors.NoNetwork();
        }

        string? cachePath = CachePath(result);
        var options = new PkarrClientOptions
        {
            UseDht = useDht,
            Bootstrap = run.Bootstrap is null ? null : result.GetValue(Common.Bootstrap),
            DhtPort = 0,
            DhtBindAddress = DhtArguments.BindAddress(null, run.Bootstrap),
            DhtMode = DhtMode.Client,
            UseRelays = useRelays,
            Relays = relays.Length > 0 ? [.. relays.Select(RelayUrl)] : null,
            CachePath = cachePath,
        };
        if (cachePath is null)
        {
            // --no-cache: not even an in-memory cache, so that every answer comes from the network.
            options.CacheSize = 0;
        }

        return options;
    }

    /// <summary>A started client for the options; its DHT node is running (so a bad bootstrap fails here).</summary>
    internal async Task<PkarrClient> CreateClientAsync(DhtInvocation run, ParseResult result) =>
        await PkarrClient.CreateAsync(ClientOptions(run, result), run.Token).ConfigureAwait(false);

    /// <summary>$XDG_CACHE_HOME/pkarr when the variable holds an absolute path (the XDG rule: relative ones are
    /// ignored), else ~/.cache/pkarr.</summary>
    internal static string DefaultCacheDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) && Path.IsPathFullyQualified(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "pkarr");
    }

    private static Uri RelayUrl(string text) =>
        Uri.TryCreate(text.Trim(), UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw CliErrors.BadRelay(text);
}
